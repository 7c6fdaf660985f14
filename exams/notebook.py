"""The wrong-answer notebook: filled when attempts are graded, shown only where the
source session's review policy lets answers be seen, cleared by answering right."""

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
