"""Admin forms of the learning app, and what every admin add form starts with."""

from django.utils import timezone

from wagtail.admin.forms import WagtailAdminModelForm


def this_year():
    """The current year in the site's (or the admin user's) time zone."""
    return timezone.localdate().year


class NewObjectDefaultsMixin:
    """An add form starts with the evident choice in the fields the model leaves empty
    (`new_object_initial`: {field: value or callable}), so a clerk does not face a blank
    year or a "---------" choice. Edit forms show the object as saved. The defaults live
    in the form, not the model: they change nothing stored and need no migration."""

    new_object_initial = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            return
        for name, value in self.new_object_initial.items():
            if name in self.fields and self.initial.get(name) in (None, ""):
                self.initial[name] = value() if callable(value) else value


class StudyPlanForm(NewObjectDefaultsMixin, WagtailAdminModelForm):
    """A new study plan is for this year."""

    new_object_initial = {"year": this_year}
