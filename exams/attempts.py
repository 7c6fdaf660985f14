"""The attempt engine: start (draw and freeze once), save answers against the
server's clock, submit exactly once, and submit expired attempts automatically.

Transitions are guarded in the database so they hold with many app processes:
a partial unique constraint allows one in-progress attempt per person and session,
submit is a conditional UPDATE on the state (only one caller wins), and saves lock
the attempt row so a save never slips in after grading has read the answers.
Deadlines follow later changes to the session and its overrides (refresh_deadlines)
through a conditional UPDATE of the same kind."""

import dataclasses
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learning import fast
from learning.fast.memo import Frozen
from learning.models import Official

from . import gate, grading, paper_cache, results
from .models import (
    Answer,
    Attempt,
    AttemptState,
    DeviceRule,
    ExamSession,
    QuestionType,
    SessionKind,
    SessionOverride,
)
from .models.questions import (
    CHOICE_TYPES,
    FALSE,
    MANUAL_TYPES,
    OPTION_LETTERS,
    TRUE,
    blank_count,
)
from .notebook import record_wrong_answers, reviewable
from .papers import PaperError, draw


class ExamError(Exception):
    """A refusal the person should read: the message is translated."""


class AttemptClosed(ExamError):
    """The attempt no longer accepts answers (submitted, or past deadline and grace)."""


class DeviceLocked(ExamError):
    """The attempt is bound to another browser (the session keeps an attempt to one
    device; see exams.integrity). `can_take_over`: this browser may take it over."""

    def __init__(self, message, can_take_over=False):
        super().__init__(message)
        self.can_take_over = can_take_over


def device_locked_error(device_rule):
    """The refusal a browser gets when the attempt is bound to another one."""
    if device_rule == DeviceRule.TAKE_OVER:
        return DeviceLocked(
            _(
                "This exam is open in another browser. You can continue here instead: "
                "the other browser is then locked. Answers already saved are kept."
            ),
            can_take_over=True,
        )
    return DeviceLocked(
        _(
            "This exam is open on another device, and this exam allows only one. Ask "
            "the exam organizer to allow this device. Answers already saved are kept."
        )
    )


def other_device(attempt_device, device_rule, device):
    """Whether a request from `device` must be refused: the attempt is bound to a
    different browser under a one-device rule."""
    return device_rule != DeviceRule.ANY and bool(attempt_device) and attempt_device != device


@dataclass(frozen=True)
class Terms:
    """A session's window, time and attempts for one person, overrides applied."""

    opens_at: datetime
    closes_at: datetime
    minutes: int
    attempts_allowed: int


def terms_for(session, override=None):
    if override is None:
        return Terms(
            session.opens_at, session.closes_at, session.duration_minutes, session.attempts_allowed
        )
    return Terms(
        override.opens_at or session.opens_at,
        override.closes_at or session.closes_at,
        session.duration_minutes + override.extra_minutes,
        session.attempts_allowed + override.extra_attempts,
    )


def deadline_for(started_at, terms):
    """An attempt's deadline: its time from the start, but never after the window closes."""
    return min(started_at + timedelta(minutes=terms.minutes), terms.closes_at)


def override_for(session, official):
    return SessionOverride.objects.filter(session=session, official=official).first()


def entry_closes_at(session, terms):
    """When the last start is allowed for a person (their window's opening plus the
    session's entry cut-off), or None without a cut-off."""
    if session.entry_cutoff_minutes is None:
        return None
    return terms.opens_at + timedelta(minutes=session.entry_cutoff_minutes)


def grace():
    return timedelta(seconds=settings.XUEFA_EXAM_GRACE_SECONDS)


def is_expired(attempt, now=None):
    """Past the deadline and the grace period for in-flight saves."""
    return (now or timezone.now()) > attempt.deadline + grace()


def is_assigned(session, official):
    """Whether the official must (or may) sit the session. A make-up also reaches
    everyone who was expected at the original session and has not passed it."""
    if session.for_everyone or (session.for_leaders and official.is_leader):
        return True  # what audience_of would find, without asking the database
    if ExamSession.objects.audience_of(official).filter(pk=session.pk).exists():
        return True
    original = session.makes_up
    if original is None or not is_assigned(original, official):
        return False
    return not has_passed(original, official)


def has_passed(session, official):
    result = grading.counting_attempt(
        session, list(Attempt.objects.filter(session=session, official=official))
    )
    return bool(result and result.passed)


def build_paper(session, paper, seed, source=None):
    """[(question, points, option order)] for an attempt: the draw, then the question
    and option shuffles, all from one seed so the same seed gives the same paper.
    `source` (see paper_cache) stands in for `paper` and the bank."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    drawn = draw(paper, rng, source)
    if session.shuffle_questions:
        rng.shuffle(drawn)
    built = []
    for question, points in drawn:
        # Only choices have options to order (a text question's stray cells have none).
        letters = "".join(question.options) if question.type in CHOICE_TYPES else ""
        if session.shuffle_options and question.type != QuestionType.TRUE_FALSE:
            letters = "".join(rng.sample(letters, len(letters)))
        built.append((question, points, letters))
    return built


def _practice_source(session, source, avoid, seed):
    """A practice's random paper drawn from the bank without `avoid`, when that bank
    can fill it; otherwise the paper as it is."""
    if not avoid or not session.is_practice or not source.rules:
        return source
    narrowed = dataclasses.replace(source, bank=[q for q in source.bank if q.pk not in avoid])
    try:
        draw(None, random.Random(seed), narrowed)  # noqa: S311 - only checks it can be filled
    except PaperError:
        return source
    return narrowed


def paper_id_for(session, official):
    """The paper the official sits in the session (leaders may have their own)."""
    if session.leader_paper_id and official.is_leader:
        return session.leader_paper_id
    return session.paper_id


def start_attempt(session, official, now=None, device="", avoid=frozenset()):
    """The person's attempt in progress, or a new one. A reload, a second device or
    a concurrent request gets the same attempt; a new one is drawn and frozen once.
    The paper and its questions come from paper_cache, so a start reads only what is
    the official's own (attempts, assignment, override) and writes the attempt and
    its answers in one INSERT each, however long the paper. `device` (see
    integrity.device_of) binds the new attempt to a browser when the session keeps
    attempts to one device. `avoid`: question ids a practice should not draw when its
    rules can be filled without them (those an exam still open to the official asks,
    exams.secrecy: their feedback would be withheld)."""
    now = now or timezone.now()
    mine = list(Attempt.objects.filter(session=session, official=official))
    current = next((a for a in mine if a.state == AttemptState.IN_PROGRESS), None)
    if current is not None and not expire_if_due(current, now):
        return current
    terms = _terms_to_start(session, official, len(mine), now)
    paper_id = paper_id_for(session, official)
    seed = secrets.randbits(48)
    built = _drawn_paper(session, paper_id, seed, avoid)
    return _create_attempt(
        session,
        official,
        paper_id=paper_id,
        number=max((a.number for a in mine), default=0) + 1,
        seed=seed,
        built=built,
        now=now,
        deadline=deadline_for(now, terms),
        device=device,
    )


def _terms_to_start(session, official, used, now):
    """The official's Terms when they may start a new attempt now, having used `used`;
    otherwise ExamError saying why not (not assigned, gated, outside the window or past
    the entry cut-off, no attempts left)."""
    if not is_assigned(session, official):
        raise ExamError(_("This exam is not assigned to you."))
    blocked = gate.blockers(session, official)
    if blocked:
        raise ExamError(blocked[0].message)
    terms = terms_for(session, override_for(session, official))
    if now < terms.opens_at:
        raise ExamError(_("This exam has not opened yet."))
    if now >= terms.closes_at:
        raise ExamError(_("This exam has closed."))
    entry_closes = entry_closes_at(session, terms)
    if entry_closes is not None and now > entry_closes:
        raise ExamError(
            _(
                "Entry to this exam closed at %(time)s: no start later than %(minutes)s "
                "minutes after it opens."
            )
            % {
                "time": timezone.localtime(entry_closes).strftime("%H:%M"),
                "minutes": session.entry_cutoff_minutes,
            }
        )
    if used >= terms.attempts_allowed:
        raise ExamError(_("You have used all your attempts for this exam."))
    return terms


def _drawn_paper(session, paper_id, seed, avoid):
    """The new attempt's paper (see build_paper) from paper_cache's copy of the paper."""
    try:
        return build_paper(
            session,
            None,
            seed,
            _practice_source(session, paper_cache.paper_source(paper_id), avoid, seed),
        )
    except PaperError:
        # The bank shrank after the paper was saved (questions deactivated or deleted).
        raise ExamError(
            _(
                "This exam cannot be started: the question bank no longer has enough "
                "questions for its paper. Please tell the exam organizer."
            )
        ) from None


def _create_attempt(session, official, *, paper_id, number, seed, built, now, deadline, device):
    """Write the attempt and its answers, or return the attempt in progress that a
    concurrent start (another tab, a double click) wrote first."""
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                session=session,
                official=official,
                paper_id=paper_id,
                number=number,
                seed=seed,
                started_at=now,
                deadline=deadline,
                max_score=sum(points for _q, points, _o in built),
                device=device if session.device_rule != DeviceRule.ANY else "",
            )
            _insert_answers(attempt.pk, built)
    except IntegrityError:
        # Someone (another tab, a double click) started it a moment ago.
        existing = Attempt.objects.in_progress().filter(session=session, official=official).first()
        if existing is None:
            raise ExamError(_("The exam could not be started; please try again.")) from None
        return existing
    return attempt


# The rows of an attempt's answers travel as one JSON document, [[position,
# question id, snapshot, option order, points], ...], unpacked by the database.
_INSERT_ANSWERS = {
    "postgresql": (
        "INSERT INTO {table} "
        "(attempt_id, position, question_id, snapshot, option_order, points, response) "
        "SELECT %s, (r->>0)::integer, (r->>1)::bigint, r->2, r->>3, (r->>4)::numeric, '' "
        "FROM jsonb_array_elements(%s::jsonb) AS r"
    ),
    "sqlite": (
        "INSERT INTO {table} "
        "(attempt_id, position, question_id, snapshot, option_order, points, response) "
        "SELECT %s, json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
        "json_extract(value, '$[2]'), json_extract(value, '$[3]'), "
        "json_extract(value, '$[4]'), '' FROM json_each(%s)"
    ),
}


def _insert_answers(attempt_id, built):
    """The attempt's answer rows (`built` over paper_cache's FrozenQuestions) in one
    INSERT with two parameters: the rows as one JSON document, built from each
    snapshot's JSON as paper_cache serialized it once per question version. Fifty
    rows as VALUES took 300 parameters, which cost the driver and the database more
    than the rest of the start; Django's bulk_create sends PostgreSQL arrays, whose
    literal quoting of 50 JSON documents cost more still."""
    ops = connection.ops
    rows = ",".join(
        f"[{position},{question.pk},{question.frozen_json},{json.dumps(order)},"
        f'"{ops.adapt_decimalfield_value(points, 5, 2)}"]'
        for position, (question, points, order) in enumerate(built, start=1)
    )
    table = ops.quote_name(Answer._meta.db_table)
    sql = _INSERT_ANSWERS[connection.vendor].format(table=table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [attempt_id, f"[{rows}]"])


def _shown_order(answer):
    """The bank letters in the order the person saw them (A, B, C… on the page)."""
    return answer.option_order or "".join(answer.snapshot.get("options") or {})


# What one blank and one written answer (short answer, case analysis) may hold.
BLANK_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5000


def blanks_of(snapshot):
    """How many blanks a fill-in-the-blank question shows (the page puts an input at
    each blank of its stem, questions.split_stem); 0 for every other type."""
    if snapshot["type"] != QuestionType.FILL_BLANK:
        return 0
    return blank_count(snapshot["stem"])


def clean_response(answer, response, shown=False):
    """The response as stored (see _clean): for choice types bank letters, sorted,
    refusing letters the question lacks; `shown`: the letters are those the page
    displayed (all that comes from the browser), mapped here through the answer's
    option order. Fill in the blank and written answers are text (see _clean)."""
    snapshot = answer.snapshot
    qtype = snapshot["type"]
    lettered = qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE)
    order = _shown_order(answer) if lettered else ""
    return _clean(qtype, order, response, shown, blanks=blanks_of(snapshot))


def _clean(qtype, order, response, shown=False, blanks=0):
    """The response as Answer.response stores it, or ExamError. `response` is what a
    browser sent: a string (a save), or a list of a form field's values (the submit
    form). Choice types: option letters (see _clean_letters). Fill in the blank: the
    texts per blank (`blanks` of them) as a JSON array, see _clean_blanks. Short answer
    and case analysis: the text as written, see _clean_text."""
    if qtype == QuestionType.FILL_BLANK:
        return _clean_blanks(response, blanks)
    if qtype in MANUAL_TYPES:
        return _clean_text(response)
    if isinstance(response, list | tuple):
        response = "".join(str(value) for value in response)
    return _clean_letters(qtype, order, response, shown)


def _clean_letters(qtype, order, response, shown=False):
    """`order` is the question's bank letters as shown; with `shown`, the response's
    letters are positions in it (A for the first option shown), turned into bank
    letters, so the page never needs to know which bank letter an option has."""
    response = "".join(sorted(set((response or "").strip().upper())))
    if not response:
        return ""
    if qtype == QuestionType.TRUE_FALSE:
        allowed = {TRUE, FALSE}
    else:
        allowed = set(OPTION_LETTERS[: len(order)] if shown else order)
    if not set(response) <= allowed or (qtype != QuestionType.MULTIPLE and len(response) > 1):
        raise ExamError(_("That is not a valid answer to this question."))
    if shown and qtype != QuestionType.TRUE_FALSE:
        response = "".join(sorted(order[OPTION_LETTERS.index(c)] for c in response))
    return response


def _storable(text):
    """Text as a database keeps it: no NUL characters (PostgreSQL refuses them), no
    unpaired surrogates (no UTF-8 for them; a JSON escape can make one), each line
    break one LF (a form sends CR LF, which would count twice against the limits)."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return text.encode("utf-8", "replace").decode("utf-8")


def _clean_blanks(response, blanks):
    """A fill-in-the-blank response as stored: json.dumps of exactly `blanks` stripped
    texts, each at most BLANK_MAX_LENGTH characters; "" when every blank is empty (an
    unanswered question, as for any type). The page sends the texts as a JSON array
    string; the submit form as the list of its inputs' values."""
    texts = response
    if isinstance(response, str):
        if not response.strip():
            return ""
        try:
            texts = json.loads(response)
        except ValueError:
            texts = None
    if not isinstance(texts, list | tuple) or not all(isinstance(t, str) for t in texts):
        raise ExamError(_("That is not a valid answer to this question."))
    if len(texts) != blanks:
        raise ExamError(
            ngettext(
                "This question has %(count)s blank; the answer gave %(given)s.",
                "This question has %(count)s blanks; the answer gave %(given)s.",
                blanks,
            )
            % {"count": blanks, "given": len(texts)}
        )
    texts = [_storable(text).strip() for text in texts]
    if any(len(text) > BLANK_MAX_LENGTH for text in texts):
        raise ExamError(
            _("A blank takes at most %(count)s characters.") % {"count": BLANK_MAX_LENGTH}
        )
    if not any(texts):
        return ""
    return json.dumps(texts, ensure_ascii=False)


def _clean_text(response):
    """A written answer (short answer, case analysis) as stored: the text as written,
    line breaks kept, at most TEXT_MAX_LENGTH characters; "" when it is only blank
    space. The submit form sends it as its textarea's one value."""
    if isinstance(response, list | tuple):
        if len(response) != 1 or not isinstance(response[0], str):
            raise ExamError(_("That is not a valid answer to this question."))
        response = response[0]
    text = _storable(response or "")
    if len(text) > TEXT_MAX_LENGTH:
        raise ExamError(
            _(
                "Your answer has %(length)s characters; at most %(count)s are accepted. "
                "Shorten it to save it."
            )
            % {"length": len(text), "count": TEXT_MAX_LENGTH}
        )
    return text if text.strip() else ""


def _displayed(qtype, order, response):
    """Bank letters → the letters the page displays for them, for replies to the page;
    a text response (blanks, a written answer) as it is."""
    if qtype not in CHOICE_TYPES or qtype == QuestionType.TRUE_FALSE:
        return response
    return "".join(sorted(OPTION_LETTERS[order.index(c)] for c in response if c in order))


# What a save reads: enough to check the attempt and the response, nothing more.
SAVE_FIELDS = (
    "position",
    "snapshot",
    "option_order",
    "points",
    "attempt__state",
    "attempt__deadline",
    "attempt__device",
    "attempt__session__device_rule",
    "attempt__session_id",
    "attempt__session__kind",
)


def save_answer(
    attempt_id,
    official,
    position,
    response,
    now=None,
    session_id=None,
    user_id=None,
    shown=False,
    device="",
):
    """Save one response, in bank letters, or with `shown` in the letters the page
    displayed (what the browser sends; see clean_response). Refused once the attempt
    is submitted, or after the deadline plus a short grace period for requests
    already in flight. Raises Attempt.DoesNotExist when the attempt is not this
    official's (or, when given, not in that session); `user_id` may stand in for
    `official` to spare a query.
    One locking SELECT (answer with its attempt) and one UPDATE, however long the paper."""
    now = now or timezone.now()
    mine = {"attempt_id": attempt_id}
    if user_id is not None:
        mine["attempt__official__user_id"] = user_id
    else:
        mine["attempt__official"] = official
    if session_id is not None:
        mine["attempt__session_id"] = session_id
    with transaction.atomic():
        try:
            answer = (
                Answer.objects.select_for_update(of=("attempt",))
                .select_related("attempt__session")
                .only(*SAVE_FIELDS)
                .get(position=position, **mine)
            )
        except Answer.DoesNotExist:
            if not Answer.objects.filter(**mine).exists():
                raise Attempt.DoesNotExist from None
            raise ExamError(_("This question is not part of the attempt.")) from None
        attempt = answer.attempt
        if attempt.state != AttemptState.IN_PROGRESS:
            raise AttemptClosed(_("This attempt has been submitted; answers can no longer change."))
        if is_expired(attempt, now):
            raise AttemptClosed(_("Time is up: answers saved after the deadline are not accepted."))
        if other_device(attempt.device, attempt.session.device_rule, device):
            raise device_locked_error(attempt.session.device_rule)
        answer.response = clean_response(answer, response, shown)
        answer.saved_at = now
        Answer.objects.filter(pk=answer.pk).update(response=answer.response, saved_at=now)
    return answer


# How long the frozen paper of an attempt (what a save checks a response against)
# stays in the cache; longer than any sitting.
PAPER_CACHE_SECONDS = 12 * 60 * 60


def _read_paper(attempt_id):
    """What saves check against, from the cache or the database; None for an attempt
    that does not exist. With the fast paths off, from the database."""
    # v2: the letters in the order shown; v3: each question's blank count.
    key = f"xuefa:attempt-paper:v3:{attempt_id}"
    paper = cache.get(key) if fast.enabled() else None
    if paper is None:
        rows = Answer.objects.filter(attempt_id=attempt_id).values_list(
            "pk",
            "position",
            "snapshot",
            "option_order",
            "attempt__official__user_id",
            "attempt__session_id",
            "attempt__session__kind",
        )
        paper = {"questions": {}}
        for pk, position, snapshot, order, user_id, session_id, kind in rows:
            qtype = snapshot["type"]
            if qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE):
                order = order or "".join(snapshot.get("options") or {})
            else:
                order = ""
            paper["questions"][position] = (pk, qtype, order, blanks_of(snapshot))
            practice = kind == SessionKind.PRACTICE
            paper.update(user_id=user_id, session_id=session_id, practice=practice)
        if not paper["questions"]:
            return None
        if fast.enabled():
            cache.set(key, paper, PAPER_CACHE_SECONDS)
    return paper


# Papers this process has read, by attempt id (learning.fast.memo.Frozen), so most
# saves skip even the cache's round trip. An attempt's paper never changes; an
# attempt created under an id seen before (SQLite reuses the ids of rolled-back
# rows) drops its entry (exams/signals.py).
_papers = Frozen(_read_paper)


def forget_paper(attempt_id):
    _papers.forget(attempt_id)


def frozen_paper(attempt_id):
    """What saves check against: the attempt's owner (user id), session, whether it is
    a practice, and per position the answer id, question type and option letters in
    the order shown (to map the page's letters to the bank's) and the blanks of a
    fill-in-the-blank question (how many texts its response holds). All of it is frozen
    when the attempt starts and never changes, so it can be kept; None for an
    attempt that does not exist."""
    return _papers.get(attempt_id)


@dataclass(frozen=True)
class Saved:
    """A saved response: `response` as stored (bank letters, or the text of a blank
    or written answer), `shown` as the page displays it (what a reply echoes: the
    letters shown for the bank's; text as stored)."""

    position: int
    response: str
    shown: str
    saved_at: datetime
    deadline: datetime


def autosave(attempt_id, user_id, session_id, position, response, now=None, device=""):
    """The exam-day save: one conditional UPDATE, no transaction of its own.

    The response is in the letters the page displayed (or text, see _clean); it is
    checked against, and mapped to bank letters through, the frozen paper (cached, see
    frozen_paper); the rules that can change stay in the database and in the UPDATE's
    WHERE: the attempt belongs to the user and the session, is in progress, and its
    deadline plus grace has not passed. The attempt row is share-locked for the statement, so a save
    never slips in after submit_attempt has read the answers (the same guarantee as
    save_answer's row lock): a save that arrives while a submit is under way waits
    for it and is then refused. An attempt bound to a device (exams.integrity) takes
    saves from that `device` only. Returns Saved; None for practice sessions (their
    saves return feedback: use save_answer). Raises like save_answer."""
    now = now or timezone.now()
    paper = frozen_paper(attempt_id)
    if paper is None or paper["user_id"] != user_id or paper["session_id"] != session_id:
        raise Attempt.DoesNotExist
    if paper["practice"]:
        return None
    try:
        answer_id, qtype, order, blanks = paper["questions"][position]
    except KeyError:
        raise ExamError(_("This question is not part of the attempt.")) from None
    try:
        response = _clean(qtype, order, response, shown=True, blanks=blanks)
    except ExamError:
        _refuse_if_closed(attempt_id, now)  # a closed attempt says so first, as ever
        raise
    deadline = _conditional_update(
        answer_id, attempt_id, session_id, user_id, response, now, device
    )
    if deadline is None:
        # Refused by the database: say why, as the attempt stands now.
        _refuse_if_closed(attempt_id, now)
        answer = save_answer(
            attempt_id, None, position, response, now, session_id, user_id, device=device
        )
        shown = _displayed(qtype, order, answer.response)
        return Saved(position, answer.response, shown, now, answer.attempt.deadline)
    return Saved(position, response, _displayed(qtype, order, response), now, deadline)


def _refuse_if_closed(attempt_id, now):
    attempt = Attempt.objects.only("state", "deadline").get(pk=attempt_id)
    if attempt.state != AttemptState.IN_PROGRESS:
        raise AttemptClosed(_("This attempt has been submitted; answers can no longer change."))
    if is_expired(attempt, now):
        raise AttemptClosed(_("Time is up: answers saved after the deadline are not accepted."))


def _conditional_update(answer_id, attempt_id, session_id, user_id, response, now, device):
    """UPDATE the answer if its attempt is this user's, in this session, in progress,
    within deadline plus grace and not bound to another device; the attempt's
    deadline, or None when refused."""
    ops = connection.ops
    # SQLite has no row locks: it runs one writer at a time, so a submit's
    # transaction cannot interleave with this statement anyway.
    lock = " FOR SHARE OF t" if connection.vendor == "postgresql" else ""
    answers, attempts = Answer._meta.db_table, Attempt._meta.db_table
    officials = Official._meta.db_table
    sql = (
        f"UPDATE {answers} SET response = %s, saved_at = %s "  # noqa: S608 - table names only
        f"WHERE id = %s AND attempt_id = ("
        f"SELECT t.id FROM {attempts} t INNER JOIN {officials} o ON o.id = t.official_id "
        f"WHERE t.id = %s AND t.session_id = %s AND o.user_id = %s AND t.state = %s "
        f"AND t.deadline >= %s AND (t.device = '' OR t.device = %s){lock}) "
        f"RETURNING (SELECT deadline FROM {attempts} WHERE id = %s)"
    )
    params = [
        response,
        ops.adapt_datetimefield_value(now),
        answer_id,
        attempt_id,
        session_id,
        user_id,
        AttemptState.IN_PROGRESS.value,
        ops.adapt_datetimefield_value(now - grace()),
        device,
        attempt_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    deadline = row[0]
    if not isinstance(deadline, datetime) or timezone.is_naive(deadline):
        # SQLite hands back text or a naive UTC time; PostgreSQL an aware datetime.
        deadline = ops.convert_datetimefield_value(deadline, None, connection)
    return deadline


def submit_attempt(attempt, *, auto=False, now=None, responses=None):
    """Submit and grade exactly once. Double clicks, two tabs and retries all get
    the same graded attempt: only the UPDATE that still finds it in progress grades.
    `responses` ({position: response}) are what the submit form carried, in the
    letters the page displayed (mapped to bank letters here), or each field's list of
    values (a blank's inputs, a written answer's text): saved with the grading,
    before the deadline's grace only, invalid ones ignored (a page without
    JavaScript, or with unsent changes, loses nothing).
    An attempt with written answers waits for marking (grading.settle: no score yet);
    one whose result is final now goes on to results.on_result_final (its
    certificate, once committed).
    A bounded number of queries however long the paper: the state UPDATE, the
    answers, one UPDATE of them, the notebook and the attempt's scores.
    Returns (attempt, whether this call graded it)."""
    now = now or timezone.now()
    state = AttemptState.AUTO_SUBMITTED if auto else AttemptState.SUBMITTED
    with transaction.atomic():
        won = Attempt.objects.filter(pk=attempt.pk, state=AttemptState.IN_PROGRESS).update(
            state=state, submitted_at=now
        )
        if won:
            # The UPDATE locked the attempt: a save under way has committed (and is
            # read here), a later one waits and is then refused.
            answers = [
                GradedAnswer(*row)
                for row in Answer.objects.filter(attempt_id=attempt.pk).values_list(
                    *GradedAnswer.FIELDS
                )
            ]
            changed = []
            if responses and not auto and not is_expired(attempt, now):
                changed = _apply_responses(answers, responses, now)
            attempt.state, attempt.submitted_at = state, now
            grading.grade(attempt, answers)
            _write_grades(answers, changed, now)
            if any(a.is_correct is False for a in answers):
                record_wrong_answers(attempt)
            attempt.verification_code = secrets.token_hex(6).upper()
            attempt.save(
                update_fields=[
                    "score",
                    "max_score",
                    "percent",
                    "band",
                    "passed",
                    "marking_pending",
                    "verification_code",
                ]
            )
            if not attempt.marking_pending:
                results.on_result_final(attempt)
    if not won:
        attempt.refresh_from_db()
    return attempt, bool(won)


class GradedAnswer:
    """What a submit reads of an answer and grading writes on it, written back in one
    UPDATE by _write_grades. Fifty of these, loaded and graded, took 1.7-1.9 ms
    where fifty Answer instances took 2.1-2.7 ms."""

    FIELDS = ("pk", "position", "snapshot", "option_order", "points", "response")
    __slots__ = (*FIELDS, "saved_at", "is_correct", "points_awarded")

    def __init__(self, pk, position, snapshot, option_order, points, response):
        self.pk, self.position, self.snapshot = pk, position, snapshot
        self.option_order = option_order
        self.points, self.response = points, response
        self.saved_at = self.is_correct = self.points_awarded = None


def _apply_responses(answers, responses, now):
    """Set the form's valid responses on the answers; the answers that changed."""
    changed = []
    for answer in answers:
        if answer.position not in responses:
            continue
        try:
            response = clean_response(answer, responses[answer.position], shown=True)
        except ExamError:
            continue
        if response != answer.response:
            answer.response, answer.saved_at = response, now
            changed.append(answer)
    return changed


# The graded answers travel as one JSON document, [[id, correct, points awarded,
# response, whether the submit form changed it], ...], unpacked by the database.
_WRITE_GRADES = {
    "postgresql": (
        "UPDATE {table} SET is_correct = (r->>1)::boolean, "
        "points_awarded = (r->>2)::numeric, "
        "response = CASE WHEN (r->>4)::boolean THEN r->>3 ELSE {table}.response END, "
        "saved_at = CASE WHEN (r->>4)::boolean THEN %s ELSE {table}.saved_at END "
        "FROM jsonb_array_elements(%s::jsonb) AS r WHERE {table}.id = (r->>0)::bigint"
    ),
    "sqlite": (
        "UPDATE {table} SET is_correct = v.correct, points_awarded = v.points, "
        "response = CASE WHEN v.changed THEN v.response ELSE {table}.response END, "
        "saved_at = CASE WHEN v.changed THEN %s ELSE {table}.saved_at END "
        "FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS correct, "
        "json_extract(value, '$[2]') AS points, json_extract(value, '$[3]') AS response, "
        "json_extract(value, '$[4]') AS changed FROM json_each(%s)) AS v "
        "WHERE {table}.id = v.id"
    ),
}


def _write_grades(answers, changed, now):
    """One UPDATE for the graded answers: marks and points, and the response with its
    save time where the submit form changed it, with the rows as one JSON parameter.
    Django's bulk_update would build a CASE of 50 WHENs per column, which costs more
    CPU than the rest of the submit together, and 250 parameters cost the driver and
    the database more than the document does."""
    changed = {a.pk for a in changed}
    ops = connection.ops
    rows = json.dumps(
        [
            [
                answer.pk,
                answer.is_correct,
                None
                if answer.points_awarded is None
                else str(ops.adapt_decimalfield_value(answer.points_awarded, 5, 2)),
                answer.response,
                answer.pk in changed,
            ]
            for answer in answers
        ]
    )
    table = ops.quote_name(Answer._meta.db_table)
    sql = _WRITE_GRADES[connection.vendor].format(table=table)
    saved_at = ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [saved_at, rows])


def expire_if_due(attempt, now=None):
    """Submit an attempt automatically, with what was saved, once its deadline and
    grace have passed. True when the attempt is (now) finished."""
    if attempt.state != AttemptState.IN_PROGRESS:
        return True
    if not is_expired(attempt, now):
        return False
    submit_attempt(attempt, auto=True, now=now)
    return True


def submit_expired_attempts(now=None):
    """Auto-submit every expired attempt; the periodic task runs this."""
    now = now or timezone.now()
    count = 0
    for attempt in Attempt.objects.in_progress().filter(deadline__lt=now - grace()):
        _attempt, graded = submit_attempt(attempt, auto=True, now=now)
        count += graded
    return count


# The moved deadlines travel as one JSON document, [[attempt id, deadline], ...]; the
# WHERE keeps the UPDATE to attempts still in progress and not yet expired.
_MOVE_DEADLINES = {
    "postgresql": (
        "UPDATE {table} SET deadline = (r->>1)::timestamptz "
        "FROM jsonb_array_elements(%s::jsonb) AS r "
        "WHERE {table}.id = (r->>0)::bigint AND {table}.state = %s AND {table}.deadline >= %s"
    ),
    "sqlite": (
        "UPDATE {table} SET deadline = v.deadline "
        "FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS deadline "
        "FROM json_each(%s)) AS v "
        "WHERE {table}.id = v.id AND {table}.state = %s AND {table}.deadline >= %s"
    ),
}


def _db_datetime(value):
    """A datetime as the database stores it, as text for a JSON document."""
    value = connection.ops.adapt_datetimefield_value(value)
    return value if isinstance(value, str) else value.isoformat()


def refresh_deadlines(session, official=None, now=None):
    """Recompute the deadline of each attempt under way in the session (or only the
    official's) from its own start and the terms as they stand now, both ways, as
    Moodle's quiz does when a quiz or an override changes. A deadline moved into the
    past closes the attempt after the grace period, as closing the session early does;
    attempts already past deadline and grace are left to be submitted, never revived.
    Four queries however many attempts; the UPDATE touches only attempts still in
    progress and live, so a submit in between keeps its state. Returns how many moved."""
    now = now or timezone.now()
    session_id = getattr(session, "pk", session)
    live = Attempt.objects.in_progress().filter(session_id=session_id, deadline__gte=now - grace())
    overrides = SessionOverride.objects.filter(session_id=session_id)
    if official is not None:
        official_id = getattr(official, "pk", official)
        live = live.filter(official_id=official_id)
        overrides = overrides.filter(official_id=official_id)
    attempts = list(live.order_by().values_list("pk", "official_id", "started_at", "deadline"))
    if not attempts:
        return 0
    session = ExamSession.objects.get(pk=session_id)
    terms = {o.official_id: terms_for(session, o) for o in overrides}
    default = terms_for(session)
    moved = []
    for pk, official_id, started_at, deadline in attempts:
        new = deadline_for(started_at, terms.get(official_id, default))
        if new != deadline:
            moved.append([pk, _db_datetime(new)])
    if not moved:
        return 0
    ops = connection.ops
    table = ops.quote_name(Attempt._meta.db_table)
    sql = _MOVE_DEADLINES[connection.vendor].format(table=table)
    threshold = ops.adapt_datetimefield_value(now - grace())
    params = [json.dumps(moved), AttemptState.IN_PROGRESS.value, threshold]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def can_still_answer(session, terms, attempts, now):
    """Whether a person assigned to the session, with these terms and attempts in it,
    can still answer in it: an attempt in progress, or one they may yet start (now or
    once it opens). No key of it may reach them meanwhile (exams.secrecy)."""
    if any(a.state == AttemptState.IN_PROGRESS for a in attempts):
        return True
    if len(attempts) >= terms.attempts_allowed or now >= terms.closes_at:
        return False
    entry_closes = entry_closes_at(session, terms)
    return entry_closes is None or now <= entry_closes


def can_review(attempt, now=None):
    """Whether answer keys and explanations may be shown for a finished attempt: the
    review policy allows it and the official can no longer answer in the session,
    under their own window and attempts. Questions other open exams ask are withheld
    one by one on top of this (exams.secrecy)."""
    if not attempt.is_finished:
        return False
    session = attempt.session
    if session.is_practice:
        return reviewable(session, now)
    now = now or timezone.now()
    official = attempt.official
    terms = terms_for(session, override_for(session, official))
    mine = list(Attempt.objects.filter(session=session, official=official))
    live = can_still_answer(session, terms, mine, now) and (
        any(a.state == AttemptState.IN_PROGRESS for a in mine) or is_assigned(session, official)
    )
    return reviewable(session, now, closes_at=terms.closes_at, live=live)


def remaining_seconds(attempt, now=None):
    return max(0, int((attempt.deadline - (now or timezone.now())).total_seconds()))
