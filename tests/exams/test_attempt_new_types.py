"""Sitting the question types of issue #19 on the attempt side: fill in the blank,
short answer and case analysis beside the choice types. Every way a response enters
(the page's save, the fast autosave, save_answer, the submit form, a practice's
feedback) takes the same canonical forms; nothing typed is lost to a reload, a killed
server, the deadline or a double submit; an attempt with written answers waits for
marking and its result page says so, and once marked it is final as any other."""

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from decimal import Decimal
from html import unescape
from http.cookiejar import CookieJar
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

import pytest

from exams import attempts as engine
from exams import grading
from exams.models import (
    Answer,
    Attempt,
    AttemptState,
    Certificate,
    CertificateKind,
    Marking,
    MarkingRound,
    QuestionType,
    SessionKind,
)
from tests.factories import DEFAULT_PASSWORD, OfficialFactory, UserFactory
from tests.races import racing_test

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

NO_OPTIONS = {"option_a": "", "option_b": "", "option_c": "", "option_d": "", "answer": ""}
# Two blanks: underscores, then full-width brackets with a space inside.
BLANK_STEM = "依照《____》，行政机关应当自受理申请之日起（ ）日内作出决定。"
BLANKS = [["行政许可法", "中华人民共和国行政许可法"], ["20", "二十"]]
CASE_STEM = "案例：某县市场监管局未经听证即对某公司处以吊销执照的处罚。\n请分析该处罚是否合法。"
RUBRIC = [
    {"element": "指出未告知听证权利", "points": "6"},
    {"element": "引用法律依据", "points": "4"},
]
MODEL_ANSWER = (
    "该处罚程序违法。\n依照《行政处罚法》，吊销许可证件前应当告知当事人有要求听证的权利。"
)

# Positions of the mixed paper (questions unshuffled).
SINGLE, MULTIPLE, TRUE_FALSE, FILL, SHORT, CASE = 1, 2, 3, 4, 5, 6
WRITTEN = (SHORT, CASE)


def zh(message, **values):
    """A message as the page shows it (the site speaks zh-hans): right before and
    after the maintainer translates the new strings."""
    with translation.override("zh-hans"):
        text = gettext(message)
    return text % values if values else text


def fill_blank_question(**kwargs):
    values = {"type": QuestionType.FILL_BLANK, "stem": BLANK_STEM, "blanks": BLANKS, **NO_OPTIONS}
    return QuestionFactory(**{**values, **kwargs})


def written_question(qtype=QuestionType.CASE_ANALYSIS, **kwargs):
    values = {
        "type": qtype,
        "stem": CASE_STEM if qtype == QuestionType.CASE_ANALYSIS else "简述行政许可的设定原则。",
        "rubric": RUBRIC,
        "model_answer": MODEL_ANSWER,
        **NO_OPTIONS,
    }
    return QuestionFactory(**{**values, **kwargs})


def mixed_questions():
    """Single (key A), multiple (key AC), true-false (key T), fill in the blank,
    short answer, case analysis: the paper's positions 1-6."""
    first = QuestionFactory()
    topic = first.topic
    return [
        first,
        QuestionFactory(topic=topic, multiple=True),
        QuestionFactory(topic=topic, true_false=True),
        fill_blank_question(topic=topic),
        written_question(QuestionType.SHORT_ANSWER, topic=topic),
        written_question(topic=topic),
    ]


def mixed_exam(**kwargs):
    """An open annual exam over the mixed paper, 10 points a question, in order."""
    kwargs.setdefault("shuffle_questions", False)
    kwargs.setdefault("shuffle_options", False)
    return ExamSessionFactory(paper=fixed_paper(mixed_questions()), **kwargs)


@pytest.fixture
def attempt(official):
    return engine.start_attempt(mixed_exam(), official)


def url(attempt, name):
    return reverse(f"exams:{name}", args=(attempt.session_id, attempt.pk))


def save(client, attempt, position, response):
    return client.post(url(attempt, "save"), {"position": position, "response": response})


def stored(attempt, position):
    return Answer.objects.get(attempt=attempt, position=position).response


def blanks_wire(*texts):
    """What the page sends for a fill in the blank: its texts as a JSON array."""
    return json.dumps(list(texts), ensure_ascii=False)


def page_of(client, attempt):
    response = client.get(url(attempt, "attempt"))
    assert response.status_code == 200
    return response.content.decode()


def fieldset(html, position):
    match = re.search(
        rf'<fieldset class="card question" id="q-{position}".*?</fieldset>', html, re.S
    )
    assert match, position
    return match.group(0)


def blank_values(html, position):
    return [
        unescape(value)
        for value in re.findall(r'class="blank"[^>]*value="([^"]*)"', fieldset(html, position))
    ]


def textarea_text(html, position):
    """A textarea's text as a browser reads it (the parser drops the newline that
    follows the opening tag)."""
    match = re.search(r"<textarea[^>]*>\n(.*?)</textarea>", fieldset(html, position), re.S)
    assert match, position
    return unescape(match.group(1))


# --- what is stored: one canonical form per type ---------------------------------------


def test_blanks_are_stored_as_a_json_list_of_stripped_texts(official_client, attempt):
    reply = save(official_client, attempt, FILL, blanks_wire("  《行政许可法》 ", "二十\n"))
    assert reply.status_code == 200
    expected = json.dumps(["《行政许可法》", "二十"], ensure_ascii=False)
    assert stored(attempt, FILL) == expected
    assert reply.json()["ok"] and reply.json()["response"] == expected  # echoed as stored
    assert grading.blank_responses(stored(attempt, FILL)) == ["《行政许可法》", "二十"]


def test_blanks_left_empty_are_an_unanswered_question(official_client, attempt):
    assert save(official_client, attempt, FILL, blanks_wire("许可", "")).status_code == 200
    assert stored(attempt, FILL) == blanks_wire("许可", "")
    for empty in (blanks_wire(" ", "\u3000"), "", "   "):
        reply = save(official_client, attempt, FILL, empty)
        assert reply.status_code == 200 and reply.json()["response"] == ""
        assert stored(attempt, FILL) == ""


@pytest.mark.parametrize(
    ("sent", "count"),
    [(blanks_wire("行政许可法"), 1), (blanks_wire("a", "b", "c"), 3), ("[]", 0)],
)
def test_blanks_of_the_wrong_count_are_refused(official_client, attempt, sent, count):
    save(official_client, attempt, FILL, blanks_wire("旧", "答案"))
    reply = save(official_client, attempt, FILL, sent)
    assert reply.status_code == 400
    with translation.override("zh-hans"):
        message = ngettext(
            "This question has %(count)s blank; the answer gave %(given)s.",
            "This question has %(count)s blanks; the answer gave %(given)s.",
            2,
        ) % {"count": 2, "given": count}
    assert reply.json() == {"ok": False, "error": message}
    assert stored(attempt, FILL) == blanks_wire("旧", "答案")  # the saved answer stands


@pytest.mark.parametrize(
    "sent",
    ["行政许可法", '{"0": "a", "1": "b"}', "[1, 2]", '["a", null]', '[["a"], "b"]', "AB"],
)
def test_blanks_of_the_wrong_shape_are_refused(official_client, attempt, sent):
    reply = save(official_client, attempt, FILL, sent)
    assert reply.status_code == 400
    assert reply.json() == {
        "ok": False,
        "error": zh("That is not a valid answer to this question."),
    }
    assert stored(attempt, FILL) == ""


def test_a_blank_takes_at_most_200_characters(official_client, attempt):
    assert save(official_client, attempt, FILL, blanks_wire("法" * 200, "1")).status_code == 200
    reply = save(official_client, attempt, FILL, blanks_wire("法" * 201, "1"))
    assert reply.status_code == 400
    assert reply.json()["error"] == zh("A blank takes at most %(count)s characters.", count=200)
    assert stored(attempt, FILL) == blanks_wire("法" * 200, "1")


def test_a_written_answer_is_stored_as_written_with_its_line_breaks(official_client, attempt):
    text = "  一、程序违法。\r\n二、应当告知听证权利。\r\n\r\n三、<依法>撤销 & 重作。 "
    reply = save(official_client, attempt, CASE, text)
    assert reply.status_code == 200
    as_stored = text.replace("\r\n", "\n")
    assert stored(attempt, CASE) == as_stored
    assert reply.json()["response"] == as_stored
    assert save(official_client, attempt, SHORT, " \n\t ").json()["response"] == ""
    assert stored(attempt, SHORT) == ""


def test_a_written_answer_takes_at_most_5000_characters(official_client, attempt):
    longest = "法" * 4000 + "\r\n" * 999 + "治"  # 5,000 characters once line breaks are \n
    assert save(official_client, attempt, CASE, longest).status_code == 200
    assert len(stored(attempt, CASE)) == 5000
    reply = save(official_client, attempt, CASE, longest + "。")
    assert reply.status_code == 400
    message = zh(
        "Your answer has %(length)s characters; at most %(count)s are accepted. "
        "Shorten it to save it.",
        length=5001,
        count=5000,
    )
    assert reply.json() == {"ok": False, "error": message}
    assert len(stored(attempt, CASE)) == 5000


def test_text_a_database_cannot_hold_is_made_storable(official_client, attempt):
    # A NUL (PostgreSQL refuses it in text) and a lone surrogate from a JSON escape
    # (no UTF-8 for it) must not turn a save into a server error.
    assert save(official_client, attempt, CASE, "甲\x00乙").status_code == 200
    assert stored(attempt, CASE) == "甲乙"
    reply = save(official_client, attempt, FILL, '["\\ud800许可", "20"]')
    assert reply.status_code == 200
    assert grading.blank_responses(stored(attempt, FILL)) == ["?许可", "20"]


def test_choice_types_take_letters_as_before(official_client, attempt):
    assert save(official_client, attempt, MULTIPLE, "ca").json()["response"] == "AC"
    assert save(official_client, attempt, TRUE_FALSE, "F").json()["response"] == "F"
    assert save(official_client, attempt, SINGLE, "Z").status_code == 400
    assert save(official_client, attempt, SINGLE, blanks_wire("A")).status_code == 400
    assert [stored(attempt, p) for p in (SINGLE, MULTIPLE, TRUE_FALSE)] == ["", "AC", "F"]


def test_every_way_in_stores_the_same():
    """The fast autosave (frozen paper), save_answer (the locking path) and the submit
    form's values store one form for the same response."""
    session = mixed_exam()
    fast, plain, form = (engine.start_attempt(session, OfficialFactory()) for _ in range(3))
    sent = {FILL: blanks_wire(" 行政许可法", "20 "), CASE: "答：\r\n程序违法。"}
    for position, response in sent.items():
        owner = fast.official
        engine.autosave(fast.pk, owner.user_id, session.pk, position, response)
        engine.save_answer(plain.pk, plain.official, position, response, shown=True)
    engine.submit_attempt(
        form, responses={FILL: [" 行政许可法", "20 "], CASE: ["答：\r\n程序违法。"]}
    )
    expected = {FILL: blanks_wire("行政许可法", "20"), CASE: "答：\n程序违法。"}
    for attempt in (fast, plain, form):
        assert {p: stored(attempt, p) for p in sent} == expected


@pytest.mark.fast_paths
def test_the_frozen_paper_keeps_each_questions_type_and_blanks(attempt):
    paper = engine.frozen_paper(attempt.pk)
    kinds = {position: entry[1:] for position, (entry) in paper["questions"].items()}
    assert kinds == {
        SINGLE: ("single", "ABCD", 0),
        MULTIPLE: ("multiple", "ABCD", 0),
        TRUE_FALSE: ("true_false", "", 0),
        FILL: ("fill_blank", "", 2),
        SHORT: ("short_answer", "", 0),
        CASE: ("case_analysis", "", 0),
    }
    answer_ids = dict(Answer.objects.filter(attempt=attempt).values_list("position", "pk"))
    assert {p: entry[0] for p, entry in paper["questions"].items()} == answer_ids
    from django.core.cache import cache

    assert cache.get(f"xuefa:attempt-paper:v3:{attempt.pk}") == paper


def test_a_text_question_with_stray_option_cells_has_no_option_order(official):
    stray = written_question(option_a="甲", option_b="乙")
    session = ExamSessionFactory(paper=fixed_paper([stray]), shuffle_options=True)
    attempt = engine.start_attempt(session, official)
    assert attempt.answers.get().option_order == ""
    assert engine.autosave(attempt.pk, official.user_id, session.pk, 1, "AB").response == "AB"


# --- the whole sitting, end to end -----------------------------------------------------


def sitting_form():
    """What the attempt page's form sends for the mixed paper, all keys right."""
    return {
        f"q{SINGLE}": ["A"],
        f"q{MULTIPLE}": ["A", "C"],
        f"q{TRUE_FALSE}": ["T"],
        f"q{FILL}": ["中华人民共和国行政许可法", "二十"],
        f"q{SHORT}": ["一、法定原则；\r\n二、公开、公平、公正原则。"],
        f"q{CASE}": ["该处罚程序违法：\r\n未告知听证权利。"],
    }


def start_through_the_page(client, session):
    response = client.post(reverse("exams:start", args=[session.pk]))
    attempt = Attempt.objects.get(session=session)
    assert response.status_code == 302 and response["Location"] == url(attempt, "attempt")
    return attempt


def test_a_mixed_paper_is_sat_reloaded_submitted_marked_and_final(official_client, official):
    session = mixed_exam(review_policy="after_submit", attempts_allowed=1)
    attempt = start_through_the_page(official_client, session)
    form = sitting_form()
    # Save each as the page does: letters, a JSON array of the blanks, the texts.
    for key, values in form.items():
        position = int(key[1:])
        if position == FILL:
            sent = blanks_wire(*values)
        elif position in WRITTEN:
            sent = values[0]
        else:
            sent = "".join(values)
        reply = save(official_client, attempt, position, sent)
        assert reply.status_code == 200, (position, reply.content)
        assert reply.json()["response"] == stored(attempt, position)

    # A reload shows every saved answer where it was given.
    html = page_of(official_client, attempt)
    assert blank_values(html, FILL) == ["中华人民共和国行政许可法", "二十"]
    assert textarea_text(html, SHORT) == "一、法定原则；\n二、公开、公平、公正原则。"
    assert textarea_text(html, CASE) == "该处罚程序违法：\n未告知听证权利。"
    assert 'value="A" checked' in fieldset(html, SINGLE)
    assert 'value="T" checked' in fieldset(html, TRUE_FALSE)
    assert zh("%(done)s of %(total)s answered", done=6, total=6) in html.replace("\n", "")
    assert html.count("data-saved-at=") == 6

    response = official_client.post(url(attempt, "submit"), form)
    assert response.status_code == 302 and response["Location"] == url(attempt, "result")
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED and attempt.marking_pending is True
    assert (attempt.score, attempt.percent, attempt.band, attempt.passed) == (None, None, "", None)
    assert attempt.max_score == 60
    answers = {a.position: a for a in attempt.answers.all()}
    for position in (SINGLE, MULTIPLE, TRUE_FALSE, FILL):
        assert (answers[position].is_correct, answers[position].points_awarded) == (True, 10)
    for position in WRITTEN:
        assert (answers[position].is_correct, answers[position].points_awarded) == (None, None)

    pending = official_client.get(url(attempt, "result")).content.decode()
    assert zh("Pending marking: your result will appear when the marking is done.") in pending
    assert 'id="score" data-marking-pending' in pending
    for verdict in ("Passed", "Failed", "Excellent", "Good", "Pass", "Fail"):
        assert f"<dd>{zh(verdict)}</dd>" not in pending
    assert "/ 60" not in pending

    # Marking (exams.marking does this): points on the written answers, then settle.
    marker = UserFactory()
    for position, points, comments in (
        (SHORT, 7, ["初评：要点不全"]),
        (CASE, 9, ["初评", "复评：论证充分"]),
    ):
        answer = answers[position]
        for number, comment in enumerate(comments, start=1):
            Marking.objects.create(
                answer=answer, round=number, marker=marker, points=points, comment=comment
            )
        answer.points_awarded = Decimal(points)
        answer.save(update_fields=["points_awarded"])
    grading.settle(attempt, list(attempt.answers.all()))
    attempt.save()
    attempt.refresh_from_db()
    assert (attempt.marking_pending, attempt.score, attempt.passed) == (False, 56, True)

    final = official_client.get(url(attempt, "result")).content.decode()
    assert "Pending marking" not in final and "data-marking-pending" not in final
    assert '<dd id="score">56 / 60</dd>' in final
    assert f"<dd>{zh('Passed')}</dd>" in final
    # The review: the texts per blank beside the accepted answers, the marks, the
    # last round's comment only, and the model answer.
    assert "中华人民共和国行政许可法" in final and "行政许可法 / 中华人民共和国行政许可法" in final
    assert "20 / 二十" in final
    assert "复评：论证充分" in final and "初评<" not in final and "初评：要点不全" in final
    assert "7 / 10" in final and "9 / 10" in final
    assert "吊销许可证件前应当告知当事人有要求听证的权利。" in final
    assert "该处罚程序违法：<br>未告知听证权利。" in final


def test_a_result_with_nothing_to_mark_is_final_at_submit(official_client, official):
    session = ExamSessionFactory(
        paper=fixed_paper([QuestionFactory(), fill_blank_question()]),
        shuffle_questions=False,
        shuffle_options=False,
    )
    attempt = engine.start_attempt(session, official)
    form = {"q1": ["A"], "q2": ["行政许可法", "十五"]}  # the second blank is wrong
    official_client.post(url(attempt, "submit"), form)
    attempt.refresh_from_db()
    assert attempt.marking_pending is False
    assert (attempt.score, attempt.max_score) == (15, 20)  # half the blank's points
    page = official_client.get(url(attempt, "result")).content.decode()
    assert '<dd id="score">15 / 20</dd>' in page and "data-marking-pending" not in page


# --- what follows a final result: the certificate ------------------------------------


@pytest.fixture
def issued(monkeypatch):
    """The attempts exams.certificates was asked to issue a certificate for."""
    from exams import certificates

    calls = []
    monkeypatch.setattr(
        certificates, "issue_for_attempt", lambda attempt: calls.append(attempt.pk), raising=False
    )
    return calls


def choice_and_blank_exam(**kwargs):
    return ExamSessionFactory(
        paper=fixed_paper([QuestionFactory(), fill_blank_question()]),
        shuffle_questions=False,
        shuffle_options=False,
        **kwargs,
    )


def test_a_final_pass_goes_on_to_its_certificate_once_committed(
    official, issued, django_capture_on_commit_callbacks
):
    attempt = engine.start_attempt(choice_and_blank_exam(), official)
    with django_capture_on_commit_callbacks(execute=True):
        engine.submit_attempt(attempt, responses={1: "A", 2: blanks_wire("许可", "20")})
        assert issued == []  # not before the result is committed
    assert issued == [attempt.pk]
    with django_capture_on_commit_callbacks(execute=True):
        _same, graded = engine.submit_attempt(attempt)  # a double submit grades nothing
    assert graded is False and issued == [attempt.pk]


def test_a_result_pending_marking_or_failed_issues_nothing(
    official, issued, django_capture_on_commit_callbacks
):
    pending = engine.start_attempt(mixed_exam(), official)
    with django_capture_on_commit_callbacks(execute=True):
        engine.submit_attempt(pending, responses={1: "A", 2: "AC", 3: "T", 5: "答", 6: "答"})
    assert Attempt.objects.get(pk=pending.pk).marking_pending is True
    failed = engine.start_attempt(choice_and_blank_exam(), OfficialFactory())
    with django_capture_on_commit_callbacks(execute=True):
        engine.submit_attempt(failed, responses={1: "B"})
    assert Attempt.objects.get(pk=failed.pk).passed is False
    assert issued == []


def test_the_deadline_submits_what_was_typed_and_a_pass_goes_on(
    official, issued, django_capture_on_commit_callbacks
):
    attempt = engine.start_attempt(choice_and_blank_exam(), official)
    engine.autosave(attempt.pk, official.user_id, attempt.session_id, 1, "A")
    engine.autosave(
        attempt.pk, official.user_id, attempt.session_id, 2, blanks_wire("行政许可法", "20")
    )
    later = attempt.deadline + engine.grace() + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.submit_expired_attempts(now=later) == 1
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.AUTO_SUBMITTED and attempt.score == 20
    assert issued == [attempt.pk]


def test_an_expired_attempt_with_written_answers_waits_for_marking(official):
    attempt = engine.start_attempt(mixed_exam(), official)
    engine.autosave(attempt.pk, official.user_id, attempt.session_id, CASE, "已作答的案例分析")
    later = attempt.deadline + engine.grace() + timedelta(seconds=1)
    assert engine.submit_expired_attempts(now=later) == 1
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.AUTO_SUBMITTED and attempt.marking_pending is True
    assert attempt.score is None and stored(attempt, CASE) == "已作答的案例分析"


def certificate_for(attempt, **kwargs):
    return Certificate.objects.create(
        kind=CertificateKind.EXAM,
        official=attempt.official,
        attempt=attempt,
        title="年度法律知识考试合格",
        holder_name=attempt.official.name,
        issued_on=timezone.localdate(),
        **kwargs,
    )


def test_the_result_links_to_a_certificate_that_stands(official_client, official, issued):
    attempt = engine.start_attempt(choice_and_blank_exam(), official)
    engine.submit_attempt(attempt, responses={1: "A", 2: blanks_wire("许可", "20")})
    link = url(attempt, "certificate")
    assert link not in official_client.get(url(attempt, "result")).content.decode()
    certificate = certificate_for(attempt)
    assert f'href="{link}"' in official_client.get(url(attempt, "result")).content.decode()
    certificate.revoked_at = timezone.now()
    certificate.save()
    assert link not in official_client.get(url(attempt, "result")).content.decode()


def test_a_voided_result_says_so_and_shows_no_score(official_client, official):
    attempt = engine.start_attempt(choice_and_blank_exam(), official)
    engine.submit_attempt(attempt, responses={1: "A", 2: blanks_wire("许可", "20")})
    Attempt.objects.filter(pk=attempt.pk).update(
        voided_at=timezone.now(), void_reason="经核查系他人代考", score=None, passed=None, band=""
    )
    page = official_client.get(url(attempt, "result")).content.decode()
    assert 'id="result-voided"' in page and "经核查系他人代考" in page
    assert 'id="score"' not in page and url(attempt, "certificate") not in page


# --- nothing lost: reloads, the deadline's grace, double submits ------------------------


def test_a_reload_shows_saved_texts_escaped(official_client, attempt):
    hostile = '</textarea><script>alert("x")</script>'
    save(official_client, attempt, FILL, blanks_wire('"><b>甲', "&lt;"))
    save(official_client, attempt, CASE, "\n" + hostile)
    html = page_of(official_client, attempt)
    assert blank_values(html, FILL) == ['"><b>甲', "&lt;"]
    assert textarea_text(html, CASE) == "\n" + hostile  # its first line break kept
    assert "<script>alert" not in html and "<b>甲" not in html


def test_the_page_shows_blanks_in_the_stem_and_counts_characters(official_client, attempt):
    save(official_client, attempt, SHORT, "一二三")
    html = page_of(official_client, attempt)
    fill = fieldset(html, FILL)
    assert 'data-kind="blanks"' in fill
    stem = re.search(r'<p class="stem">(.*?)</p>', fill, re.S).group(1)
    pieces = re.split(r"<input [^>]*>", stem)
    assert pieces == ["依照《", "》，行政机关应当自受理申请之日起", "日内作出决定。"]
    labels = re.findall(r'aria-label="([^"]*)"', fill)
    assert labels == [zh("Blank %(number)s", number=1), zh("Blank %(number)s", number=2)]
    assert fill.count('name="q4"') == 2 and fill.count('maxlength="200"') == 2
    short = fieldset(html, SHORT)
    assert 'data-kind="text"' in short and 'maxlength="5000"' in short
    label = re.search(r'<label class="answer-label" for="q5-text">([^<]*)</label>', short)
    assert label and label.group(1) == zh("Your answer")
    assert 'aria-describedby="q5-stem q5-count"' in short and 'id="q5-stem"' in short
    count = zh("%(count)s of %(max)s characters", count=3, max=5000)
    assert f'<p class="char-count" id="q5-count" data-max="5000">{count}</p>' in short
    assert 'data-kind="choice"' in fieldset(html, SINGLE)
    assert "data-msg-count=" in html
    # The page stays free of inline scripts and styles (the CSP allows neither).
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html and "<style" not in html


def test_a_text_saved_in_the_grace_period_is_kept_and_after_it_refused(
    official_client, attempt, settings
):
    settings.XUEFA_EXAM_GRACE_SECONDS = 30
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=20))
    assert save(official_client, attempt, CASE, "宽限期内保存").status_code == 200
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=40))
    reply = save(official_client, attempt, CASE, "超时后修改")
    assert reply.status_code == 409 and reply.json()["closed"] is True
    reply = save(official_client, attempt, FILL, blanks_wire("超时", "1"))
    assert reply.status_code == 409
    assert stored(attempt, CASE) == "宽限期内保存" and stored(attempt, FILL) == ""


def test_the_submit_form_within_grace_saves_texts_and_after_it_keeps_the_saved(
    official_client, official, settings
):
    settings.XUEFA_EXAM_GRACE_SECONDS = 30
    in_grace = engine.start_attempt(mixed_exam(), official)
    Attempt.objects.filter(pk=in_grace.pk).update(deadline=timezone.now() - timedelta(seconds=20))
    official_client.post(url(in_grace, "submit"), sitting_form())
    in_grace.refresh_from_db()
    assert in_grace.state == AttemptState.SUBMITTED
    assert stored(in_grace, CASE) == "该处罚程序违法：\n未告知听证权利。"
    assert stored(in_grace, FILL) == blanks_wire("中华人民共和国行政许可法", "二十")

    late = engine.start_attempt(mixed_exam(), official)
    engine.autosave(late.pk, official.user_id, late.session_id, CASE, "按时保存的")
    Attempt.objects.filter(pk=late.pk).update(deadline=timezone.now() - timedelta(seconds=40))
    official_client.post(url(late, "submit"), {f"q{CASE}": ["迟到的表单"]})
    late.refresh_from_db()
    assert late.state == AttemptState.AUTO_SUBMITTED
    assert stored(late, CASE) == "按时保存的"


def test_a_double_submit_keeps_the_first_and_saves_after_it_are_refused(official_client, attempt):
    first = official_client.post(url(attempt, "submit"), sitting_form())
    again = {**sitting_form(), f"q{CASE}": ["第二次提交的内容"], f"q{FILL}": ["改", "改"]}
    second = official_client.post(url(attempt, "submit"), again)
    assert first["Location"] == second["Location"] == url(attempt, "result")
    assert stored(attempt, CASE) == "该处罚程序违法：\n未告知听证权利。"
    assert stored(attempt, FILL) == blanks_wire("中华人民共和国行政许可法", "二十")
    reply = save(official_client, attempt, SHORT, "提交之后")
    assert reply.status_code == 409 and reply.json()["closed"] is True
    assert stored(attempt, SHORT) == "一、法定原则；\n二、公开、公平、公正原则。"


def test_invalid_form_values_are_ignored_and_the_saved_answer_kept(official_client, attempt):
    save(official_client, attempt, FILL, blanks_wire("行政许可法", "20"))
    save(official_client, attempt, CASE, "已保存")
    form = {f"q{FILL}": ["只有一个"], f"q{CASE}": ["x" * 5001]}
    official_client.post(url(attempt, "submit"), form)
    assert stored(attempt, FILL) == blanks_wire("行政许可法", "20")
    assert stored(attempt, CASE) == "已保存"


@racing_test
def test_text_saves_racing_a_submit_are_graded_or_refused():
    """Autosaves of a blank and a written answer (what exams:save runs) from three
    threads against a submit from a fourth: every save that began after the submit
    committed is refused, and what was stored when grading read it is what stays."""
    official = OfficialFactory()
    attempt = engine.start_attempt(mixed_exam(), official)
    engine.frozen_paper(attempt.pk)  # warm, as on exam day after the first save
    barrier, committed, outcomes = threading.Barrier(4), threading.Event(), []

    def saves(n):
        for i in range(15):
            position = (FILL, CASE)[(n + i) % 2]
            sent = blanks_wire(f"稿{n}-{i}", "20") if position == FILL else f"第{n}稿\n第{i}次"
            after = committed.is_set()
            try:
                engine.autosave(attempt.pk, official.user_id, attempt.session_id, position, sent)
                outcomes.append((after, position, "saved"))
            except engine.AttemptClosed:
                outcomes.append((after, position, "refused"))

    def submits():
        time.sleep(0.05)
        engine.submit_attempt(Attempt.objects.get(pk=attempt.pk))
        committed.set()

    def run(target, *args):
        try:
            barrier.wait()
            target(*args)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(saves, n)) for n in range(3)]
    threads.append(threading.Thread(target=run, args=(submits,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not [o for o in outcomes if o[0] and o[2] == "saved"]  # none after the commit
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED and attempt.marking_pending is True
    fill = attempt.answers.get(position=FILL)
    # Graded from what was stored, and nothing stored after grading read it.
    points = grading.answer_points(fill.snapshot, fill.response, fill.points)[1]
    assert fill.points_awarded == points


# --- practice feedback ----------------------------------------------------------------


@pytest.fixture
def practice_attempt(official):
    session = mixed_exam(kind=SessionKind.PRACTICE, attempts_allowed=50)
    return engine.start_attempt(session, official)


def test_practice_feedback_on_blanks_comes_once_every_blank_is_filled(
    official_client, practice_attempt
):
    half = save(official_client, practice_attempt, FILL, blanks_wire("行政许可法", ""))
    assert half.status_code == 200 and "feedback" not in half.json()
    full = save(official_client, practice_attempt, FILL, blanks_wire("许可法", "20"))
    feedback = full.json()["feedback"]
    assert feedback["correct"] is False  # "许可法" is not accepted for the first blank
    assert feedback["answer"] == "1. 行政许可法 / 中华人民共和国行政许可法; 2. 20 / 二十"
    right = save(official_client, practice_attempt, FILL, blanks_wire("《行政许可法》", "２０"))
    assert right.json()["feedback"]["correct"] is True
    assert full.json()["response"] == blanks_wire("许可法", "20")


def test_practice_gives_no_feedback_on_a_written_answer(official_client, practice_attempt):
    reply = save(official_client, practice_attempt, CASE, "练习作答")
    assert reply.status_code == 200 and reply.json()["response"] == "练习作答"
    assert "feedback" not in reply.json()
    assert MODEL_ANSWER not in reply.content.decode()


# --- query bounds ---------------------------------------------------------------------


def queries_of(client, attempt, position, response):
    with CaptureQueriesContext(connection) as queries:
        assert save(client, attempt, position, response).status_code == 200
    return len(queries)


def test_a_text_save_costs_what_a_choice_save_costs(official_client, attempt):
    save(official_client, attempt, SINGLE, "A")  # the paper is read once
    choice = queries_of(official_client, attempt, MULTIPLE, "AC")
    assert queries_of(official_client, attempt, FILL, blanks_wire("许可", "20")) == choice
    assert queries_of(official_client, attempt, CASE, "法" * 5000) == choice


@pytest.mark.fast_paths
def test_a_text_save_is_one_update_once_the_paper_is_cached(
    official_client, attempt, django_assert_max_num_queries
):
    save(official_client, attempt, SINGLE, "A")
    # The session, the user and the conditional UPDATE, as for a choice.
    with django_assert_max_num_queries(3):
        assert save(official_client, attempt, CASE, "答" * 5000).status_code == 200
    with django_assert_max_num_queries(3):
        assert save(official_client, attempt, FILL, blanks_wire("许可", "20")).status_code == 200


def test_the_result_page_with_review_keeps_its_queries_flat(client):
    def review_queries(count):
        official = OfficialFactory()
        questions = [fill_blank_question() for _ in range(count)]
        questions += [written_question() for _ in range(count)]
        session = ExamSessionFactory(
            paper=fixed_paper(questions),
            review_policy="after_submit",
            attempts_allowed=1,
            for_everyone=False,
        )
        session.departments.add(official.department)  # theirs alone: nothing else open
        session.save()
        attempt = engine.start_attempt(session, official)
        engine.submit_attempt(attempt)
        marker = UserFactory()
        for answer in attempt.answers.filter(snapshot__type=QuestionType.CASE_ANALYSIS):
            Marking.objects.create(answer=answer, round=MarkingRound.FIRST, marker=marker, points=5)
            answer.points_awarded = 5
            answer.save()
        grading.settle(attempt, list(attempt.answers.all()))
        attempt.save()
        client.force_login(official.user)
        assert client.get(url(attempt, "result")).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url(attempt, "result")).content.decode()
        assert page.count("is-marked") == count
        return len(queries)

    assert review_queries(2) == review_queries(12)


# --- a killed server loses nothing saved ----------------------------------------------


class Browser:
    """Cookies and the CSRF header, over plain HTTP to a server of our own."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect
        )

    def request(self, path, data=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        token = next((c.value for c in self.cookies if c.name == "csrftoken"), "")
        headers = {"X-CSRFToken": token, "Referer": self.base + "/"}
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310 - our own server
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers

    def sign_in(self, username):
        _status, page, _headers = self.request("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _page, _headers = self.request(
            "/accounts/login/",
            {"login": username, "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert status == 302, "sign-in failed"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


SERVER_SETTINGS = """
from xuefa.settings.test import *  # noqa: F403

SECRET_KEY = {secret!r}  # one key for every start: sessions outlive a restart
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_database(folder):
    """The database URL a server process can use for the test's data: the test
    database itself on PostgreSQL; on SQLite (an in-memory test database) a copy in
    `folder`, and a function that reads a query's rows from it."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        user = urllib.parse.quote(s["USER"] or "")
        password = ":" + urllib.parse.quote(s["PASSWORD"]) if s["PASSWORD"] else ""
        host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        url = f"postgres://{user}{password}@{host}/{s['NAME']}"

        def rows(sql, params):
            with connection.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall()

        return url, rows
    path = Path(folder) / "server.sqlite3"
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()

    def rows(sql, params):
        with sqlite3.connect(path) as reader:
            return reader.execute(sql, params).fetchall()

    return f"sqlite:///{path}", rows


def start_server(env, port):
    """The app under gunicorn (the project's gunicorn.conf.py, one worker) in its own
    process group; returns once it answers."""
    server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                return server
        except OSError:
            time.sleep(0.2)
    kill(server)
    raise AssertionError("the server did not come up")


def kill(server):
    """kill -9 of the master and its worker: no shutdown, no flush, nothing saved."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_saved_texts_survive_the_server_killed_between_saves(tmp_path):
    official = OfficialFactory()
    session = mixed_exam(review_policy="after_submit", attempts_allowed=1)
    attempt = engine.start_attempt(session, official)
    database_url, rows = server_database(tmp_path)
    (tmp_path / "killed_server_settings.py").write_text(
        SERVER_SETTINGS.format(secret=os.urandom(24).hex())
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "killed_server_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DATABASE_URL": database_url,
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESS_LOG": os.devnull,
    }
    port = free_port()
    page_path, save_path = url(attempt, "attempt"), url(attempt, "save")

    def saved(browser, position, response):
        status, body, _headers = browser.request(
            save_path, {"position": position, "response": response}
        )
        assert status == 200, body
        return json.loads(body)["response"]

    server = start_server(env, port)
    try:
        browser = Browser(port)
        browser.sign_in(official.user.username)
        assert browser.request(page_path)[0] == 200
        assert saved(browser, CASE, "第一段：\r\n程序违法。") == "第一段：\n程序违法。"
        assert saved(browser, FILL, blanks_wire("行政许可法", "二十"))
        kill(server)  # between two saves: no shutdown, nothing of the process kept

        server = start_server(env, port)
        status, html, _headers = browser.request(page_path)  # the same session, still signed in
        assert status == 200
        assert textarea_text(html, CASE) == "第一段：\n程序违法。"
        assert blank_values(html, FILL) == ["行政许可法", "二十"]
        final_text = "第一段：\n程序违法。\n第二段：应当告知听证。"
        assert saved(browser, CASE, final_text) == final_text
        assert textarea_text(browser.request(page_path)[1], CASE) == final_text
        submit = {"q4": ["行政许可法", "二十"], "q6": [final_text]}
        status, _body, headers = browser.request(url(attempt, "submit"), submit)
        assert status == 302 and headers["Location"].endswith(url(attempt, "result"))
        result = browser.request(url(attempt, "result"))[1]
        assert zh("Pending marking: your result will appear when the marking is done.") in result
        assert "第二段：应当告知听证。" in result  # the review of their own text
    finally:
        kill(server)
    table = Answer._meta.db_table
    answers = dict(
        rows(f"SELECT position, response FROM {table} WHERE attempt_id = ?", [attempt.pk])  # noqa: S608
    )
    assert answers[FILL] == blanks_wire("行政许可法", "二十")
    assert answers[CASE] == "第一段：\n程序违法。\n第二段：应当告知听证。"
    state = rows(
        f"SELECT state, marking_pending FROM {Attempt._meta.db_table} WHERE id = ?",  # noqa: S608
        [attempt.pk],
    )
    assert state[0][0] == AttemptState.SUBMITTED and bool(state[0][1]) is True
