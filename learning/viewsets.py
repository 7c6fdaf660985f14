from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import CreateView, DeleteView, EditView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.users import forms as wagtail_forms
from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from .forms import NewObjectDefaultsMixin, this_year
from .models import Department, Official, ReportScope, StudyExemption
from .report_scope import visible_officials


class YesNoColumn(Column):
    """A yes/no field in words of the user's language (Wagtail's boolean column shows
    an icon titled "True"/"False", in English)."""

    def get_value(self, instance):
        return _("Yes") if super().get_value(instance) else _("No")


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
    list_display = [
        "user",
        "staff_number",
        "department",
        "position",
        "rank",
        YesNoColumn("is_leader", label=_("Leader")),
    ]
    list_export = ["name", "staff_number", "department", "position", "rank", "is_leader", "mobile"]
    export_filename = "officials"
    filterset_class = OfficialFilterSet
    search_fields = ["staff_number", "user__name", "position", "department__name"]
    form_fields = ["department", "position", "rank", "is_leader", "mobile", "joined_on"]
    add_to_reference_index = False
    inspect_view_enabled = True
    # The digest only finds a sealed mobile number; it means nothing to a person.
    inspect_view_fields_exclude = ["mobile_digest"]
    copy_view_enabled = False

    index_view_class = OfficialIndexView


class StudyExemptionForm(NewObjectDefaultsMixin, WagtailAdminModelForm):
    new_object_initial = {"year": this_year}

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        officials = Official.objects.select_related("user").order_by("staff_number")
        if for_user is not None:
            officials = visible_officials(for_user, officials)
        self.fields["official"].queryset = officials

    class Meta:
        model = StudyExemption
        fields = ["official", "year", "reason"]


class StudyExemptionCreateView(CreateView):
    def save_instance(self):
        self.form.instance.created_by = self.request.user
        return super().save_instance()


class StudyExemptionIndexView(IndexView):
    def get_base_queryset(self):
        queryset = super().get_base_queryset().select_related("official__user", "created_by")
        return queryset.filter(
            official__in=visible_officials(self.request.user, Official.objects.all())
        )


class _ScopedExemptionMixin:
    """A user limited to a department subtree reaches only its officials' exemptions."""

    def get_queryset(self):
        officials = visible_officials(self.request.user, Official.objects.all())
        return StudyExemption.objects.filter(official__in=officials)


class StudyExemptionEditView(_ScopedExemptionMixin, EditView):
    pass


class StudyExemptionDeleteView(_ScopedExemptionMixin, DeleteView):
    pass


class StudyExemptionViewSet(ModelViewSet):
    """Exemptions from a year's study requirements (免学), kept by HR and organizers;
    learning.completion counts an exempted official complete for that year."""

    model = StudyExemption
    name = "study_exemptions"
    pk_path_converter = "id"  # bounded ids (learning/converters.py)
    icon = "clipboard-list"
    menu_label = _("Study exemptions")
    menu_order = 300
    list_display = ["official", "year", "reason", "created_by", "created_at"]
    list_filter = ["year"]
    search_fields = ["official__staff_number", "official__user__name", "reason"]
    add_to_reference_index = False
    inspect_view_enabled = False
    copy_view_enabled = False
    index_view_class = StudyExemptionIndexView
    add_view_class = StudyExemptionCreateView
    edit_view_class = StudyExemptionEditView
    delete_view_class = StudyExemptionDeleteView

    def get_form_class(self, for_update=False):
        return StudyExemptionForm


class ReportScopeViewSet(ModelViewSet):
    """Superusers limit a back-office user's reports to one department subtree. Nobody
    else holds the learning.*_reportscope permissions, so only superusers see it."""

    model = ReportScope
    name = "report_scopes"
    icon = "lock"
    menu_label = _("Report scopes")
    menu_order = 400
    list_display = ["user", "department"]
    form_fields = ["user", "department"]
    search_fields = ["user__username", "user__name", "department__name"]
    add_to_reference_index = False
    inspect_view_enabled = False
    copy_view_enabled = False
