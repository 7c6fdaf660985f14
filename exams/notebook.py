"""The wrong-answer notebook: filled when attempts are graded, shown only where the
source session's review policy lets answers be seen and no exam still open to the
official asks the question (exams.secrecy), cleared by answering right.

A fill-in-the-blank answer not wholly right enters like a wrong choice; answers a
person marks (short answer, case analysis) never do: they have no verdict when
graded, and a partly earned essay is not a wrong answer to practise."""

from django.db import connection
from django.utils import timezone

from .grading import blank_responses
from .models import Answer, NotebookEntry, QuestionType, ReviewPolicy, SessionKind
from .models.questions import blank_accepts, normalise_blank, split_stem


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
    Open entries come with what the page shows of them (see `_describe`).
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
    if not cleared:
        _describe(official, shown)
    return shown, hidden


def _last_wrong_responses(official, entries):
    """{entry pk: the response of the official's latest wrong answer to its question
    in its session}, the one the entry's snapshot comes from. One query."""
    wanted = {(entry.question_id, entry.session_id): entry.pk for entry in entries}
    if not wanted:
        return {}
    rows = (
        Answer.objects.filter(
            attempt__official=official,
            attempt__session_id__in={session for _question, session in wanted},
            question_id__in={question for question, _session in wanted},
            is_correct=False,
        )
        .order_by("attempt__number", "pk")
        .values_list("question_id", "attempt__session_id", "response")
    )
    found = {}
    for question_id, session_id, response in rows:
        pk = wanted.get((question_id, session_id))
        if pk is not None:
            found[pk] = response  # the latest attempt's comes last
    return found


def _describe(official, entries):
    """What the page shows of each entry: `last_response`, the official's own wrong
    answer (None when it cannot be found); for fill in the blank `stem_pieces`, the
    stem's text around its blanks [(text, blank number or None)], and `blank_rows`,
    [(number, their text, the accepted answers, whether it matched)]."""
    responses = _last_wrong_responses(official, entries)
    for entry in entries:
        entry.last_response = responses.get(entry.pk)
        if entry.snapshot.get("type") != QuestionType.FILL_BLANK:
            continue
        pieces = split_stem(entry.snapshot["stem"])
        entry.stem_pieces = [
            (text, number if number < len(pieces) else None)
            for number, text in enumerate(pieces, start=1)
        ]
        given = blank_responses(entry.last_response)
        entry.blank_rows = []
        for number, accepted in enumerate(entry.snapshot.get("blanks") or [], start=1):
            text = given[number - 1] if number <= len(given) else ""
            entry.blank_rows.append((number, text, accepted, blank_accepts(accepted, text)))


def _joined_match(text, groups):
    """Whether `text` (normalised) reads as one accepted answer per group, in order."""
    if not groups:
        return not text
    for accepted in groups[0]:
        start = normalise_blank(accepted)
        if start and text.startswith(start) and _joined_match(text[len(start) :], groups[1:]):
            return True
    return False


def blanks_correct(snapshot, response):
    """Whether a practice response to a fill-in-the-blank question gets every blank
    right. The blanks' inputs share one field name: a list of their texts is read
    blank by blank; the texts joined into one (as the notebook view hands them over)
    must read as an accepted answer for each blank in turn."""
    groups = snapshot.get("blanks") or []
    if not groups:
        return False
    if isinstance(response, list | tuple):
        return len(response) == len(groups) and all(
            blank_accepts(accepted, text) for accepted, text in zip(groups, response, strict=True)
        )
    return _joined_match(normalise_blank(response), groups)


def check(entry, response, guard):
    """Mark a notebook practice answer; a right answer clears the entry. None, and
    nothing marked, for a question the guard hides: the verdict would give its key."""
    if guard.hides(entry.question_id):
        return None
    if entry.snapshot.get("type") == QuestionType.FILL_BLANK:
        correct = blanks_correct(entry.snapshot, response)
    else:
        response = "".join(sorted(set((response or "").upper())))
        correct = response == entry.snapshot["answer"]
    if correct and not entry.cleared:
        entry.cleared = True
        entry.save(update_fields=["cleared", "updated_at"])
    return correct
