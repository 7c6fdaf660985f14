"""Admin pages for urgent notices on the screens (content/urgent.py): the list of
notices with the form that starts one, and ending one early. Organizers hold the
notices' permissions (wagtail_hooks.py); anyone else in the admin gets Wagtail's
refusal."""

from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from wagtail.admin import messages
from wagtail.admin.auth import permission_denied
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from . import urgent
from .forms import ScreenNoticeForm
from .models import ScreenNotice

START_PERMISSION = "content.add_screennotice"
VIEW_PERMISSIONS = (START_PERMISSION, "content.view_screennotice")
RECENT_PAST = 20


def can_start(user):
    return user.has_perm(START_PERMISSION)


def can_view(user):
    return any(user.has_perm(name) for name in VIEW_PERMISSIONS)


class ScreenNoticesView(WagtailAdminTemplateMixin, FormView):
    """The notices showing now or later, the last ones that ended, and the form that
    starts a new one (for those who may start them)."""

    template_name = "content/admin/screen_notices.html"
    form_class = ScreenNoticeForm
    page_title = _("Urgent notices")
    header_icon = "warning"

    def dispatch(self, request, *args, **kwargs):
        if not can_view(request.user):
            return permission_denied(request)
        if request.method == "POST" and not can_start(request.user):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        now = timezone.now()
        notices = ScreenNotice.objects.select_related("created_by", "ended_by")
        current = list(notices.not_over(now).prefetch_related("screens"))
        past = list(
            notices.exclude(pk__in=[n.pk for n in current])
            .prefetch_related("screens")
            .order_by("-starts_at", "-pk")[:RECENT_PAST]
        )
        return super().get_context_data(
            current=current,
            past=past,
            can_start=can_start(self.request.user),
            **kwargs,
        )

    def form_valid(self, form):
        notice = urgent.start_notice(
            user=self.request.user,
            title=form.cleaned_data["title"],
            text=form.cleaned_data["text"],
            screens=form.chosen_screens(),
            ends_at=form.cleaned_data["ends_at"],
        )
        messages.success(
            self.request,
            gettext("The urgent notice “%(notice)s” is showing on the screens.")
            % {"notice": notice},
        )
        return redirect("screen_notices:index")


def end_notice(request, pk):
    """End a notice early (POST). A made-up id is a 404 for those who may end notices."""
    if not can_start(request.user):
        return permission_denied(request)
    notice = get_object_or_404(ScreenNotice, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if urgent.end_notice(notice, user=request.user):
        messages.success(
            request, gettext("The urgent notice “%(notice)s” was ended.") % {"notice": notice}
        )
    else:
        messages.warning(
            request,
            gettext("The urgent notice “%(notice)s” had already ended.") % {"notice": notice},
        )
    return redirect("screen_notices:index")


class NoticeMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view(request.user)


class ScreenNoticeViewSet(ViewSet):
    """Urgent notices, in the Publicity screens menu."""

    name = "screen_notices"
    url_prefix = "screen-notices"
    icon = "warning"
    menu_label = _("Urgent notices")
    menu_name = "urgent-notices"

    def get_urlpatterns(self):
        return [
            path("", ScreenNoticesView.as_view(), name="index"),
            path("<id:pk>/end/", end_notice, name="end"),
        ]

    def get_menu_item(self, order=None):
        return NoticeMenuItem(
            self.menu_label,
            reverse("screen_notices:index"),
            name=self.menu_name,
            icon_name=self.menu_icon,
            order=order if order is not None else self.menu_order,
        )
