"""Answer secrecy (issue #18): nothing an official can reach gives the key, the
explanation, the legal basis or a right-or-wrong verdict of a question that a formal
exam still open to them can ask, while they have an attempt in progress there or can
still start one under their own window and attempts: not a page, not a save's reply,
not the wrong-answer notebook, not a review under an override."""

import json
import re
from contextlib import contextmanager
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exams import attempts as engine
from exams.models import (
    Answer,
    Attempt,
    AttemptState,
    ExamSession,
    NotebookEntry,
    ReviewPolicy,
    SessionKind,
    SessionOverride,
)
from exams.secrecy import guard_for, guarded_question_ids
from tests.factories import DepartmentFactory, OfficialFactory

from .factories import (
    ExamSessionFactory,
    LawTopicFactory,
    QuestionFactory,
    fixed_paper,
    random_paper,
)

pytestmark = pytest.mark.django_db

_serial = iter(range(1, 10**9))


def marked(count=1, **kwargs):
    """Questions whose stem, explanation and legal basis each carry a marker found
    nowhere else, so any page can be searched for them."""
    questions = []
    for _ in range(count):
        n = next(_serial)
        questions.append(
            QuestionFactory(
                stem=f"【题干{n}】",
                explanation=f"【解析{n}】",
                legal_basis=f"【依据{n}】",
                **kwargs,
            )
        )
    return questions


def formal(questions, **kwargs):
    """An open annual exam over the questions, in their order, options unshuffled."""
    kwargs.setdefault("shuffle_questions", False)
    kwargs.setdefault("shuffle_options", False)
    return ExamSessionFactory(paper=fixed_paper(questions), **kwargs)


def practice(questions, **kwargs):
    return formal(questions, kind=SessionKind.PRACTICE, attempts_allowed=50, **kwargs)


def url(attempt, name):
    return reverse(f"exams:{name}", args=(attempt.session_id, attempt.pk))


# A block of a page about one question: the result page's sections, the attempt
# page's and the notebook's fieldsets.
BLOCK = re.compile(r"<(section|fieldset)\b.*?</\1>", re.S)


def verdict_marks():
    """What tells right from wrong, or gives the key, in a question's block."""
    labels = ("Correct answer:", "Correct", "Wrong", "Wrong. The answer is")
    with translation.override("zh-hans"):
        translated = [gettext(label) for label in labels]
    return ["is-correct", "is-wrong", "✓", "✗", *labels, *translated]


def assert_keeps_secret(response, secret):
    """Neither the explanation nor the legal basis of any `secret` question is in
    the response, and no block showing one of them carries a verdict or its key."""
    if response["Content-Type"].startswith("application/json"):
        body = json.dumps(response.json(), ensure_ascii=False)
    else:
        body = response.content.decode()
    marks = verdict_marks()
    for question in secret:
        assert question.explanation not in body, response.request["PATH_INFO"]
        assert question.legal_basis not in body, response.request["PATH_INFO"]
        for block in BLOCK.finditer(body):
            if question.stem in block.group(0):
                shown = [mark for mark in marks if mark in block.group(0)]
                assert not shown, (response.request["PATH_INFO"], shown)


def everything(client, official):
    """Every response the official can get about their exams now: the list, each
    session page, each attempt's page and result, and the notebook, read and then
    answered with the key of every entry."""
    responses = [client.get(reverse("exams:index"))]
    for session in ExamSession.objects.all():
        responses.append(client.get(reverse("exams:session", args=[session.pk])))
    for attempt in Attempt.objects.filter(official=official):
        responses.append(client.get(url(attempt, "attempt")))
        responses.append(client.get(url(attempt, "result")))
    notebook = reverse("exams:notebook")
    responses.append(client.get(notebook))
    keys = {
        f"e{entry.pk}": list(entry.snapshot["answer"])
        for entry in NotebookEntry.objects.filter(official=official)
    }
    responses.append(client.post(notebook, keys))
    return responses


def assert_nothing_reveals(client, official, secret):
    """`everything` keeps the secret, and answering the notebook marks no entry of a
    secret question (a verdict on it would be an oracle for the key)."""
    entries = NotebookEntry.objects.filter(
        official=official, question__in=secret, cleared=False
    ).values_list("pk", flat=True)
    uncleared = set(entries)
    for response in everything(client, official):
        assert response.status_code in (200, 302), response.request["PATH_INFO"]
        assert_keeps_secret(response, secret)
    still = NotebookEntry.objects.filter(pk__in=uncleared, cleared=False)
    assert set(still.values_list("pk", flat=True)) == uncleared


def save(client, attempt, position, right):
    """Save the key of the question at `position` (or a wrong answer), as the page
    sends it."""
    answer = attempt.answers.get(position=position)
    key = answer.snapshot["answer"]
    if right:
        response = answer.display_letters(key)
    elif answer.type == "true_false":
        response = "F" if key == "T" else "T"
    else:
        response = next(c for c in answer.display_letters("ABCD") if c not in key)
    return client.post(url(attempt, "save"), {"position": position, "response": response})


def test_an_override_window_still_open_keeps_the_review_closed(client, official):
    """AFTER_CLOSE: the session closed for everyone else, but the official's own
    window is open and they have an attempt left; then every attempt used, their
    window still open; then their window closed."""
    now = timezone.now()
    questions = marked(3)
    exam = formal(
        questions,
        review_policy=ReviewPolicy.AFTER_CLOSE,
        attempts_allowed=2,
        opens_at=now - timedelta(days=2),
        closes_at=now - timedelta(hours=1),
    )
    # Someone who sat it in the session's own window may review it now.
    other = OfficialFactory()
    theirs = engine.start_attempt(exam, other, now=now - timedelta(days=1))
    engine.submit_attempt(theirs, now=now - timedelta(days=1))
    assert engine.can_review(theirs)

    override = SessionOverride.objects.create(
        session=exam, official=official, closes_at=now + timedelta(days=1)
    )
    client.force_login(official.user)
    client.post(reverse("exams:start", args=[exam.pk]))
    first = Attempt.objects.get(official=official)
    client.post(url(first, "submit"))
    first.refresh_from_db()
    assert first.is_finished and not engine.can_review(first)
    assert_nothing_reveals(client, official, questions)

    client.post(reverse("exams:start", args=[exam.pk]))
    second = Attempt.objects.get(official=official, number=2)
    client.post(url(second, "submit"))
    assert not engine.can_review(first)  # no attempt left, but their window is open
    assert_nothing_reveals(client, official, questions)

    override.closes_at = timezone.now() - timedelta(minutes=1)
    override.save()
    assert engine.can_review(first)
    review = client.get(url(first, "result")).content.decode()
    assert all(q.explanation in review and q.legal_basis in review for q in questions)


def test_after_submit_shows_the_key_only_once_no_attempt_is_left(client, official):
    """AFTER_SUBMIT with an extra attempt granted: nothing after the first attempt,
    nothing while the second is in progress, the review once both are used."""
    questions = marked(3)
    exam = formal(questions, review_policy=ReviewPolicy.AFTER_SUBMIT, attempts_allowed=1)
    SessionOverride.objects.create(session=exam, official=official, extra_attempts=1)
    client.force_login(official.user)

    client.post(reverse("exams:start", args=[exam.pk]))
    first = Attempt.objects.get(official=official)
    client.post(url(first, "submit"))
    first.refresh_from_db()
    assert not engine.can_review(first)
    assert_nothing_reveals(client, official, questions)

    client.post(reverse("exams:start", args=[exam.pk]))
    second = Attempt.objects.get(official=official, number=2)
    assert_nothing_reveals(client, official, questions)

    client.post(url(second, "submit"))
    first.refresh_from_db()
    assert engine.can_review(first)
    for attempt in (first, second):
        review = client.get(url(attempt, "result")).content.decode()
        assert all(q.explanation in review and q.legal_basis in review for q in questions)


@pytest.mark.parametrize("opens_in_days", [-1, 2], ids=["open", "upcoming"])
def test_practice_withholds_feedback_on_questions_an_open_exam_asks(
    client, official, opens_in_days
):
    """A practice over questions of an open (or upcoming) annual exam gives no verdict,
    key or explanation for those, as it goes or on its result page; for the others it
    does; once the official has sat the exam, for all."""
    now = timezone.now()
    shared, own = marked(2), marked(2)
    exam = formal(
        shared,
        review_policy=ReviewPolicy.AFTER_SUBMIT,
        attempts_allowed=1,
        opens_at=now + timedelta(days=opens_in_days),
        closes_at=now + timedelta(days=7),
    )
    drill = practice([shared[0], own[0], shared[1], own[1]])
    client.force_login(official.user)
    client.post(reverse("exams:start", args=[drill.pk]))
    attempt = Attempt.objects.get(session=drill)

    for position, question in enumerate([shared[0], own[0], shared[1], own[1]], start=1):
        for right in (True, False):
            reply = save(client, attempt, position, right)
            assert reply.status_code == 200
            assert_keeps_secret(reply, shared)
            feedback = reply.json()["feedback"]
            if question in shared:
                assert set(feedback) == {"withheld", "message"} and feedback["withheld"]
            else:
                assert feedback["correct"] is right
                assert feedback["explanation"] == question.explanation
    client.post(url(attempt, "submit"))
    result = client.get(url(attempt, "result"))
    assert_keeps_secret(result, shared)
    assert all(q.explanation in result.content.decode() for q in own)
    # With the verdicts on the others, the score would give the shared ones away.
    attempt.refresh_from_db()
    score = re.search(r'<dd id="score"[^>]*>(.*?)</dd>', result.content.decode()).group(0)
    assert "data-score-withheld" in score and " / " not in score
    session_page = client.get(reverse("exams:session", args=[drill.pk])).content.decode()
    assert f"{attempt.score} / {attempt.max_score}" not in session_page
    assert_nothing_reveals(client, official, shared)

    if opens_in_days > 0:
        return
    sat = engine.start_attempt(exam, official)
    engine.submit_attempt(sat)
    again = engine.start_attempt(drill, official)
    reply = save(client, again, 1, True)
    assert reply.json()["feedback"]["explanation"] == shared[0].explanation


def test_the_notebook_hides_a_practice_entry_an_upcoming_exam_asks(client, official):
    now = timezone.now()
    shared, own = marked(2)
    exam = formal([shared], opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=3))
    drill = practice([shared, own])
    engine.submit_attempt(engine.start_attempt(drill, official))  # both wrong
    client.force_login(official.user)

    page = client.get(reverse("exams:notebook"))
    assert [entry.question_id for entry, _result in page.context["rows"]] == [own.pk]
    assert page.context["hidden"] == 1 and shared.stem not in page.content.decode()
    assert_nothing_reveals(client, official, [shared])
    entry = NotebookEntry.objects.get(question=shared)
    assert not entry.cleared and NotebookEntry.objects.get(question=own).cleared

    exam.opens_at, exam.closes_at = now - timedelta(days=3), now - timedelta(days=1)
    exam.save()
    page = client.get(reverse("exams:notebook"))
    assert [e.question_id for e, _r in page.context["rows"]] == [shared.pk]
    assert page.context["hidden"] == 0
    checked = client.post(
        reverse("exams:notebook"), {f"e{entry.pk}": list(entry.snapshot["answer"])}
    )
    assert shared.explanation in checked.content.decode()


def test_an_annual_exam_entry_stays_hidden_while_its_make_up_is_open(client, official):
    """The annual exam is over and failed; its make-up, over the same questions, is
    open to the official: the notebook, and the annual result, keep those answers."""
    now = timezone.now()
    questions = marked(2)
    annual = formal(
        questions,
        review_policy=ReviewPolicy.AFTER_CLOSE,
        attempts_allowed=1,
        opens_at=now - timedelta(days=3),
        closes_at=now - timedelta(days=1),
    )
    sat = engine.start_attempt(annual, official, now=now - timedelta(days=2))
    engine.submit_attempt(sat, now=now - timedelta(days=2))  # nothing answered: failed
    make_up = formal(
        questions,
        kind=SessionKind.MAKEUP,
        makes_up=annual,
        for_everyone=False,
        attempts_allowed=1,
        closes_at=now + timedelta(days=2),
    )
    client.force_login(official.user)
    assert engine.can_review(sat)  # the annual exam itself is over for them...
    assert guarded_question_ids(official) == {q.pk for q in questions}  # ...its make-up not
    page = client.get(reverse("exams:notebook"))
    assert page.context["rows"] == [] and page.context["hidden"] == 2
    assert_nothing_reveals(client, official, questions)

    make_up.opens_at, make_up.closes_at = now - timedelta(days=1), now - timedelta(hours=1)
    make_up.save()
    assert guarded_question_ids(official) == frozenset()
    page = client.get(reverse("exams:notebook"))
    assert len(page.context["rows"]) == 2 and page.context["hidden"] == 0
    review = client.get(url(sat, "result")).content.decode()
    assert all(q.explanation in review and q.legal_basis in review for q in questions)


def test_a_random_paper_guards_every_question_its_rules_can_draw(official):
    topic, other_topic = LawTopicFactory(), LawTopicFactory()
    on_topic = marked(3, topic=topic)
    any_true_false = marked(2, topic=other_topic, true_false=True)
    off_rule = marked(2, topic=other_topic) + marked(1, topic=topic, multiple=True)
    inactive = marked(1, topic=topic, active=False)
    paper = random_paper([(topic, "single", 2, 5), (None, "true_false", 1, 5)])
    ExamSessionFactory(paper=paper)
    guarded = guarded_question_ids(official)
    assert {q.pk for q in on_topic + any_true_false} <= guarded
    assert not guarded & {q.pk for q in off_rule + inactive}


def test_leaders_are_guarded_on_the_paper_they_sit(official):
    everyone, leaders = marked(1), marked(1)
    exam = formal(everyone)
    exam.leader_paper = fixed_paper(leaders)
    exam.save()
    leader = OfficialFactory(is_leader=True)
    assert guarded_question_ids(official) == {everyone[0].pk}
    assert guarded_question_ids(leader) == {leaders[0].pk}


def test_past_the_entry_cut_off_an_exam_they_cannot_start_guards_nothing(official):
    """No start later than the cut-off: without an attempt in progress the official
    can no longer sit it; with one, it stays guarded."""
    questions = marked(2)
    exam = formal(questions, opens_at=timezone.now() - timedelta(hours=2))
    exam.entry_cutoff_minutes = 180
    exam.save()
    attempt = engine.start_attempt(exam, official)
    exam.entry_cutoff_minutes = 60
    exam.save()
    assert guarded_question_ids(official) == {q.pk for q in questions}
    engine.submit_attempt(attempt)
    assert guarded_question_ids(official) == frozenset()


def test_an_attempt_in_progress_stays_guarded_when_the_exam_is_no_longer_assigned(official):
    questions = marked(2)
    exam = formal(questions)
    attempt = engine.start_attempt(exam, official)
    exam.for_everyone = False
    exam.save()
    assert guarded_question_ids(official) == {q.pk for q in questions}
    engine.submit_attempt(attempt)
    assert guarded_question_ids(official) == frozenset()


@pytest.mark.parametrize("sessions", [1, 12])
def test_guarding_reads_the_same_few_queries_however_many_sessions(
    official, sessions, django_assert_max_num_queries
):
    topic = LawTopicFactory()
    for n in range(sessions):
        exam = formal(marked(3, topic=topic))
        if n % 2:
            exam.paper = random_paper([(topic, "single", 2, 5)])
            exam.save()
        engine.start_attempt(exam, official)
    official.refresh_from_db()
    official.department  # noqa: B018 - loaded, as the views load it
    # My sessions (four), the answers in progress, fixed papers, rules, the bank.
    with django_assert_max_num_queries(8):
        guard = guard_for(official)
    assert len(guard.question_ids) >= 3 * ((sessions + 1) // 2)


# The schedule: what the official and the organizer do, in any order. Every time is
# a whole number of hours from when a thing was done (attempts last 90 minutes,
# overrides close a quarter past), so no deadline falls within seconds of the moment
# a page is read.
ACTIONS = st.one_of(
    st.tuples(st.just("start"), st.sampled_from(["annual", "make_up", "practice"])),
    st.tuples(
        st.just("save"),
        st.sampled_from(["annual", "make_up", "practice"]),
        st.integers(1, 5),
        st.booleans(),
    ),
    st.tuples(st.just("submit"), st.sampled_from(["annual", "make_up", "practice"])),
    st.tuples(st.just("sit"), st.sampled_from(["annual", "make_up", "practice"])),
    st.tuples(st.just("advance"), st.sampled_from([1, 2, 5, 30])),
    st.tuples(
        st.just("override"),
        st.sampled_from(["annual", "make_up"]),
        st.integers(0, 2),
        st.sampled_from([None, 1, 6, 48]),
    ),
    st.tuples(st.just("make_up"), st.sampled_from([0, 3]), st.sampled_from([2, 24])),
)
SCHEDULES = st.fixed_dictionaries(
    {
        "policy": st.sampled_from([ReviewPolicy.AFTER_SUBMIT, ReviewPolicy.AFTER_CLOSE]),
        "attempts": st.integers(1, 2),
        "closes_in": st.sampled_from([2, 8, 72]),
        "cutoff": st.sampled_from([None, 90]),
        "actions": st.lists(ACTIONS, min_size=1, max_size=8),
    }
)


@contextmanager
def rolled_back():
    """One example's rows and cached state, gone afterwards."""
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(savepoint)
        cache.clear()


def rewind(delta):
    """Move every stored time back by `delta`: for the exams, time moves on by it."""
    ExamSession.objects.update(opens_at=F("opens_at") - delta, closes_at=F("closes_at") - delta)
    for field in ("opens_at", "closes_at"):
        SessionOverride.objects.filter(**{f"{field}__isnull": False}).update(
            **{field: F(field) - delta}
        )
    Attempt.objects.update(started_at=F("started_at") - delta, deadline=F("deadline") - delta)
    Attempt.objects.filter(submitted_at__isnull=False).update(
        submitted_at=F("submitted_at") - delta
    )
    Answer.objects.filter(saved_at__isnull=False).update(saved_at=F("saved_at") - delta)


class World:
    """One example: an official, an annual exam of their department, a practice
    overlapping it, and perhaps a make-up; with the reference rule of what may be
    shown, worked out from the rows alone."""

    def __init__(self, schedule):
        now = timezone.now()
        self.official = OfficialFactory(department=DepartmentFactory())
        self.client = Client()
        self.client.force_login(self.official.user)
        self.annual_questions, self.make_up_questions, own = marked(4), marked(2), marked(2)
        department = {"for_everyone": False}
        self.sessions = {
            "annual": formal(
                self.annual_questions,
                review_policy=schedule["policy"],
                attempts_allowed=schedule["attempts"],
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(hours=schedule["closes_in"]),
                entry_cutoff_minutes=schedule["cutoff"],
                **department,
            ),
            "practice": practice(
                [self.annual_questions[0], self.make_up_questions[1], own[0]]
                + [self.annual_questions[3], own[1]],
                **department,
            ),
        }
        for session in self.sessions.values():
            session.departments.add(self.official.department)
            session.save()
        self.policy = schedule["policy"]
        self.questions = self.annual_questions + self.make_up_questions + own

    def attempt(self, name):
        session = self.sessions.get(name)
        if session is None:
            return None
        return Attempt.objects.filter(
            session=session, official=self.official, state=AttemptState.IN_PROGRESS
        ).first()

    def do(self, action):
        kind, name = action[0], action[1]
        if kind in ("start", "sit") and name in self.sessions:
            self.client.post(reverse("exams:start", args=[self.sessions[name].pk]))
            if kind == "sit" and self.attempt(name):
                self.client.post(url(self.attempt(name), "submit"))
        elif kind == "save" and self.attempt(name):
            self.check_save(self.attempt(name), action[2], action[3])
        elif kind == "submit" and self.attempt(name):
            self.client.post(url(self.attempt(name), "submit"))
        elif kind == "advance":
            rewind(timedelta(hours=name))
        elif kind == "override" and name in self.sessions:
            closes_at = None
            if action[3] is not None:
                closes_at = timezone.now() + timedelta(hours=action[3], minutes=15)
            SessionOverride.objects.update_or_create(
                session=self.sessions[name],
                official=self.official,
                defaults={"extra_attempts": action[2], "closes_at": closes_at},
            )
        elif kind == "make_up" and "make_up" not in self.sessions:
            opens_at = timezone.now() + timedelta(hours=name)
            self.sessions["make_up"] = formal(
                self.annual_questions[:2] + self.make_up_questions,
                kind=SessionKind.MAKEUP,
                makes_up=self.sessions["annual"],
                for_everyone=False,
                attempts_allowed=1,
                review_policy=self.policy,
                opens_at=opens_at,
                closes_at=opens_at + timedelta(hours=action[2]),
            )

    def live(self, session, now):
        """The reference rule: an attempt in progress, or one they may still start."""
        mine = list(Attempt.objects.filter(session=session, official=self.official))
        if any(a.state == AttemptState.IN_PROGRESS for a in mine):
            return True
        override = SessionOverride.objects.filter(session=session, official=self.official).first()
        allowed = session.attempts_allowed + (override.extra_attempts if override else 0)
        opens = (override and override.opens_at) or session.opens_at
        cutoff = session.entry_cutoff_minutes
        if cutoff is not None and now > opens + timedelta(minutes=cutoff):
            return False
        return len(mine) < allowed and now < self.closes_at(session)

    def closes_at(self, session):
        override = SessionOverride.objects.filter(session=session, official=self.official).first()
        return (override and override.closes_at) or session.closes_at

    def secret(self, now):
        secret = set()
        for session in self.sessions.values():
            session.refresh_from_db()
            if session.kind != SessionKind.PRACTICE and self.live(session, now):
                secret |= set(session.paper.items.values_list("question_id", flat=True))
        return [q for q in self.questions if q.pk in secret]

    def reviewable(self, session, now):
        if session.kind == SessionKind.PRACTICE:
            return True
        if self.live(session, now):
            return False
        if session.review_policy == ReviewPolicy.AFTER_SUBMIT:
            return True
        return now >= max(session.closes_at, self.closes_at(session))

    def check_save(self, attempt, position, right):
        """A save's reply: no feedback in a formal exam; in the practice, a verdict
        on exactly the questions no open exam asks."""
        secret = self.secret(timezone.now())
        position = (position - 1) % attempt.answers.count() + 1
        # Never right in a formal exam: failing it keeps the make-up theirs.
        right = right and attempt.session.is_practice
        reply = save(self.client, attempt, position, right)
        assert_keeps_secret(reply, secret)
        if reply.status_code != 200:
            return
        feedback = reply.json().get("feedback")
        if not attempt.session.is_practice:
            assert feedback is None
        elif attempt.answers.get(position=position).question_id in {q.pk for q in secret}:
            assert set(feedback) == {"withheld", "message"}
        else:
            assert feedback["correct"] is right

    def check(self):
        """Every response keeps the secret; reviews and the notebook show the rest."""
        engine.submit_expired_attempts()  # what opening any exam page does first
        now = timezone.now()
        secret = self.secret(now)
        secret_ids = {q.pk for q in secret}
        assert guarded_question_ids(self.official, now) == secret_ids
        entries = NotebookEntry.objects.filter(official=self.official, cleared=False)
        visible = {
            entry.question_id
            for entry in entries.select_related("session")
            if self.reviewable(entry.session, now) and entry.question_id not in secret_ids
        }
        rows = self.client.get(reverse("exams:notebook")).context["rows"]
        assert {entry.question_id for entry, _result in rows} == visible
        assert_nothing_reveals(self.client, self.official, secret)
        # The practice answers every question as it goes: a verdict only where allowed.
        self.client.post(reverse("exams:start", args=[self.sessions["practice"].pk]))
        drill = self.attempt("practice")
        for position in range(1, 6) if drill else ():
            self.check_save(drill, position, right=position % 2 == 0)
        for attempt in Attempt.objects.filter(official=self.official, submitted_at__isnull=False):
            page = self.client.get(url(attempt, "result")).content.decode()
            shown = self.reviewable(attempt.session, now)
            assert engine.can_review(attempt, now) is shown
            asked = set(attempt.answers.values_list("question_id", flat=True))
            for question in self.questions:
                if question.pk in asked:
                    expected = shown and question.pk not in secret_ids
                    assert (question.explanation in page) is expected


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=SCHEDULES)
def test_no_schedule_of_attempts_overrides_and_make_ups_reveals_an_open_exams_key(db, schedule):
    with rolled_back():
        world = World(schedule)
        world.check()
        for action in schedule["actions"]:
            world.do(action)
            world.check()


def test_a_practice_draws_around_the_questions_an_open_exam_asks(client, official):
    """A random practice takes its questions from the rest of the bank when the rest
    can fill it, so the official gets feedback on all of them; when only the shared
    questions can fill it, it draws them and withholds what it must."""
    topic = LawTopicFactory()
    shared, own = marked(3, topic=topic), marked(3, topic=topic)
    formal(shared)
    drill = ExamSessionFactory(
        kind=SessionKind.PRACTICE,
        attempts_allowed=50,
        paper=random_paper([(topic, "single", 3, 10)]),
    )
    client.force_login(official.user)
    for _ in range(5):
        client.post(reverse("exams:start", args=[drill.pk]))
        attempt = Attempt.objects.get(session=drill, state=AttemptState.IN_PROGRESS)
        drawn = set(attempt.answers.values_list("question_id", flat=True))
        assert drawn == {q.pk for q in own}
        engine.submit_attempt(attempt)

    bigger = ExamSessionFactory(
        kind=SessionKind.PRACTICE,
        attempts_allowed=50,
        paper=random_paper([(topic, "single", 5, 10)]),
    )
    client.post(reverse("exams:start", args=[bigger.pk]))
    attempt = Attempt.objects.get(session=bigger, state=AttemptState.IN_PROGRESS)
    assert attempt.answers.count() == 5
