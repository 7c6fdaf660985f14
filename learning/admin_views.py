"""Back-office screens for HR: importing the roster."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, View

from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from . import roster
from .spreadsheets import XLSX, xlsx_response

CREDENTIALS_SESSION_KEY = "roster_credentials"


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Roster file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}),
    )


class _ImportPermissionMixin:
    permission = "learning.import_roster"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class RosterImportView(_ImportPermissionMixin, WagtailAdminTemplateMixin, FormView):
    """Upload a roster; show every problem, or what was created and updated."""

    page_title = gettext_lazy("Import roster")
    header_icon = "group"
    template_name = "learning/admin/roster_import.html"
    form_class = RosterUploadForm

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.page_title}]

    def form_valid(self, form):
        try:
            result = roster.import_roster(form.cleaned_data["file"])
        except roster.RosterError as error:
            return self.render_to_response(
                self.get_context_data(form=form, problems=error.problems)
            )
        created = [(o.user.name, o.staff_number, password) for o, password in result.created]
        # The initial passwords are shown once and downloadable once, then forgotten.
        self.request.session[CREDENTIALS_SESSION_KEY] = created
        messages.success(
            self.request,
            _("Roster imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "created": len(result.created),
                "updated": len(result.updated),
                "unchanged": result.unchanged,
            },
        )
        return self.render_to_response(
            self.get_context_data(form=RosterUploadForm(), result=result, created=created)
        )


class RosterTemplateView(_ImportPermissionMixin, View):
    def get(self, request):
        return xlsx_response(roster.template_workbook(), "roster-template.xlsx")


class RosterCredentialsView(_ImportPermissionMixin, View):
    """One download of the initial passwords from the import just made."""

    def post(self, request):
        created = request.session.pop(CREDENTIALS_SESSION_KEY, None)
        if not created:
            raise Http404
        return xlsx_response(roster.credentials_workbook(created), "initial-passwords.xlsx")


class _PermissionMenuItem(MenuItem):
    def __init__(self, *args, permission, **kwargs):
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_shown(self, request):
        return request.user.has_perm(self.permission)


class RosterImportViewSet(ViewSet):
    name = "roster"
    icon = "upload"
    menu_label = gettext_lazy("Import roster")
    menu_order = 300

    def get_urlpatterns(self):
        return [
            path("", RosterImportView.as_view(), name="import"),
            path("template/", RosterTemplateView.as_view(), name="template"),
            path("credentials/", RosterCredentialsView.as_view(), name="credentials"),
        ]

    @property
    def menu_url(self):
        return reverse(self.get_url_name("import"))

    def get_menu_item(self, order=None):
        return _PermissionMenuItem(
            self.menu_label,
            self.menu_url,
            name=self.menu_name,
            icon_name=self.menu_icon,
            order=order or self.menu_order,
            permission=RosterImportView.permission,
        )
