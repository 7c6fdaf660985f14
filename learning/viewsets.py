from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail.users import forms as wagtail_forms
from wagtail.users.views.users import UserViewSet as WagtailUserViewSet


class _NameFieldsMixin:
    """One `name` field for Chinese names; the split first/last names are optional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in ("first_name", "last_name"):
            if field in self.fields:
                self.fields[field].required = False


class UserCreationForm(_NameFieldsMixin, wagtail_forms.UserCreationForm):
    name = forms.CharField(label=_("name"), max_length=64)

    class Meta(wagtail_forms.UserCreationForm.Meta):
        fields = wagtail_forms.UserCreationForm.Meta.fields | {"name"}

    def save(self, commit=True):
        # An administrator chose this password, so the user must replace it.
        self.instance.must_change_password = True
        return super().save(commit=commit)


class UserEditForm(_NameFieldsMixin, wagtail_forms.UserEditForm):
    name = forms.CharField(label=_("name"), max_length=64)

    class Meta(wagtail_forms.UserEditForm.Meta):
        fields = wagtail_forms.UserEditForm.Meta.fields | {"name", "must_change_password"}

    def save(self, commit=True):
        if self.password_enabled and self.cleaned_data.get("password1"):
            self.instance.must_change_password = True
        return super().save(commit=commit)


class UserViewSet(WagtailUserViewSet):
    def get_form_class(self, for_update=False):
        return UserEditForm if for_update else UserCreationForm
