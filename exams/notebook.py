"""The wrong-answer notebook: filled when attempts are graded, shown only where the
source session's review policy lets answers be seen and no exam still open to the
official asks the question (exams.secrecy), cleared by answering right."""

from django.db import connection
from django.utils import timezone

from .models import Answer, NotebookEntry, ReviewPolicy, SessionKind


def record_wrong_answers(attempt):
    """Add (or bump) an entry for every question the attempt's stored grades mark
    wrong: one INSERT ... SELECT ... ON CONFLICT statement (PostgreSQL and SQLite
    alike), so a fifty-question submit neither reads the entries first nor sends
    the snapshots back and forth. Call it after the grades are written."""
    entries = connection.ops.quote_name(NotebookEntry._meta.db_table)
    answers = connection.ops.quote_name(Answer._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # The snapshot is the latest version they got wrong; answering wrongly again
    # reopens a cleared entry.
    sql = (
        f"INSERT INTO {entries} "  # noqa: S608 - table names only
        "(official_id, question_id, session_id, snapshot, times_wrong, cleared, updated_at) "
        f"SELECT %s, question_id, %s, snapshot, 1, %s, %s FROM {answers} "
        "WHERE attempt_id = %s AND is_correct = %s AND question_id IS NOT NULL "
        "ON CONFLICT (official_id, question_id) DO UPDATE SET "
        f"times_wrong = {entries}.times_wrong + 1, cleared = excluded.cleared, "
        "session_id = excluded.session_id, snapshot = excluded.snapshot, "
        "updated_at = excluded.updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [attempt.official_id, attempt.session_id, False, now, attempt.pk, False]
        )
        return cursor.rowcount


def reviewable(session, now=None, *, closes_at=None, live=False):
    """Whether the review policy lets a person see the session's answers now. A formal
    session never while they can still answer in it (`live`, issue #18); AFTER_CLOSE
    also waits for their own window (`closes_at`, an override's). A practice is
    always reviewable: its questions are withheld one by one (exams.secrecy)."""
    if session.kind == SessionKind.PRACTICE:
        return True
    if live:
        return False
    if session.review_policy == ReviewPolicy.AFTER_SUBMIT:
        return True
    if session.review_policy == ReviewPolicy.AFTER_CLOSE:
        now = now or timezone.now()
        return now >= max(session.closes_at, closes_at or session.closes_at)
    return False


def entries_for(official, guard, *, cleared=False):
    """Entries the official may see now: the source session allows review and no
    formal exam still open to them asks the question (`guard`, exams.secrecy.guard_for).
    Returns (entries, how many are hidden)."""
    entries = NotebookEntry.objects.filter(official=official, cleared=cleared).select_related(
        "session"
    )
    shown, hidden = [], 0
    for entry in entries:
        if not guard.reviewable(entry.session):
            continue
        if guard.hides(entry.question_id):
            hidden += 1
        else:
            shown.append(entry)
    return shown, hidden


def check(entry, response, guard):
    """Mark a notebook practice answer; a right answer clears the entry. None, and
    nothing marked, for a question the guard hides: the verdict would give its key."""
    if guard.hides(entry.question_id):
        return None
    response = "".join(sorted(set((response or "").upper())))
    correct = response == entry.snapshot["answer"]
    if correct and not entry.cleared:
        entry.cleared = True
        entry.save(update_fields=["cleared", "updated_at"])
    return correct
