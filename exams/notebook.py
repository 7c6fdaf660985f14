"""The wrong-answer notebook: filled when attempts are graded, shown only where the
source session's review policy lets answers be seen, cleared by answering right."""

from django.db.models import F
from django.utils import timezone

from .models import NotebookEntry, ReviewPolicy, SessionKind


def record_wrong_answers(attempt, answers):
    """Add (or bump) an entry for every question answered wrongly in the attempt."""
    wrong = [a for a in answers if a.is_correct is False and a.question_id]
    if not wrong:
        return 0
    existing = set(
        NotebookEntry.objects.filter(
            official_id=attempt.official_id, question_id__in=[a.question_id for a in wrong]
        ).values_list("question_id", flat=True)
    )
    NotebookEntry.objects.filter(official_id=attempt.official_id, question_id__in=existing).update(
        times_wrong=F("times_wrong") + 1,
        cleared=False,
        session=attempt.session_id,
        updated_at=timezone.now(),
    )
    for answer in wrong:
        if answer.question_id in existing:
            NotebookEntry.objects.filter(
                official_id=attempt.official_id, question_id=answer.question_id
            ).update(snapshot=answer.snapshot)
    NotebookEntry.objects.bulk_create(
        [
            NotebookEntry(
                official_id=attempt.official_id,
                question_id=a.question_id,
                session_id=attempt.session_id,
                snapshot=a.snapshot,
            )
            for a in wrong
            if a.question_id not in existing
        ],
        ignore_conflicts=True,
    )
    return len(wrong)


def reviewable(session, now=None):
    if session.kind == SessionKind.PRACTICE:
        return True
    if session.review_policy == ReviewPolicy.AFTER_SUBMIT:
        return True
    if session.review_policy == ReviewPolicy.AFTER_CLOSE:
        return session.is_closed(now)
    return False


def entries_for(official, *, cleared=False, now=None):
    """Entries the official may see now (the source session allows review)."""
    entries = NotebookEntry.objects.filter(official=official, cleared=cleared).select_related(
        "session"
    )
    return [e for e in entries if reviewable(e.session, now)]


def check(entry, response):
    """Mark a notebook practice answer; a right answer clears the entry."""
    response = "".join(sorted(set((response or "").upper())))
    correct = response == entry.snapshot["answer"]
    if correct and not entry.cleared:
        entry.cleared = True
        entry.save(update_fields=["cleared", "updated_at"])
    return correct
