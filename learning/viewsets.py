from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.users import forms as wagtail_forms
from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from .models import Department, Official


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


class DepartmentForm(WagtailAdminModelForm):
    """Departments form a tree: the form picks the parent and lets treebeard place
    the node (a new root when no parent is chosen)."""

    parent = forms.ModelChoiceField(
        label=_("parent department"),
        queryset=Department.objects.all(),
        required=False,
        help_text=_("Leave empty for a top-level unit."),
    )

    class Meta:
        model = Department
        fields = ["name", "short_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk:
            self.fields["parent"].initial = instance.get_parent()
            self.fields["parent"].queryset = Department.objects.exclude(
                path__startswith=instance.path
            )
        self.fields["parent"].label_from_instance = lambda d: "— " * (d.depth - 1) + d.name

    def save(self, commit=True):
        instance = self.instance
        parent = self.cleaned_data.get("parent")
        if instance.pk is None:
            if parent is None:
                return Department.add_root(instance=instance)
            parent.refresh_from_db()
            return parent.add_child(instance=instance)
        instance.save()
        current_parent = instance.get_parent()
        if parent != current_parent:
            if parent is None:
                instance.move(Department.get_first_root_node(), "sorted-sibling")
            else:
                instance.move(parent, "sorted-child")
            instance.refresh_from_db()
        return instance


class DepartmentViewSet(ModelViewSet):
    model = Department
    name = "departments"
    icon = "folder-inverse"
    menu_label = _("Departments")
    menu_order = 100
    list_display = ["indented_name", "short_name"]
    search_fields = ["name", "short_name"]
    add_to_reference_index = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return DepartmentForm


class OfficialFilterSet(WagtailFilterSet):
    class Meta:
        model = Official
        fields = ["department", "is_leader"]


class OfficialIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user", "department")


class OfficialViewSet(ModelViewSet):
    model = Official
    name = "officials"
    icon = "user"
    menu_label = _("Officials")
    menu_order = 200
    list_display = ["user", "staff_number", "department", "position", "rank", "is_leader"]
    list_export = ["name", "staff_number", "department", "position", "rank", "is_leader", "mobile"]
    export_filename = "officials"
    filterset_class = OfficialFilterSet
    search_fields = ["staff_number", "user__name", "position", "department__name"]
    form_fields = ["department", "position", "rank", "is_leader", "mobile"]
    add_to_reference_index = False
    inspect_view_enabled = True
    copy_view_enabled = False

    index_view_class = OfficialIndexView
