"""Form and model fields for publicity schedules."""

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

WEEKDAY_CHOICES = [
    ("1", _("Monday")),
    ("2", _("Tuesday")),
    ("3", _("Wednesday")),
    ("4", _("Thursday")),
    ("5", _("Friday")),
    ("6", _("Saturday")),
    ("7", _("Sunday")),
]


class WeekdaysFormField(forms.MultipleChoiceField):
    """Ticked weekdays in the admin; stored as ISO weekday digits, e.g. "135"."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(choices=WEEKDAY_CHOICES, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, str):
            return list(value)
        return value

    def clean(self, value):
        return "".join(sorted(set(super().clean(value))))

    def has_changed(self, initial, data):
        return self.clean_or_none(initial) != self.clean_or_none(data)

    def clean_or_none(self, value):
        if isinstance(value, str):
            value = list(value)
        return "".join(sorted(set(value or [])))


class WeekdaysField(models.CharField):
    """Days of the week a schedule applies to; empty means every day."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        return WeekdaysFormField(
            required=not self.blank,
            label=kwargs.get("label", self.verbose_name),
            help_text=self.help_text,
        )
