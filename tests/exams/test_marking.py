"""Marking of short-answer and case-analysis answers (exams.marking) and its back-office
screens: rounds, the margin, averages and reconciliation, who may mark what, audit,
re-marking, the race for a round, results that become final, and the queue."""

import threading
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from wagtail.models import ModelLogEntry

import pytest

from exams import grading, marking
from exams import results as exam_results
from exams.models import (
    Answer,
    Attempt,
    AttemptState,
    Band,
    Certificate,
    Marking,
    MarkingRound,
    NotebookEntry,
    QuestionType,
)
from exams.models.certificates import CertificateKind
from learning import roles
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory
from tests.races import racing_test

from .factories import QuestionFactory
from .marking_factories import case_question, marking_exam, short_question, sit

FIRST, SECOND, THIRD = MarkingRound.FIRST, MarkingRound.SECOND, MarkingRound.RECONCILIATION


@pytest.fixture(autouse=True)
def in_english(settings):
    """The messages are checked in English (the site's default language is zh-hans)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def organizer_user(**kwargs):
    return OfficialFactory(user=UserFactory(roles=[roles.OFFICIAL, roles.ORGANIZER], **kwargs)).user


@pytest.fixture
def markers(db):
    """Three organizers who mark."""
    return [organizer_user() for _ in range(3)]


@pytest.fixture
def case(db):
    return case_question()


@pytest.fixture
def choice(db):
    return QuestionFactory()  # single choice, A is right


@pytest.fixture
def case_exam(choice, case):
    """A choice question worth 10 and a case analysis worth 20 (rubric total 10)."""
    return marking_exam([(choice, 10), (case, 20)])


@pytest.fixture
def candidate(db):
    return OfficialFactory()


@pytest.fixture
def sat(case_exam, candidate, choice, case):
    """The candidate's submitted attempt: the choice right, the case written."""
    return sit(case_exam, candidate, {choice: "A", case: "超期作出决定，违法。\n应当改正。"})


def case_answer(attempt):
    return Answer.objects.get(attempt=attempt, snapshot__type=QuestionType.CASE_ANALYSIS)


def give(attempt, marker, points, round=FIRST, comment=""):
    return marking.mark(case_answer(attempt), marker, points, comment, round)


# Scaling and rubrics ------------------------------------------------------------------


def test_points_are_the_rubric_share_scaled_to_the_paper_and_rounded_half_up(sat):
    answer = case_answer(sat)
    assert marking.answer_points(answer, [Decimal(4), Decimal("2.5"), Decimal(3)]) == Decimal(
        "19.00"
    )
    answer.points = Decimal(5)
    answer.snapshot["rubric"] = [{"element": "a", "points": "2"}, {"element": "b", "points": "1"}]
    assert marking.answer_points(answer, [Decimal(1), Decimal(0)]) == Decimal("1.67")
    assert marking.answer_points(answer, [Decimal("0.5"), Decimal(0)]) == Decimal("0.83")


def test_an_empty_rubric_is_one_element_worth_the_questions_points(db, candidate):
    question = short_question()
    exam = marking_exam([(question, 8)])
    attempt = sit(exam, candidate, {question: "警告、罚款、没收违法所得。"})
    answer = attempt.answers.get()
    elements = marking.rubric_elements(answer)
    assert [e.points for e in elements] == [Decimal(8)]
    marker = organizer_user()
    given = marking.mark(answer, marker, ["6.5"], "", FIRST)
    assert given.points == Decimal("6.50")
    with pytest.raises(marking.InvalidMarks):
        marking.mark(answer, marker, ["8.01"], "", FIRST)


@pytest.mark.parametrize(
    "points",
    [["-1", "0", "0"], ["4.5", "0", "0"], ["4", "3"], ["4", "3", "3", "1"], ["x", "1", "1"]],
)
def test_points_outside_what_the_rubric_allows_are_refused_and_nothing_is_stored(
    sat, markers, points
):
    with pytest.raises(marking.InvalidMarks):
        give(sat, markers[0], points)
    assert not Marking.objects.exists()
    assert not ModelLogEntry.objects.filter(action__startswith="xuefa.marking").exists()


# Rounds, the margin, averages and reconciliation --------------------------------------


def test_a_submitted_written_answer_waits_and_the_attempt_counts_nowhere(sat, case_exam):
    assert sat.state == AttemptState.SUBMITTED
    assert sat.marking_pending is True and sat.score is None and sat.passed is None
    assert case_answer(sat).points_awarded is None
    assert grading.counting_attempt(case_exam, [sat]) is None


def test_the_one_mark_without_second_marking_makes_the_result_final(
    sat, case_exam, markers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        given = give(sat, markers[0], ["4", "2.5", "3"], comment="条款引用不全")
    assert given.points == Decimal("19.00") and given.element_points == ["4.00", "2.50", "3.00"]
    answer = case_answer(sat)
    assert answer.points_awarded == Decimal("19.00") and answer.is_correct is False
    attempt = Attempt.objects.get(pk=sat.pk)
    assert attempt.marking_pending is False
    assert (attempt.score, attempt.max_score) == (Decimal("29.00"), Decimal("30.00"))
    assert attempt.percent == Decimal("96.67")
    assert attempt.band == Band.EXCELLENT and attempt.passed is True
    # Reports count it now.
    assert grading.counting_attempt(case_exam, [attempt]) == attempt
    # The pass of an annual exam is certified once the result is committed.
    assert Certificate.objects.get(attempt=attempt).kind == CertificateKind.EXAM


def test_full_points_are_correct_and_marked_answers_stay_out_of_the_notebook(sat, markers):
    give(sat, markers[0], ["4", "3", "3"])
    assert case_answer(sat).is_correct is True
    give(sat, markers[0], ["0", "0", "0"])
    assert case_answer(sat).is_correct is False
    assert not NotebookEntry.objects.exists()


def test_second_marking_waits_for_a_second_marker_then_averages_within_the_margin(
    sat, case_exam, markers
):
    case_exam.second_marking, case_exam.marking_margin = True, Decimal(2)
    case_exam.save()
    give(sat, markers[0], ["4", "3", "1"])  # 8 of 10: 16 points
    assert case_answer(sat).points_awarded is None
    assert Attempt.objects.get(pk=sat.pk).score is None
    give(sat, markers[1], ["4", "3", "2"], round=SECOND)  # 18 points, 2 apart: the margin
    assert case_answer(sat).points_awarded == Decimal("17.00")
    attempt = Attempt.objects.get(pk=sat.pk)
    assert attempt.score == Decimal("27.00") and attempt.band == Band.EXCELLENT


def test_the_average_is_rounded_to_two_places_half_up(db, candidate, markers):
    case = case_question()
    exam = marking_exam([(case, 10)], second_marking=True, marking_margin=Decimal(1))
    attempt = sit(exam, candidate, {case: "答案"})
    give(attempt, markers[0], ["4", "3", "0"])  # 7.00
    give(attempt, markers[1], ["4", "3", "0.25"], round=SECOND)  # 7.25
    assert case_answer(attempt).points_awarded == Decimal("7.13")  # 7.125, half up


def test_marks_further_apart_than_the_margin_go_to_a_third_whose_mark_is_final(
    sat, case_exam, markers
):
    case_exam.second_marking, case_exam.marking_margin = True, Decimal(2)
    case_exam.save()
    give(sat, markers[0], ["4", "3", "3"])  # 20 points
    give(sat, markers[1], ["1", "1", "1"], round=SECOND)  # 6 points
    assert case_answer(sat).points_awarded is None
    assert Attempt.objects.get(pk=sat.pk).marking_pending is True
    give(sat, markers[2], ["3", "2", "2"], round=THIRD)  # 14 points
    assert case_answer(sat).points_awarded == Decimal("14.00")
    attempt = Attempt.objects.get(pk=sat.pk)
    assert (attempt.score, attempt.percent, attempt.band) == (
        Decimal("24.00"),
        Decimal("80.00"),
        Band.GOOD,
    )


def test_a_reconciliation_is_refused_when_the_marks_are_within_the_margin(sat, case_exam, markers):
    case_exam.second_marking = True
    case_exam.save()
    give(sat, markers[0], ["4", "3", "3"])
    give(sat, markers[1], ["4", "3", "2"], round=SECOND)
    with pytest.raises(marking.MarkingRefused, match="needs no reconciliation"):
        give(sat, markers[2], ["4", "3", "3"], round=THIRD)


# Who may mark what ---------------------------------------------------------------------


def test_nobody_marks_their_own_exam(sat, candidate):
    with pytest.raises(marking.MarkingRefused, match="your own exam"):
        give(sat, candidate.user, ["4", "3", "3"])


def test_the_second_marker_is_not_the_first(sat, case_exam, markers):
    case_exam.second_marking = True
    case_exam.save()
    give(sat, markers[0], ["4", "3", "3"])
    with pytest.raises(marking.MarkingRefused, match="other than the first marker"):
        give(sat, markers[0], ["4", "3", "3"], round=SECOND)


def test_the_reconciler_has_marked_neither_earlier_round(sat, case_exam, markers):
    case_exam.second_marking = True
    case_exam.save()
    give(sat, markers[0], ["4", "3", "3"])
    give(sat, markers[1], ["0", "0", "0"], round=SECOND)
    for earlier in markers[:2]:
        with pytest.raises(marking.MarkingRefused, match="has not marked this answer"):
            give(sat, earlier, ["2", "2", "2"], round=THIRD)


def test_rounds_come_in_order_and_only_where_the_session_has_them(sat, case_exam, markers):
    with pytest.raises(marking.MarkingRefused, match="no second marking"):
        give(sat, markers[1], ["4", "3", "3"], round=SECOND)
    case_exam.second_marking = True
    case_exam.save()
    with pytest.raises(marking.MarkingRefused, match="first marking comes first"):
        give(sat, markers[1], ["4", "3", "3"], round=SECOND)


def test_an_attempt_in_progress_or_voided_is_not_marked(case_exam, candidate, case, markers):
    attempt = sit(case_exam, candidate, {case: "还在写"}, submit=False)
    with pytest.raises(marking.MarkingRefused, match="still in progress"):
        give(attempt, markers[0], ["1", "1", "1"])
    Attempt.objects.filter(pk=attempt.pk).update(state=AttemptState.SUBMITTED)
    exam_results.void_result(attempt, "替考", markers[1])
    with pytest.raises(marking.MarkingRefused, match="voided"):
        give(attempt, markers[0], ["1", "1", "1"])
    assert not Marking.objects.exists()


def test_choice_answers_are_not_marked_by_hand(sat, markers):
    choice_answer = sat.answers.get(snapshot__type=QuestionType.SINGLE)
    with pytest.raises(marking.MarkingRefused, match="automatically"):
        marking.mark(choice_answer, markers[0], ["1"], "", FIRST)


def test_two_markers_for_one_round_one_wins_and_the_other_is_told(sat, markers):
    """Both opened the answer while it waited; the second to save is told, and the
    first mark stands."""
    answer = case_answer(sat)
    for marker in markers[:2]:
        assert marking.round_for(sat, answer, {}, marker) == (FIRST, None)
    give(sat, markers[0], ["4", "3", "3"])
    with pytest.raises(marking.MarkingTaken, match="Someone else has already marked"):
        give(sat, markers[1], ["0", "0", "0"])
    assert Marking.objects.get().marker == markers[0]
    assert case_answer(sat).points_awarded == Decimal("20.00")


@racing_test
def test_markers_racing_for_a_round_on_postgresql_leave_one_mark():
    case, choice = case_question(), QuestionFactory()
    exam = marking_exam([(choice, 10), (case, 20)])
    attempt = sit(exam, OfficialFactory(), {choice: "A", case: "答案"})
    answer = case_answer(attempt)
    racers = [organizer_user() for _ in range(6)]
    barrier = threading.Barrier(len(racers))
    won, told = [], []

    def race(marker):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            won.append(marking.mark(answer, marker, ["4", "3", "3"], "", FIRST).marker_id)
        except marking.MarkingTaken as error:
            told.append(str(error))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=race, args=(m,)) for m in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1 and len(told) == len(racers) - 1
    assert Marking.objects.get().marker_id == won[0]
    assert ModelLogEntry.objects.filter(action="xuefa.marking.mark").count() == 1
    assert Attempt.objects.get(pk=attempt.pk).score == Decimal("30.00")


# Audit and re-marking ------------------------------------------------------------------


def test_each_mark_and_each_change_is_audited_on_the_attempt(sat, markers):
    give(sat, markers[0], ["4", "2", "3"], comment="一般")
    give(sat, markers[0], ["4", "3", "3"], comment="复核后满分")
    entries = ModelLogEntry.objects.filter(action__startswith="xuefa.marking.").order_by("pk")
    assert [e.action for e in entries] == [
        "xuefa.marking.mark",
        "xuefa.marking.result",
        "xuefa.marking.change",
        "xuefa.marking.result",
    ]
    assert all(e.object_id == str(sat.pk) and e.user_id == markers[0].pk for e in entries)
    given, changed = entries[0].data, entries[2].data
    assert given["before"] is None and given["round"] == 1 and given["marker"] == markers[0].pk
    assert given["after"] == {
        "element_points": ["4.00", "2.00", "3.00"],
        "points": "18.00",
        "comment": "一般",
    }
    assert changed["before"] == given["after"]
    assert changed["after"]["points"] == "20.00" and changed["after"]["comment"] == "复核后满分"
    settled = entries[3].data
    assert settled["before"]["score"] == "28.00" and settled["after"]["score"] == "30.00"
    assert Marking.objects.count() == 1


def test_a_changed_mark_settles_the_final_result_again(sat, markers):
    give(sat, markers[0], ["4", "3", "3"])
    assert Attempt.objects.get(pk=sat.pk).band == Band.EXCELLENT
    give(sat, markers[0], ["2", "2", "2"])  # 12 points: 22 / 30
    attempt = Attempt.objects.get(pk=sat.pk)
    assert (attempt.score, attempt.percent, attempt.band, attempt.passed) == (
        Decimal("22.00"),
        Decimal("73.33"),
        Band.PASS,
        True,
    )


def test_a_re_mark_that_turns_a_pass_into_a_fail_revokes_the_certificate(
    sat, markers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        give(sat, markers[0], ["4", "3", "3"])
    certificate = Certificate.objects.get(attempt=sat)
    assert certificate.revoked_at is None
    with django_capture_on_commit_callbacks(execute=True):
        give(sat, markers[0], ["0", "0", "1"])  # 2 points: 12 / 30 = 40%
    attempt = Attempt.objects.get(pk=sat.pk)
    assert attempt.passed is False and attempt.band == Band.FAIL
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate.revoke_reason == "Re-marking changed the result to a fail."


def test_a_mark_is_changed_only_by_its_marker_and_not_once_reconciled(sat, case_exam, markers):
    case_exam.second_marking = True
    case_exam.save()
    give(sat, markers[0], ["4", "3", "3"])
    with pytest.raises(marking.MarkingTaken):
        give(sat, markers[1], ["4", "3", "3"])  # someone else's first mark
    give(sat, markers[1], ["0", "0", "0"], round=SECOND)
    give(sat, markers[2], ["2", "2", "2"], round=THIRD)
    with pytest.raises(marking.MarkingRefused, match="only its marker"):
        give(sat, markers[0], ["3", "3", "3"])
    give(sat, markers[2], ["3", "3", "3"], round=THIRD)
    assert case_answer(sat).points_awarded == Decimal("18.00")


def test_a_first_mark_changed_beyond_the_margin_sends_the_answer_to_reconciliation(
    sat, case_exam, markers
):
    case_exam.second_marking = True
    case_exam.save()
    give(sat, markers[0], ["4", "3", "3"])
    give(sat, markers[1], ["4", "3", "2"], round=SECOND)
    assert Attempt.objects.get(pk=sat.pk).score == Decimal("29.00")
    give(sat, markers[0], ["0", "0", "0"])
    attempt = Attempt.objects.get(pk=sat.pk)
    assert attempt.marking_pending is True and attempt.score is None
    assert marking.next_answer(markers[2]) == case_answer(sat)


# The queue and the next answer -----------------------------------------------------------


def test_the_queue_counts_each_round_per_session_and_question_and_what_you_may_mark(db, markers):
    case, other = case_question(), short_question()
    exam = marking_exam([(case, 10), (other, 10)], second_marking=True)
    attempts = [sit(exam, OfficialFactory(), {case: "甲", other: "乙"}) for _ in range(4)]
    by = {a.pk: case_answer(a) for a in attempts}
    marking.mark(by[attempts[1].pk], markers[0], ["4", "3", "3"], "", FIRST)
    for attempt in attempts[2:]:
        marking.mark(by[attempt.pk], markers[0], ["4", "3", "3"], "", FIRST)
        marking.mark(by[attempt.pk], markers[1], ["0", "0", "0"], "", SECOND)
    # attempts[2] and [3] wait for reconciliation; [1] for a second mark; [0] for a first.
    rows = {row.question_id: row for row in marking.queue(markers[0])}
    row = rows[case.pk]
    assert (row.first, row.second, row.reconciliation) == (1, 1, 2)
    assert rows[other.pk].first == 4
    assert row.yours == 1  # the first marker may give only the missing first mark
    assert {r.question_id: r.yours for r in marking.queue(markers[2])} == {
        case.pk: 4,
        other.pk: 4,
    }
    assert marking.queue(markers[1])[0].session_title == exam.title


def test_the_next_answer_skips_what_you_may_not_mark_and_moves_on(sat, case_exam, markers):
    case_exam.second_marking = True
    case_exam.save()
    answer = case_answer(sat)
    assert marking.next_answer(markers[0], case_exam.pk, answer.question_id) == answer
    give(sat, markers[0], ["4", "3", "3"])
    assert marking.next_answer(markers[0]) is None
    assert marking.next_answer(markers[1]) == answer
    assert marking.next_answer(markers[1], after=answer.pk) == answer  # comes round again
    assert marking.next_answer(sat.official.user) is None


# The screens ----------------------------------------------------------------------------


def queue_url(**query):
    url = reverse("exams_marking:queue")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def answer_url(answer, round=None):
    url = reverse("exams_marking:answer", args=[answer.pk])
    return f"{url}?round={round}" if round else url


def next_url(answer):
    """Where a saved (or refused) mark leads: the next answer of the same question."""
    query = f"session={answer.attempt.session_id}&question={answer.question_id}"
    return f"{reverse('exams_marking:next')}?{query}"


@pytest.fixture
def marker_client(client, markers):
    client.force_login(markers[0])
    return client


def test_organizers_hold_the_marking_permissions_and_hr_does_not(markers, hr_user):
    assert markers[0].has_perms(["exams.add_marking", "exams.change_marking"])
    assert markers[0].has_perm("exams.view_marking")
    assert not markers[0].has_perm("exams.delete_marking")
    assert not hr_user.has_perm("exams.add_marking")


def test_the_queue_page_lists_counts_and_filters_by_session_and_question(
    marker_client, sat, case_exam, case
):
    other_case = case_question()
    other_exam = marking_exam([(other_case, 10)], title="另一场考试")
    sit(other_exam, OfficialFactory(), {other_case: "答"})
    page = marker_client.get(queue_url())
    assert page.status_code == 200
    assert [(r.session_id, r.question_id) for r in page.context["rows"]] == [
        (other_exam.pk, other_case.pk),
        (case_exam.pk, case.pk),
    ]
    assert page.context["yours"] == 2
    only = marker_client.get(queue_url(session=case_exam.pk)).context
    assert [r.question_id for r in only["rows"]] == [case.pk]
    assert only["questions"] == [(case.pk, case.key)]
    none = marker_client.get(queue_url(session=case_exam.pk, question=other_case.pk))
    assert none.context["rows"] == []
    assert b'id="marking-empty"' in none.content
    bad = marker_client.get(queue_url(session="x", question="1" * 30))
    assert len(bad.context["rows"]) == 2


def test_the_queue_says_so_when_nothing_waits(marker_client):
    page = marker_client.get(queue_url())
    assert page.status_code == 200
    assert "Nothing is waiting to be marked." in page.content.decode()


def test_the_queue_costs_the_same_number_of_queries_for_many_answers(
    marker_client, django_assert_max_num_queries, markers
):
    case = case_question()
    exam = marking_exam([(case, 10)], second_marking=True)
    for _ in range(2):
        sit(exam, OfficialFactory(), {case: "答"})
    marker_client.get(queue_url())  # the first request after sign-in also saves the session
    with CaptureQueriesContext(connection) as few:
        marker_client.get(queue_url())
    for index in range(20):
        attempt = sit(marking_exam([(case_question(), 10)]), OfficialFactory(), {})
        if index % 2:
            give(attempt, markers[1], ["1", "1", "1"])
    for _ in range(10):
        sit(exam, OfficialFactory(), {case: "答"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = marker_client.get(queue_url())
    assert len(page.context["rows"]) == 11


def test_marking_is_anonymous_by_default_with_a_stable_pseudonym(marker_client, db):
    department = DepartmentFactory(name="县司法局")
    candidate = OfficialFactory(
        user=UserFactory(name="张三丰"), staff_number="SF-7781", department=department
    )
    case, other = case_question(), short_question()
    exam = marking_exam([(case, 10), (other, 10)])
    attempt = sit(exam, candidate, {case: "甲", other: "乙"})
    pages = [marker_client.get(answer_url(a)) for a in attempt.answers.all()]
    code = marking.pseudonym(attempt)
    for page in pages:
        text = page.content.decode()
        assert page.status_code == 200
        assert f"Candidate {code}" in text
        for secret in ("张三丰", "SF-7781", "县司法局"):
            assert secret not in text
    exam.anonymous_marking = False
    exam.save()
    text = marker_client.get(answer_url(case_answer(attempt))).content.decode()
    assert "张三丰" in text and "县司法局" in text and code not in text


def test_the_answer_page_shows_the_question_rubric_model_answer_and_escaped_text(
    marker_client, case_exam, case, candidate
):
    attempt = sit(case_exam, candidate, {case: "<script>alert(1)</script>\n第二行"})
    page = marker_client.get(answer_url(case_answer(attempt)))
    text = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>第二行" in text
    assert "<script>alert(1)" not in text
    assert "请分析其中的问题" in text and case.model_answer in text
    assert [e.text for e, _field in page.context["form"].rows()] == [
        r["element"] for r in case.rubric
    ]
    assert 'max="4"' in text and 'name="element_2"' in text
    assert page.context["round"] == FIRST and page.context["earlier"] == []


def test_the_second_marker_is_blind_and_the_reconciler_sees_both(
    marker_client, client, sat, case_exam, markers
):
    case_exam.second_marking = True
    case_exam.save()
    give(sat, markers[1], ["4", "3", "3"], comment="第一评卷人意见")
    second = marker_client.get(answer_url(case_answer(sat)))
    assert second.context["round"] == SECOND and second.context["earlier"] == []
    assert "第一评卷人意见" not in second.content.decode()
    give(sat, markers[0], ["0", "0", "0"], round=SECOND, comment="第二评卷人意见")
    client.force_login(markers[2])
    third = client.get(answer_url(case_answer(sat)))
    text = third.content.decode()
    assert third.context["round"] == THIRD
    assert "第一评卷人意见" in text and "第二评卷人意见" in text


def test_saving_a_mark_goes_to_the_next_answer_of_the_question_then_says_none_is_left(
    marker_client, case_exam, case, choice
):
    first, second = (
        sit(case_exam, OfficialFactory(), {choice: "A", case: f"答案{n}"}) for n in range(2)
    )
    answer = case_answer(first)
    form = {"round": "1", "element_0": "4", "element_1": "3", "element_2": "2.5", "comment": "好"}
    saved = marker_client.post(answer_url(answer), form)
    assert saved.status_code == 302 and saved["Location"] == next_url(answer)
    assert Marking.objects.get().points == Decimal("19.00")
    onward = marker_client.get(saved["Location"])
    assert onward.status_code == 302 and onward["Location"] == answer_url(case_answer(second))
    marker_client.post(onward["Location"], form)
    done = marker_client.get(next_url(answer))
    assert done.status_code == 200 and b'id="marking-done"' in done.content
    assert Attempt.objects.get(pk=first.pk).score == Decimal("29.00")


def test_points_out_of_range_show_the_form_again_and_store_nothing(marker_client, sat):
    form = {"round": "1", "element_0": "5", "element_1": "3", "element_2": "-1", "comment": ""}
    page = marker_client.post(answer_url(case_answer(sat)), form)
    assert page.status_code == 200
    assert set(page.context["form"].errors) == {"element_0", "element_2"}
    assert not Marking.objects.exists()


def test_a_marker_reopens_their_mark_to_change_it(marker_client, sat, markers):
    give(sat, markers[0], ["4", "2", "3"], comment="原意见")
    page = marker_client.get(answer_url(case_answer(sat)))
    assert page.context["own"] is not None and page.context["round"] == FIRST
    assert page.context["form"].initial["element_1"] == "2.00"
    changed = {"round": "1", "element_0": "4", "element_1": "3", "element_2": "3"}
    marker_client.post(answer_url(case_answer(sat)), changed)
    assert Marking.objects.get().points == Decimal("20.00")


def test_marking_your_own_exam_is_refused_with_a_message(client, case_exam, case, choice):
    organizer = organizer_user()
    attempt = sit(case_exam, organizer.official, {choice: "A", case: "自己的答案"})
    client.force_login(organizer)
    answer = case_answer(attempt)
    for response in (
        client.get(answer_url(answer)),
        client.post(answer_url(answer), {"round": "1", "element_0": "4"}),
    ):
        assert response.status_code == 302 and response["Location"] == next_url(answer)
    assert not Marking.objects.exists()
    message = [str(m) for m in client.get(queue_url()).context["messages"]]
    assert any("your own exam" in m for m in message)


def test_another_markers_round_is_refused_on_the_page(marker_client, sat, markers):
    give(sat, markers[1], ["4", "3", "3"])
    answer = case_answer(sat)
    response = marker_client.get(answer_url(answer, round=1))
    assert response.status_code == 302 and response["Location"] == next_url(answer)
    post = marker_client.post(answer_url(answer), {"round": "1", "element_0": "0"})
    assert post.status_code == 302 and Marking.objects.get().marker == markers[1]


def test_a_choice_answer_or_an_unknown_one_has_no_marking_page(marker_client, sat):
    choice_answer = sat.answers.get(snapshot__type=QuestionType.SINGLE)
    assert marker_client.get(answer_url(choice_answer)).status_code == 404
    assert marker_client.get("/admin/marking/answers/999999/").status_code == 404


def test_those_without_the_marking_permission_are_refused_as_elsewhere_in_the_admin(
    client, sat, hr_user, official
):
    answer = case_answer(sat)
    urls = [queue_url(), reverse("exams_marking:next"), answer_url(answer)]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('wagtailadmin_login')}?next={url}"
    client.force_login(hr_user)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    response = client.post(answer_url(answer), {"round": "1", "element_0": "4"})
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    client.force_login(official.user)
    for url in urls:
        assert client.get(url).status_code == 403
    assert not Marking.objects.exists()


def test_the_exams_menu_offers_marking_to_markers_only(marker_client, client, hr_user):
    # The sidebar's menu travels as JSON to the admin's script.
    link = f'"url": "{reverse("exams_marking:queue")}"'
    assert link in marker_client.get(reverse("wagtailadmin_home")).content.decode()
    client.force_login(hr_user)
    assert link not in client.get(reverse("wagtailadmin_home")).content.decode()
