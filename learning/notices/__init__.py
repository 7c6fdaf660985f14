"""Notices to officials and staff on the channels the settings switch on (e-mail, SMS,
WeCom, DingTalk), with a delivery log and per-person opt-out. Other apps call
`notify(kind, users, subject=..., body=..., url=..., sent_by=...)`."""

from ..models import Delivery, DeliveryStatus, NoticeChannel, NoticeKind
from .services import (
    enabled_channels,
    notify,
    optional_channels,
    prepare,
    send_deliveries,
    send_each_now,
)

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "NoticeChannel",
    "NoticeKind",
    "enabled_channels",
    "notify",
    "optional_channels",
    "prepare",
    "send_deliveries",
    "send_each_now",
]
