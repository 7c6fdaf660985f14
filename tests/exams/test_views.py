"""Official-facing exam pages: access, states, saving, submitting, review policy,
answer keys never leaking, and flat query counts."""

import re
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

import pytest

from exams import attempts as engine
from exams.models import (
    Attempt,
    AttemptState,
    NotebookEntry,
    SessionCandidate,
    SessionKind,
)
from tests.factories import DepartmentFactory, OfficialFactory

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db

SECRET_EXPLANATION = "秘密解析不可提前泄露"
SECRET_BASIS = "《秘密法》第九十九条"


@pytest.fixture
def secret_exam(db):
    questions = QuestionFactory.create_batch(
        4, explanation=SECRET_EXPLANATION, legal_basis=SECRET_BASIS
    )
    return ExamSessionFactory(paper=fixed_paper(questions), review_policy="after_close")


def shown_key(answer):
    """The right answer in the letters the attempt page displays (what it sends)."""
    return answer.display_letters(answer.snapshot["answer"])


def urls(attempt):
    args = (attempt.session_id, attempt.pk)
    return {
        name: reverse(f"exams:{name}", args=args)
        for name in ("attempt", "save", "submit", "result", "certificate")
    }


def test_anonymous_is_sent_to_login(client, exam):
    for url in (reverse("exams:index"), reverse("exams:session", args=[exam.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_index_lists_only_my_sessions_with_state(official_client, official, bank):
    paper = fixed_paper(bank)
    now = timezone.now()
    mine = ExamSessionFactory(paper=paper, title="本部门考试", for_everyone=False)
    mine.departments.add(official.department)
    mine.save()
    elsewhere = ExamSessionFactory(paper=paper, title="别的部门考试", for_everyone=False)
    elsewhere.departments.add(DepartmentFactory())
    elsewhere.save()
    ExamSessionFactory(
        paper=paper,
        title="已错过的考试",
        opens_at=now - timedelta(days=3),
        closes_at=now - timedelta(days=1),
    )
    ExamSessionFactory(
        paper=paper,
        title="即将开始",
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=3),
    )
    leaders_only = ExamSessionFactory(paper=paper, title="领导干部考试", for_everyone=False)
    leaders_only.for_leaders = True
    leaders_only.save()
    response = official_client.get(reverse("exams:index"))
    html = response.content.decode()
    assert "本部门考试" in html and "已错过的考试" in html and "即将开始" in html
    assert "别的部门考试" not in html and "领导干部考试" not in html
    states = {row.session.title: row.status for row in response.context["rows"]}
    assert states == {"本部门考试": "open", "已错过的考试": "missed", "即将开始": "upcoming"}


def test_states_in_progress_submitted_passed_failed(official, exam):
    from exams.assignments import my_session

    exam.attempts_allowed = 2
    exam.save()
    assert my_session(official, exam).status == "open"
    attempt = engine.start_attempt(exam, official)
    assert my_session(official, exam).status == "in_progress"
    engine.submit_attempt(attempt)
    assert my_session(official, exam).status == "submitted"
    attempt = engine.start_attempt(exam, official)
    engine.submit_attempt(attempt)
    assert my_session(official, exam).status == "failed"
    other = OfficialFactory()
    attempt = engine.start_attempt(exam, other)
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, other, answer.position, answer.snapshot["answer"])
    engine.submit_attempt(attempt)
    assert my_session(other, exam).status == "passed"


def test_unassigned_session_is_404(official_client, exam):
    exam.for_everyone = False
    exam.save()
    assert official_client.get(reverse("exams:session", args=[exam.pk])).status_code == 404
    response = official_client.post(reverse("exams:start", args=[exam.pk]))
    assert response.status_code == 302
    assert not Attempt.objects.exists()


def test_take_an_exam_end_to_end(official_client, official, exam):
    response = official_client.post(reverse("exams:start", args=[exam.pk]))
    attempt = Attempt.objects.get()
    assert response.url == urls(attempt)["attempt"]
    page = official_client.get(response.url)
    assert page.status_code == 200
    assert 'id="countdown"' in page.content.decode()
    answers = list(attempt.answers.all())
    for answer in answers[:5]:
        saved = official_client.post(
            urls(attempt)["save"],
            {"position": answer.position, "response": shown_key(answer)},
        )
        assert saved.status_code == 200 and saved.json()["ok"]
    # The last five come with the submit form itself.
    form = {f"q{a.position}": list(shown_key(a)) for a in answers[5:]}
    response = official_client.post(urls(attempt)["submit"], form)
    assert response.url == urls(attempt)["result"]
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED and attempt.score == 100
    result = official_client.get(response.url)
    assert "100" in result.content.decode()
    # A second submit (double click, another tab) changes nothing.
    official_client.post(urls(attempt)["submit"], {})
    attempt.refresh_from_db()
    assert attempt.score == 100
    assert Attempt.objects.count() == 1


def test_resume_on_a_second_client(official, exam):
    first, second = Client(), Client()
    first.force_login(official.user)
    second.force_login(official.user)
    first.post(reverse("exams:start", args=[exam.pk]))
    attempt = Attempt.objects.get()
    tf = attempt.answers.filter(snapshot__type="true_false").first()
    first.post(urls(attempt)["save"], {"position": tf.position, "response": "F"})
    response = second.post(reverse("exams:start", args=[exam.pk]))
    assert response.url == urls(attempt)["attempt"]
    html = second.get(response.url).content.decode()
    assert f'name="q{tf.position}" value="F" checked' in html
    assert Attempt.objects.count() == 1


def test_the_attempt_page_escapes_questions_and_shows_each_saved_response(
    official_client, official
):
    single = QuestionFactory(stem="<b>\"甲'</b>\n第二行\r\n第三行", option_b="<script>x()</script>")
    multiple = QuestionFactory(multiple=True)
    true_false = QuestionFactory(true_false=True)
    exam = ExamSessionFactory(
        paper=fixed_paper([single, multiple, true_false]),
        shuffle_questions=False,
        shuffle_options=False,
    )
    official_client.post(reverse("exams:start", args=[exam.pk]))
    attempt = Attempt.objects.get()
    for position, response in ((1, "B"), (2, "AC"), (3, "F")):
        official_client.post(urls(attempt)["save"], {"position": position, "response": response})
    html = official_client.get(urls(attempt)["attempt"]).content.decode()

    assert '<p class="stem">&lt;b&gt;&quot;甲&#x27;&lt;/b&gt;<br>第二行<br>第三行</p>' in html
    assert "<script>x()" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    checked = re.findall(r'<input type="(\w+)" name="q(\d)" value="(\w)" checked>', html)
    assert checked == [
        ("radio", "1", "B"),
        ("checkbox", "2", "A"),
        ("checkbox", "2", "C"),
        ("radio", "3", "F"),
    ]
    assert html.count('<input type="radio" name="q3"') == 2
    assert html.count('class="save-state saved"') == 3
    assert 'data-total="3"' in html


def test_answer_keys_never_reach_the_browser_before_review(official_client, official, secret_exam):
    official_client.post(reverse("exams:start", args=[secret_exam.pk]))
    attempt = Attempt.objects.get()
    pages = [
        official_client.get(reverse("exams:index")),
        official_client.get(reverse("exams:session", args=[secret_exam.pk])),
        official_client.get(urls(attempt)["attempt"]),
    ]
    answer = attempt.answers.first()
    saved = official_client.post(urls(attempt)["save"], {"position": 1, "response": "B"})
    assert set(saved.json()) == {"ok", "position", "response", "saved_at", "remaining"}
    pages.append(saved)
    official_client.post(urls(attempt)["submit"])
    pages.append(official_client.get(urls(attempt)["result"]))
    pages.append(official_client.get(reverse("exams:notebook")))
    for page in pages:
        body = page.content.decode()
        assert SECRET_EXPLANATION not in body and SECRET_BASIS not in body
        assert "正确答案" not in body
    assert answer.snapshot["answer"] == "A"
    # After the session closes the review shows them.
    secret_exam.closes_at = timezone.now() - timedelta(seconds=1)
    secret_exam.opens_at = timezone.now() - timedelta(days=1)
    secret_exam.save()
    review = official_client.get(urls(attempt)["result"]).content.decode()
    assert SECRET_EXPLANATION in review and SECRET_BASIS in review
    notebook = official_client.get(reverse("exams:notebook")).content.decode()
    assert "秘密解析" not in notebook  # only after checking an answer
    assert "第1题" in notebook or "题干" in notebook


def test_review_never_policy_hides_keys_forever(official_client, secret_exam):
    secret_exam.review_policy = "never"
    secret_exam.save()
    official_client.post(reverse("exams:start", args=[secret_exam.pk]))
    attempt = Attempt.objects.get()
    official_client.post(urls(attempt)["submit"])
    secret_exam.closes_at = timezone.now() - timedelta(seconds=1)
    secret_exam.opens_at = timezone.now() - timedelta(days=1)
    secret_exam.save()
    body = official_client.get(urls(attempt)["result"]).content.decode()
    assert SECRET_EXPLANATION not in body


def test_another_officials_attempt_is_404(client, official, exam):
    attempt = engine.start_attempt(exam, official)
    intruder = OfficialFactory()
    client.force_login(intruder.user)
    u = urls(attempt)
    assert client.get(u["attempt"]).status_code == 404
    assert client.get(u["result"]).status_code == 404
    assert client.get(u["certificate"]).status_code == 404
    assert client.post(u["save"], {"position": 1, "response": "A"}).status_code == 404
    assert client.post(u["submit"]).status_code == 404
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.IN_PROGRESS
    assert not attempt.answers.exclude(response="").exists()
    # A wrong session id in the URL is also a 404.
    other_session = ExamSessionFactory(paper=exam.paper)
    client.force_login(official.user)
    wrong = reverse("exams:attempt", args=[other_session.pk, attempt.pk])
    assert client.get(wrong).status_code == 404
    wrong_save = reverse("exams:save", args=[other_session.pk, attempt.pk])
    assert client.post(wrong_save, {"position": 1, "response": "A"}).status_code == 404


def test_save_after_deadline_is_refused_with_message(official_client, official, exam):
    exam.opens_at = timezone.now() - timedelta(days=1)
    exam.save()
    attempt = engine.start_attempt(exam, official, now=timezone.now() - timedelta(hours=2))
    response = official_client.post(urls(attempt)["save"], {"position": 1, "response": "A"})
    assert response.status_code == 409
    assert response.json()["closed"] and "时间已到" in response.json()["error"]
    response = official_client.post(urls(attempt)["save"], {"position": "x"})
    assert response.status_code == 400


def test_attempt_page_after_deadline_auto_submits(official_client, official, exam):
    exam.opens_at = timezone.now() - timedelta(days=1)
    exam.save()
    attempt = engine.start_attempt(exam, official, now=timezone.now() - timedelta(hours=2))
    response = official_client.get(urls(attempt)["attempt"])
    assert response.url == urls(attempt)["result"]
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.AUTO_SUBMITTED


def test_practice_gives_immediate_feedback(official_client, official, bank):
    practice = ExamSessionFactory(
        paper=fixed_paper(bank), kind=SessionKind.PRACTICE, review_policy="never"
    )
    official_client.post(reverse("exams:start", args=[practice.pk]))
    attempt = Attempt.objects.get()
    answer = attempt.answers.get(position=1)
    wrong = (
        "T" if answer.snapshot["answer"] == "F" else ("F" if answer.type == "true_false" else "")
    )
    data = official_client.post(
        urls(attempt)["save"], {"position": 1, "response": shown_key(answer)}
    ).json()
    assert data["feedback"]["correct"] is True
    assert data["feedback"]["explanation"] == "解析内容"
    if wrong:
        data = official_client.post(urls(attempt)["save"], {"position": 1, "response": wrong})
        assert data.json()["feedback"]["correct"] is False


def test_wrong_answer_notebook_collects_and_clears(official_client, official, bank):
    practice = ExamSessionFactory(paper=fixed_paper(bank[:3]), kind=SessionKind.PRACTICE)
    attempt = engine.start_attempt(practice, official)
    engine.submit_attempt(attempt)  # nothing answered: three wrong
    page = official_client.get(reverse("exams:notebook"))
    rows = page.context["rows"]
    assert len(rows) == 3
    entry = rows[0][0]
    response = official_client.post(
        reverse("exams:notebook"), {f"e{entry.pk}": list(entry.snapshot["answer"])}
    )
    assert dict((e.pk, r) for e, r in response.context["rows"])[entry.pk] is True
    assert len(official_client.get(reverse("exams:notebook")).context["rows"]) == 2


def test_the_notebook_counts_repeats_reopens_cleared_entries_and_skips_right_answers(
    official, bank
):
    practice = ExamSessionFactory(paper=fixed_paper(bank[:3]), kind=SessionKind.PRACTICE)
    first = engine.start_attempt(practice, official)
    engine.submit_attempt(first)  # nothing answered: three wrong
    entries = NotebookEntry.objects.filter(official=official)
    assert sorted(entries.values_list("times_wrong", flat=True)) == [1, 1, 1]
    entries.update(cleared=True)

    second = engine.start_attempt(practice, official)
    right = second.answers.get(position=1)
    engine.save_answer(second.pk, official, 1, right.snapshot["answer"])
    engine.submit_attempt(second)

    bumped = {e.question_id: e for e in entries.all()}
    assert len(bumped) == 3
    assert bumped[right.question_id].times_wrong == 1  # right this time: left alone
    assert bumped[right.question_id].cleared is True
    others = [e for q, e in bumped.items() if q != right.question_id]
    assert [(e.times_wrong, e.cleared, e.session_id) for e in others] == [
        (2, False, practice.pk)
    ] * 2
    assert all(e.snapshot["stem"] for e in others)


def _pass(attempt, official, capture):
    """Answer every question right and submit; the certificate is issued on commit."""
    for answer in attempt.answers.all():
        engine.save_answer(attempt.pk, official, answer.position, answer.snapshot["answer"])
    with capture(execute=True):
        engine.submit_attempt(attempt)


def test_certificate_pdf_for_pre_appointment(
    official_client, official, bank, django_capture_on_commit_callbacks
):
    session = ExamSessionFactory(
        paper=fixed_paper(bank), kind=SessionKind.PRE_APPOINTMENT, for_everyone=False
    )
    SessionCandidate.objects.create(session=session, official=official, intended_post="副科长")
    attempt = engine.start_attempt(session, official)
    assert official_client.get(urls(attempt)["certificate"]).status_code == 404
    _pass(attempt, official, django_capture_on_commit_callbacks)
    response = official_client.get(urls(attempt)["certificate"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_certificate_pdf_for_a_pre_appointment_make_up(
    official_client, official, bank, django_capture_on_commit_callbacks
):
    original = ExamSessionFactory(
        paper=fixed_paper(bank), kind=SessionKind.PRE_APPOINTMENT, for_everyone=False
    )
    SessionCandidate.objects.create(session=original, official=official, intended_post="副科长")
    make_up = ExamSessionFactory(
        paper=fixed_paper(bank), kind=SessionKind.MAKEUP, makes_up=original, for_everyone=False
    )
    SessionCandidate.objects.create(session=make_up, official=official)
    attempt = engine.start_attempt(make_up, official)
    _pass(attempt, official, django_capture_on_commit_callbacks)
    response = official_client.get(urls(attempt)["certificate"])
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    # A failed attempt earns no certificate.
    annual_make_up = ExamSessionFactory(
        paper=fixed_paper(bank), kind=SessionKind.MAKEUP, makes_up=ExamSessionFactory()
    )
    other = engine.start_attempt(annual_make_up, official)
    with django_capture_on_commit_callbacks(execute=True):
        engine.submit_attempt(other)
    assert official_client.get(urls(other)["certificate"]).status_code == 404


@pytest.mark.fast_paths
@pytest.mark.parametrize("size", [10, 200])
def test_query_counts_flat(client, size, django_assert_max_num_queries):
    questions = QuestionFactory.create_batch(size)
    session = ExamSessionFactory(paper=fixed_paper(questions))
    official = OfficialFactory()
    client.force_login(official.user)
    attempt = engine.start_attempt(session, official)
    with django_assert_max_num_queries(10):
        assert client.get(urls(attempt)["attempt"]).status_code == 200
    # The session, the user, the frozen paper (cached from then on) and one UPDATE.
    with django_assert_max_num_queries(4):
        response = client.post(urls(attempt)["save"], {"position": size, "response": ""})
        assert response.status_code == 200
    # The session, the user, the official with their department; then the audience,
    # the sessions, the official's overrides and attempts.
    with django_assert_max_num_queries(7):
        assert client.get(reverse("exams:index")).status_code == 200


def test_opening_my_exams_auto_submits_expired_attempts(official_client, official, exam):
    exam.opens_at = timezone.now() - timedelta(days=1)
    exam.save()
    attempt = engine.start_attempt(exam, official, now=timezone.now() - timedelta(hours=2))
    response = official_client.get(reverse("exams:index"))
    assert response.context["rows"][0].status == "submitted"
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.AUTO_SUBMITTED


@pytest.mark.fast_paths
@pytest.mark.parametrize("size", [10, 200])
def test_exam_day_path_query_counts_flat(client, size, django_assert_max_num_queries):
    """Session page, start, attempt page and a submit carrying every answer cost the
    same number of queries for a paper of 10 or 200 questions and with other
    officials' attempts about."""
    questions = QuestionFactory.create_batch(size)
    session = ExamSessionFactory(paper=fixed_paper(questions))
    for other in OfficialFactory.create_batch(3):
        engine.start_attempt(session, other)
    official = OfficialFactory()
    client.force_login(official.user)
    client.get(reverse("exams:index"))  # the navigation's cached answers, as on any page
    # Session, user, official with department; the exam session, my attempts,
    # override (a session for everyone needs no assignment query).
    with django_assert_max_num_queries(6):
        assert client.get(reverse("exams:session", args=[session.pk])).status_code == 200
    # The paper comes from the paper cache: one INSERT each for attempt and answers.
    with django_assert_max_num_queries(10):
        response = client.post(reverse("exams:start", args=[session.pk]))
    attempt = Attempt.objects.get(official=official)
    assert response.url == urls(attempt)["attempt"]
    # Session, user, the attempt with its session, the answers.
    with django_assert_max_num_queries(4):
        page = client.get(urls(attempt)["attempt"])
    assert page.content.count(b'class="card question"') == size
    answers = list(attempt.answers.all())
    form = {f"q{a.position}": list(shown_key(a)) for a in answers}
    # The state UPDATE, the answers, one UPDATE for responses and grades, the scores.
    with django_assert_max_num_queries(10):
        response = client.post(urls(attempt)["submit"], form)
    assert response.url == urls(attempt)["result"]
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED
    assert attempt.score == attempt.max_score
    assert not attempt.answers.filter(is_correct=False).exists()
