"""Shuffled options keep their bank letters on the server: the attempt page carries
only the letters it displays (A, B, C… in the order shown), and every response from
the browser is mapped back to bank letters before it is checked and stored, so an
unbalanced key never pays off for answering by position."""

import re

from django.urls import reverse

import pytest

from exams import attempts as engine
from exams.models import Answer, Attempt, SessionKind

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper

pytestmark = pytest.mark.django_db

NOT_VALID = "该答案对本题无效。"

# Bank letters in the order shown, per position; each differs from the bank's order
# at every place the key could be guessed from.
ORDERS = {1: "CADB", 2: "DCBA", 3: "", 4: "BCA"}

FIELDSET = re.compile(r'<fieldset[^>]*data-position="(\d+)".*?</fieldset>', re.S)
OPTION = re.compile(r'<input type="\w+" name="q\d+" value="([^"]*)"( checked)?> ([^<]*)</label>')


def questions():
    """Single (key A), multiple (key AC), true-false (key T), single of three options
    (key C), with distinct option texts so the page's order can be read back."""
    return [
        QuestionFactory(option_a="甲", option_b="乙", option_c="丙", option_d="丁"),
        QuestionFactory(multiple=True, option_a="子", option_b="丑", option_c="寅", option_d="卯"),
        QuestionFactory(true_false=True),
        QuestionFactory(option_a="金", option_b="木", option_c="水", option_d="", answer="C"),
    ]


def sit(session, official):
    """An attempt whose options are shown in ORDERS, set on the rows before any save
    (and so before the frozen paper is cached)."""
    attempt = engine.start_attempt(session, official)
    for position, order in ORDERS.items():
        Answer.objects.filter(attempt=attempt, position=position).update(option_order=order)
    return attempt


@pytest.fixture
def attempt(official):
    session = ExamSessionFactory(
        paper=fixed_paper(questions()), shuffle_questions=False, shuffle_options=True
    )
    return sit(session, official)


def url(attempt, name):
    return reverse(f"exams:{name}", args=(attempt.session_id, attempt.pk))


def save(client, attempt, position, response):
    return client.post(url(attempt, "save"), {"position": position, "response": response})


def stored(attempt, position):
    return Answer.objects.get(attempt=attempt, position=position).response


def page_options(client, attempt):
    """{position: [(value, checked, label)]} as the attempt page renders them."""
    page = client.get(url(attempt, "attempt")).content.decode()
    return {
        int(match.group(1)): [
            (value, bool(checked), label) for value, checked, label in OPTION.findall(match[0])
        ]
        for match in FIELDSET.finditer(page)
    }


def test_the_page_carries_only_the_letters_it_displays(official_client, attempt):
    engine.save_answer(attempt.pk, attempt.official, 1, "A")  # bank A, shown second
    engine.save_answer(attempt.pk, attempt.official, 2, "AC")  # bank A, C: shown D, B
    shown = page_options(official_client, attempt)
    assert sorted(shown) == [1, 2, 3, 4]
    assert [value for value, _c, _l in shown[1]] == ["A", "B", "C", "D"]
    assert [value for value, _c, _l in shown[2]] == ["A", "B", "C", "D"]
    assert [value for value, _c, _l in shown[3]] == ["T", "F"]
    assert [value for value, _c, _l in shown[4]] == ["A", "B", "C"]
    # The labels follow the shuffled order, and the saved answer is checked where shown.
    assert shown[1] == [
        ("A", False, "A. 丙"),
        ("B", True, "B. 甲"),
        ("C", False, "C. 丁"),
        ("D", False, "D. 乙"),
    ]
    assert [checked for _v, checked, _l in shown[2]] == [False, True, False, True]
    assert [label for _v, _c, label in shown[4]] == ["A. 木", "B. 水", "C. 金"]


def test_a_displayed_letter_is_stored_as_the_bank_letter_shown_there(official_client, attempt):
    reply = save(official_client, attempt, 1, "A")
    assert reply.status_code == 200
    assert reply.json()["response"] == "A"  # the page's own letters, echoed
    assert stored(attempt, 1) == ORDERS[1][0] == "C"
    reply = save(official_client, attempt, 2, "ba")
    assert reply.json()["response"] == "AB"
    assert stored(attempt, 2) == "CD"
    assert save(official_client, attempt, 3, "F").json()["response"] == "F"
    assert stored(attempt, 3) == "F"


def test_autosave_maps_displayed_letters_and_echoes_them(attempt):
    official = attempt.official
    saved = engine.autosave(attempt.pk, official.user_id, attempt.session_id, 1, "A")
    assert (saved.response, saved.shown) == ("C", "A")
    assert stored(attempt, 1) == "C"
    saved = engine.autosave(attempt.pk, official.user_id, attempt.session_id, 4, "C")
    assert (saved.response, saved.shown) == ("A", "C")
    assert stored(attempt, 4) == "A"


def test_the_submit_form_in_displayed_letters_grades_right(official_client, attempt):
    # The keys A, AC, T, C of the bank are shown as B, BD, T, B.
    form = {"q1": ["B"], "q2": ["B", "D"], "q3": ["T"], "q4": ["B"]}
    assert official_client.post(url(attempt, "submit"), form).status_code == 302
    attempt.refresh_from_db()
    assert attempt.score == attempt.max_score == 40
    answers = {a.position: a for a in attempt.answers.all()}
    assert [answers[p].response for p in (1, 2, 3, 4)] == ["A", "AC", "T", "C"]
    assert all(a.is_correct for a in answers.values())


def test_the_bank_letters_of_the_key_submitted_as_displayed_letters_are_wrong(
    official_client, attempt
):
    form = {"q1": ["A"], "q2": ["A", "C"], "q4": ["C"]}
    official_client.post(url(attempt, "submit"), form)
    answers = {a.position: a for a in Attempt.objects.get(pk=attempt.pk).answers.all()}
    assert [answers[p].response for p in (1, 2, 4)] == ["C", "BD", "A"]
    assert not any(answers[p].is_correct for p in (1, 2, 4))


def test_a_letter_beyond_the_options_shown_is_refused_as_before(official_client, attempt):
    for position, letter in ((4, "D"), (1, "E"), (1, "Z")):
        reply = save(official_client, attempt, position, letter)
        assert reply.status_code == 400
        assert reply.json() == {"ok": False, "error": NOT_VALID}
    assert stored(attempt, 4) == stored(attempt, 1) == ""
    with pytest.raises(engine.ExamError, match=NOT_VALID):
        engine.autosave(attempt.pk, attempt.official.user_id, attempt.session_id, 4, "D")
    with pytest.raises(engine.ExamError, match=NOT_VALID):
        engine.save_answer(attempt.pk, attempt.official, 4, "D", shown=True)
    # A submit form carrying it leaves the answer as it was.
    official_client.post(url(attempt, "submit"), {"q4": ["D"]})
    assert stored(attempt, 4) == ""


def test_practice_feedback_is_in_displayed_letters(official_client, official):
    session = ExamSessionFactory(
        paper=fixed_paper(questions()),
        kind=SessionKind.PRACTICE,
        shuffle_questions=False,
        shuffle_options=True,
    )
    attempt = sit(session, official)
    right = save(official_client, attempt, 1, "B").json()
    assert right["response"] == "B" and right["feedback"]["correct"] is True
    assert right["feedback"]["answer"] == "B"
    assert stored(attempt, 1) == "A"
    wrong = save(official_client, attempt, 1, "A").json()
    assert wrong["response"] == "A" and wrong["feedback"]["correct"] is False
    assert wrong["feedback"]["answer"] == "B"
    assert stored(attempt, 1) == "C"
    multiple = save(official_client, attempt, 2, "DB").json()
    assert multiple["response"] == "BD" and multiple["feedback"]["answer"] == "BD"
    assert multiple["feedback"]["correct"] is True
    assert save(official_client, attempt, 4, "D").status_code == 400
