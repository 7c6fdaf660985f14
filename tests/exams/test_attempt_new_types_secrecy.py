"""Answer secrecy for the question types of issue #19: while an official can still
answer in a formal exam (an attempt in progress, or one they may still start under
their own window and attempts; exams.secrecy), nothing they can reach, page or JSON
reply, carries a question's accepted blank answers, its marking rubric or its model
answer (nor its key, explanation or legal basis, as for the choice types). These
tests try to break that on every door: the attempt page, each save's reply, valid
or refused, the submit, the status check, the result page, the practice feedback,
and the review of another exam that shares the questions."""

import json
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

import pytest

from exams import attempts as engine
from exams.models import Attempt, ExamSession, ReviewPolicy, SessionKind, SessionOverride
from tests.factories import OfficialFactory

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper
from .test_attempt_new_types import NO_OPTIONS, blanks_wire, url

pytestmark = pytest.mark.django_db

# The keys of a question's snapshot that must never reach an official who can still
# answer it, in any JSON reply.
SECRET_KEYS = {"answer", "blanks", "rubric", "model_answer", "explanation", "legal_basis"}

_serial = iter(range(1, 10**9))


def secret_questions():
    """A fill in the blank, a short answer and a case analysis (and a single choice)
    whose every secret carries a marker found nowhere else."""
    n = next(_serial)
    fill = QuestionFactory(
        type="fill_blank",
        stem=f"第{n}题：依照____，应当在（ ）日内决定。",
        blanks=[[f"【空一答{n}】", f"【空一同义{n}】"], [f"【空二答{n}】"]],
        explanation=f"【填空解析{n}】",
        legal_basis=f"【填空依据{n}】",
        **NO_OPTIONS,
    )
    written = [
        QuestionFactory(
            type=qtype,
            stem=f"第{n}题{qtype}：请作答。",
            rubric=[
                {"element": f"【要点甲{qtype}{n}】", "points": "6"},
                {"element": f"【要点乙{qtype}{n}】", "points": "4"},
            ],
            model_answer=f"【参考答案{qtype}{n}】",
            explanation=f"【解析{qtype}{n}】",
            legal_basis=f"【依据{qtype}{n}】",
            **NO_OPTIONS,
        )
        for qtype in ("short_answer", "case_analysis")
    ]
    choice = QuestionFactory(explanation=f"【选择解析{n}】", legal_basis=f"【选择依据{n}】")
    return [choice, fill, *written]


def markers(questions):
    """Every secret text of the questions."""
    found = []
    for question in questions:
        found += [question.explanation, question.legal_basis, question.model_answer]
        found += [answer for accepted in question.blanks for answer in accepted]
        found += [element["element"] for element in question.rubric]
    return [marker for marker in found if marker]


def formal(questions, **kwargs):
    kwargs.setdefault("shuffle_questions", False)
    kwargs.setdefault("shuffle_options", False)
    return ExamSessionFactory(paper=fixed_paper(questions), **kwargs)


def keys_of(data):
    """Every key of a JSON document, however deep."""
    if isinstance(data, dict):
        return set(data) | {key for value in data.values() for key in keys_of(value)}
    if isinstance(data, list):
        return {key for value in data for key in keys_of(value)}
    return set()


def assert_keeps(response, questions):
    """No secret text of the questions in the response; in a JSON reply, no key that
    names a secret of a snapshot either."""
    if response["Content-Type"].startswith("application/json"):
        data = response.json()
        assert not keys_of(data) & SECRET_KEYS, (response.request["PATH_INFO"], data)
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = response.content.decode()
    leaked = [marker for marker in markers(questions) if marker in body]
    assert not leaked, (response.request["PATH_INFO"], response.status_code, leaked)


# What the page sends for each position of secret_questions(): valid answers, and
# answers the server refuses (the refusals' messages must not help either).
VALID = {1: "B", 2: blanks_wire("猜一", "猜二"), 3: "我的简答", 4: "我的案例分析"}
REFUSED = {
    1: "Z",
    2: blanks_wire("只填一个"),
    3: "长" * 5001,
    4: json.dumps({"model_answer": True}),
}


def every_door(client, official, attempt=None):
    """Every response the official can get now: the exam list, each session's page,
    each attempt's page, result and status; with `attempt` in progress also every
    kind of save reply (saved, refused, unknown question)."""
    responses = [client.get(reverse("exams:index")), client.get(reverse("exams:notebook"))]
    for session in ExamSession.objects.all():
        responses.append(client.get(reverse("exams:session", args=[session.pk])))
    for mine in Attempt.objects.filter(official=official):
        for name in ("attempt", "result", "status"):
            responses.append(client.get(url(mine, name)))
    if attempt is not None:
        for sent in (VALID, REFUSED):
            for position, response in sent.items():
                responses.append(
                    client.post(url(attempt, "save"), {"position": position, "response": response})
                )
        responses.append(client.post(url(attempt, "save"), {"position": 99, "response": "A"}))
    return responses


def test_nothing_secret_while_an_attempt_is_in_progress_or_one_is_left(client, official):
    questions = secret_questions()
    exam = formal(questions, review_policy=ReviewPolicy.AFTER_SUBMIT, attempts_allowed=2)
    client.force_login(official.user)
    client.post(reverse("exams:start", args=[exam.pk]))
    first = Attempt.objects.get(official=official)
    for response in every_door(client, official, first):
        assert response.status_code in (200, 302, 400), response.request["PATH_INFO"]
        assert_keeps(response, questions)
    page = client.get(url(first, "attempt")).content.decode()
    assert "【" not in page  # no marker of any kind on the page

    submitted = client.post(url(first, "submit"), {"q2": ["猜一", "猜二"], "q4": ["案例"]})
    assert submitted.status_code == 302
    first.refresh_from_db()
    assert first.is_finished and first.marking_pending
    # A second attempt is still theirs to take: the result page shows no review.
    result = client.get(url(first, "result"))
    assert result.status_code == 200 and 'id="marking-pending"' in result.content.decode()
    for response in every_door(client, official):
        assert_keeps(response, questions)
    # A save or a submit after it, on the finished attempt: refused, nothing told.
    late = client.post(url(first, "save"), {"position": 3, "response": "补充"})
    assert late.status_code == 409
    assert_keeps(late, questions)
    assert_keeps(client.post(url(first, "submit"), {"q3": ["补充"]}), questions)

    client.post(reverse("exams:start", args=[exam.pk]))
    second = Attempt.objects.get(official=official, number=2)
    for response in every_door(client, official, second):
        assert_keeps(response, questions)

    # Both attempts used: the review now shows what was kept, so the search above
    # looked for texts the pages do show when allowed.
    client.post(url(second, "submit"))
    review = client.get(url(first, "result")).content.decode()
    rubric = {element["element"] for question in questions for element in question.rubric}
    for marker in markers(questions):
        # The rubric itself is for markers only; everything else is reviewed.
        assert (marker in review) is (marker not in rubric), marker


def test_an_upcoming_window_keeps_the_review_of_a_closed_one_shut(client, official):
    """AFTER_CLOSE: the session closed for others, the official's own window still
    open (an override) with an attempt left."""
    now = timezone.now()
    questions = secret_questions()
    exam = formal(
        questions,
        review_policy=ReviewPolicy.AFTER_CLOSE,
        attempts_allowed=2,
        opens_at=now - timedelta(days=2),
        closes_at=now - timedelta(hours=1),
    )
    SessionOverride.objects.create(
        session=exam, official=official, closes_at=now + timedelta(days=1)
    )
    client.force_login(official.user)
    client.post(reverse("exams:start", args=[exam.pk]))
    attempt = Attempt.objects.get(official=official)
    client.post(url(attempt, "submit"), {"q2": ["甲", "乙"], "q3": ["简答"]})
    for response in every_door(client, official):
        assert_keeps(response, questions)


def test_the_review_of_a_closed_exam_withholds_what_an_open_one_asks(client, official):
    """The same questions in a closed exam (reviewable) and an open one the official
    has not sat: the closed one's review shows the official's own texts only."""
    questions = secret_questions()
    closed = formal(questions, review_policy=ReviewPolicy.AFTER_SUBMIT, attempts_allowed=1)
    client.force_login(official.user)
    client.post(reverse("exams:start", args=[closed.pk]))
    attempt = Attempt.objects.get(official=official)
    form = {"q2": ["我填的一", "我填的二"], "q3": ["我写的简答"], "q4": ["我写的案例"]}
    client.post(url(attempt, "submit"), form)
    formal(questions, title="仍在进行的考试")  # open to them, not yet sat
    result = client.get(url(attempt, "result"))
    assert_keeps(result, questions)
    page = result.content.decode()
    assert all(text in page for text in ("我填的一", "我填的二", "我写的简答", "我写的案例"))
    assert page.count("is-withheld") == 4


def test_practice_replies_keep_what_an_open_exam_asks(client, official):
    """A practice over the questions of an open exam: its saves' replies give no
    accepted answers, model answer or rubric, nor its result page."""
    questions = secret_questions()
    formal(questions, review_policy=ReviewPolicy.AFTER_SUBMIT)
    drill = formal(questions, kind=SessionKind.PRACTICE, attempts_allowed=50)
    client.force_login(official.user)
    client.post(reverse("exams:start", args=[drill.pk]))
    attempt = Attempt.objects.get(session=drill)
    for position, response in VALID.items():
        reply = client.post(url(attempt, "save"), {"position": position, "response": response})
        assert reply.status_code == 200
        assert_keeps(reply, questions)
        if position in (1, 2):
            assert reply.json()["feedback"]["withheld"] is True
    client.post(url(attempt, "submit"))
    for response in every_door(client, official):
        assert_keeps(response, questions)


def test_another_official_gets_nothing_at_all(official):
    questions = secret_questions()
    exam = formal(questions, review_policy=ReviewPolicy.AFTER_SUBMIT, attempts_allowed=1)
    attempt = engine.start_attempt(exam, official)
    other = Client()
    other.force_login(OfficialFactory().user)
    for name in ("attempt", "result", "status"):
        response = other.get(url(attempt, name))
        assert response.status_code == 404
    reply = other.post(url(attempt, "save"), {"position": 2, "response": VALID[2]})
    assert reply.status_code == 404
    assert other.post(url(attempt, "submit"), {"q3": ["x"]}).status_code == 404
    assert attempt.answers.get(position=3).response == ""
