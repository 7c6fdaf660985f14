"""The delivery log in the Wagtail admin (通知发送记录): who was sent which notice on
which channel, and what came of it. Read-only for everyone, HR and organizers
included; addresses show masked, as they are stored."""

from django.utils.translation import gettext_lazy as _

from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy

import django_filters

from ..models import Delivery, DeliveryStatus, NoticeChannel, NoticeKind


class DeliveryPermissionPolicy(ModelPermissionPolicy):
    """Deliveries are written by the notice service only: the back office looks."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


class DeliveryFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=NoticeKind.choices)
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=NoticeChannel.choices)
    status = django_filters.ChoiceFilter(label=_("status"), choices=DeliveryStatus.choices)
    created_at = django_filters.DateFromToRangeFilter(
        label=_("created at"), widget=DateRangePickerWidget
    )

    class Meta:
        model = Delivery
        fields = ["kind", "channel", "status", "created_at"]


class DeliveryViewSet(ModelViewSet):
    model = Delivery
    name = "notice_deliveries"
    icon = "mail"
    menu_label = _("Notice log")
    menu_name = "notice-log"
    url_prefix = "notices/deliveries"
    add_to_admin_menu = False
    menu_hook = "register_reports_menu_item"
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = DeliveryFilterSet
    list_display = [
        "subject",
        "kind",
        "user",
        "channel",
        "address",
        "status",
        Column("error", label=_("error")),
        DateColumn("created_at", label=_("created at")),
        DateColumn("sent_at", label=_("sent at")),
    ]
    search_fields = ["user__name", "user__username", "subject"]
    inspect_view_fields = [
        "kind",
        "subject",
        "body",
        "url",
        "sent_by",
        "user",
        "channel",
        "address",
        "status",
        "error",
        "provider_message_id",
        "created_at",
        "sent_at",
    ]
    # Our bounded id converter: a 20-digit id is a 404, not an overflow.
    pk_path_converter = "id"
    form_fields = ["status"]  # never shown: only the listing and inspect are routed
    read_only_views = {"index", "index_results", "inspect"}

    def get_urlpatterns(self):
        return [p for p in super().get_urlpatterns() if p.name in self.read_only_views]

    def get_queryset(self, request):
        return Delivery.objects.select_related("user")
