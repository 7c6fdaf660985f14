"""What follows once an attempt's result is final: graded on submit with nothing left
to mark, or its last hand-marked answer marked (exams.marking); and voiding a result
found invalid afterwards."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.log_actions import log

from . import certificates, notices
from .models import Attempt

VOIDED = "xuefa.attempt.void"


def register_actions(actions):
    actions.register_action(VOIDED, _("Void exam result"), _("Exam result voided"))


def on_result_final(attempt):
    """Call when `attempt` has its final score, band and pass, inside or outside a
    transaction: the certificate of a pass is issued once the result is committed."""
    if attempt.passed and attempt.voided_at is None:
        transaction.on_commit(lambda: certificates.issue_for_attempt(attempt))
    notices.result_final(attempt)  # the official hears of it once it is committed


class VoidRefused(Exception):
    """The attempt cannot be voided (in progress, or voided already)."""


def void_result(attempt, reason, user):
    """Void a finished attempt's result (someone else sat it, a breach found later):
    score, percentage, band and pass are cleared, so it counts nowhere (the total
    points stay; nothing of it is left to mark). The log keeps the old values and
    the reason; the attempt's certificate is revoked, and so are the official's
    certificates of study plans that required the exam and are no longer complete.
    Returns the attempt."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("A reason is required to void a result.")
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not attempt.is_finished:
            raise VoidRefused(_("An attempt in progress has no result to void."))
        if attempt.voided_at is not None:
            raise VoidRefused(_("This result is voided already."))
        before = {
            "score": _text(attempt.score),
            "percent": _text(attempt.percent),
            "band": attempt.band,
            "passed": attempt.passed,
            "marking_pending": attempt.marking_pending,
        }
        attempt.score = attempt.percent = attempt.passed = None
        attempt.band = ""
        attempt.marking_pending = False  # nothing left to mark on a voided result
        attempt.voided_at = timezone.now()
        attempt.void_reason = reason
        attempt.save(
            update_fields=[
                "score",
                "percent",
                "band",
                "passed",
                "marking_pending",
                "voided_at",
                "void_reason",
            ]
        )
        log(attempt, VOIDED, user=user, data={"reason": reason, "before": before})
        certificates.revoke_for_attempt(attempt, reason, user)
        certificates.recheck_plan_certificates(attempt, reason, user)
    return attempt


def _text(value):
    return None if value is None else str(value)
