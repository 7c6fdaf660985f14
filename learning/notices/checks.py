"""Deployment checks for the notice settings: a misspelt channel, notice kind or SMS
gateway would otherwise switch notices off without a word (services.enabled_channels
skips names it does not know, and an unknown gateway fails each delivery later)."""

from django.conf import settings
from django.core import checks

from ..models import NoticeKind
from .backends import BACKENDS, SMS_GATEWAYS


def _unknown(names, known):
    return sorted({str(name) for name in names} - {str(k) for k in known})


@checks.register(checks.Tags.compatibility)
def check_notice_settings(app_configs=None, **kwargs):
    errors = []
    channels = getattr(settings, "XUEFA_NOTICE_CHANNELS", ["email"])
    if unknown := _unknown(channels, BACKENDS):
        errors.append(
            checks.Error(
                f"XUEFA_NOTICE_CHANNELS names unknown channels: {', '.join(unknown)}.",
                hint=f"Known channels: {', '.join(BACKENDS)}.",
                id="learning.E004",
            )
        )
    kinds = getattr(settings, "XUEFA_NOTICE_CHANNEL_KINDS", {})
    if unknown := _unknown(kinds, BACKENDS):
        errors.append(
            checks.Error(
                f"XUEFA_NOTICE_CHANNEL_KINDS has unknown channels: {', '.join(unknown)}.",
                hint=f"Known channels: {', '.join(BACKENDS)}.",
                id="learning.E005",
            )
        )
    for channel, channel_kinds in kinds.items():
        if unknown := _unknown(channel_kinds, NoticeKind.values):
            errors.append(
                checks.Error(
                    f"XUEFA_NOTICE_CHANNEL_KINDS[{channel!r}] names unknown notice kinds: "
                    f"{', '.join(unknown)}.",
                    hint=f"Known kinds: {', '.join(NoticeKind.values)}.",
                    id="learning.E006",
                )
            )
    gateway = getattr(settings, "XUEFA_SMS_BACKEND", "http")
    if "sms" in channels and gateway not in SMS_GATEWAYS:
        errors.append(
            checks.Error(
                f"XUEFA_SMS_BACKEND {gateway!r} is not a known SMS gateway.",
                hint=f"Known gateways: {', '.join(SMS_GATEWAYS)}.",
                id="learning.E007",
            )
        )
    return errors
