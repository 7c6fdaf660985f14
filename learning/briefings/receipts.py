"""Confirming a 明白纸 (已读): the signed-in official confirms for themself, once, while
the sheet is live, within its validity and meant for them. The check questions'
answers are kept with the receipt and counted, but nothing is passed or failed: the
page then shows every question with its right answer and the reason.

Confirming is idempotent: a double submit, or two tabs, keep the first receipt. Each
confirmation is written to Wagtail's log of the sheet, with where it came from."""

import dataclasses

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.log_actions import log

from .models import BriefingReceipt

CONFIRMED = "xuefa.briefings.confirmed"
USER_AGENT_CHARS = 300


def register_log_actions(actions):
    actions.register_action(
        CONFIRMED,
        gettext_lazy("Confirm briefing sheet"),
        gettext_lazy("Briefing sheet confirmed as read"),
    )


class BriefingRefused(Exception):
    """The confirmation cannot be taken; the message is for the person."""


@dataclasses.dataclass
class Confirmed:
    receipt: BriefingReceipt
    created: bool


def refusal(sheet, official, day):
    """Why `official` may not confirm `sheet` on `day`, or None."""
    if official is None:
        return _("Only officials confirm briefing sheets.")
    if not sheet.live:
        return _("This briefing sheet is not published.")
    if not sheet.is_valid_on(day):
        return _("This briefing sheet is not in force today.")
    if not sheet.is_for(official):
        return _("This briefing sheet is not meant for you.")
    return None


def checked_answers(sheet, answers):
    """({question id: letter}, number right) of `answers` (a mapping of "q<id>" or
    "<id>" to a letter): questions of other sheets and unknown letters are dropped."""
    kept, right = {}, 0
    for question in sheet.questions.all():
        given = answers.get(f"q{question.pk}") or answers.get(str(question.pk)) or ""
        if given in dict(question.options):
            kept[str(question.pk)] = given
            right += given == question.correct
    return kept, right


def confirm(sheet, user, answers, request_meta=None, now=None):
    """Confirm `sheet` as read by `user` (the signed-in person, never anyone named in
    a request) with their `answers`. Returns Confirmed(receipt, created); a repeat
    returns the first receipt unchanged. Raises BriefingRefused when the sheet is not
    live, out of its validity, or not for them."""
    now = now or timezone.now()
    official = getattr(user, "official", None)
    reason = refusal(sheet, official, timezone.localdate(now))
    if reason:
        raise BriefingRefused(reason)
    existing = BriefingReceipt.objects.filter(sheet=sheet, official=official).first()
    if existing is not None:
        return Confirmed(existing, created=False)
    kept, right = checked_answers(sheet, answers or {})
    meta = request_meta or {}
    receipt = BriefingReceipt(
        sheet=sheet,
        official=official,
        confirmed_at=now,
        answers=kept,
        correct=right,
        client_ip=meta.get("ip") or None,
        user_agent=(meta.get("user_agent") or "")[:USER_AGENT_CHARS],
    )
    try:
        with transaction.atomic():
            receipt.save()
            log(
                sheet,
                CONFIRMED,
                user=user,
                data={
                    "official": official.pk,
                    "correct": right,
                    "questions": len(kept),
                    "ip": receipt.client_ip,
                },
            )
    except IntegrityError:  # a concurrent confirmation won the unique constraint
        return Confirmed(BriefingReceipt.objects.get(sheet=sheet, official=official), False)
    return Confirmed(receipt, created=True)
