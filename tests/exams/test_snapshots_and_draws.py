"""What an attempt saw stays what it saw: editing a question already answered changes
neither the grading nor the review of past attempts, only the next attempt. Random
papers draw by rules, reproducibly from the attempt's seed (questions and option
order), differently for each attempt, and keep bank order when shuffling is off."""

import html
import re
from collections import Counter
from decimal import Decimal

from django.test import Client
from django.urls import reverse

import pytest

from exams import attempts as engine
from exams.models import Answer, Attempt, AttemptState, PaperQuestion, QuestionType
from tests.factories import OfficialFactory

from .factories import (
    ExamSessionFactory,
    LawTopicFactory,
    QuestionFactory,
    fixed_paper,
    random_paper,
)

pytestmark = pytest.mark.django_db

FIELDSET = re.compile(r'<fieldset class="card question" id="q-(\d+)".*?</fieldset>', re.S)
OPTION = re.compile(
    r'<input type="\w+" name="q\d+" value="(\w)"(?: checked)?> (?:(\w)\. )?(.*?)</label>'
)
STEM = re.compile(r'<p class="stem">(.*?)</p>')


def shown_questions(page):
    """{position: (stem, [(display letter, bank letter, text)])} as the attempt page
    shows them, in the page's order of options."""
    shown = {}
    for match in FIELDSET.finditer(page):
        block = match.group(0)
        stem = html.unescape(STEM.search(block).group(1))
        options = [
            (shown_letter or "", value, html.unescape(text))
            for value, shown_letter, text in OPTION.findall(block)
        ]
        shown[int(match.group(1))] = (stem, options)
    return shown


def client_for(official):
    client = Client()
    client.force_login(official.user)
    return client


def urls(attempt):
    args = (attempt.session_id, attempt.pk)
    return {
        name: reverse(f"exams:{name}", args=args)
        for name in ("attempt", "save", "submit", "result")
    }


# --- Editing a question that has been answered ------------------------------------------------


OLD = {
    "single": {
        "stem": "旧版单选题干",
        "options": ("旧甲", "旧乙", "旧丙", "旧丁"),
        "answer": "A",
        "explanation": "旧版单选解析",
        "legal_basis": "《旧法》第一条",
    },
    "multiple": {
        "stem": "旧版多选题干",
        "options": ("旧子", "旧丑", "旧寅", "旧卯"),
        "answer": "AC",
        "explanation": "旧版多选解析",
        "legal_basis": "《旧法》第二条",
    },
    "true_false": {
        "stem": "旧版判断题干",
        "options": (),
        "answer": "T",
        "explanation": "旧版判断解析",
        "legal_basis": "《旧法》第三条",
    },
}
NEW = {
    "single": {
        "stem": "新版单选题干",
        "options": ("新甲", "新乙", "新丙", "新丁", "新戊"),
        "answer": "B",
        "explanation": "新版单选解析",
        "legal_basis": "《新法》第一条",
    },
    "multiple": {
        "stem": "新版多选题干",
        "options": ("新子", "新丑", "新寅"),
        "answer": "BC",
        "explanation": "新版多选解析",
        "legal_basis": "《新法》第二条",
    },
    "true_false": {
        "stem": "新版判断题干",
        "options": (),
        "answer": "F",
        "explanation": "新版判断解析",
        "legal_basis": "《新法》第三条",
    },
}


def set_version(question, version):
    """Write a version onto the question as the admin's edit form would, and save."""
    question.stem = version["stem"]
    for letter, text in zip("abcdef", (*version["options"], "", "", "", "", "", ""), strict=False):
        setattr(question, f"option_{letter}", text)
    question.answer = version["answer"]
    question.explanation = version["explanation"]
    question.legal_basis = version["legal_basis"]
    question.full_clean()
    question.save()


@pytest.fixture
def edited_exam(db):
    questions = {}
    for qtype, version in OLD.items():
        question = QuestionFactory(type=qtype)
        set_version(question, version)
        questions[qtype] = question
    session = ExamSessionFactory(
        paper=fixed_paper(list(questions.values()), points=Decimal("10")),
        review_policy="after_submit",
        attempts_allowed=1,  # the key shows only once no attempt is left (issue #18)
    )
    return session, questions


def test_editing_an_answered_question_changes_neither_grading_nor_review_of_the_attempt(
    edited_exam,
):
    session, questions = edited_exam
    official = OfficialFactory()
    client = client_for(official)
    client.post(reverse("exams:start", args=[session.pk]))
    attempt = Attempt.objects.get(official=official)
    by_question = {a.question_id: a for a in attempt.answers.all()}
    at = {qtype: by_question[q.pk].position for qtype, q in questions.items()}
    # The page sends the letters it displays for the bank's options.
    to_shown = {qtype: by_question[q.pk].display_letters for qtype, q in questions.items()}
    # Right, right and wrong under the old key (20 of 30); under the new key (B, BC, F)
    # the same responses would be wrong, wrong and right (10 of 30).
    for qtype, bank_letters in (("single", "A"), ("multiple", "AC"), ("true_false", "F")):
        response = to_shown[qtype](bank_letters)
        saved = client.post(urls(attempt)["save"], {"position": at[qtype], "response": response})
        assert saved.status_code == 200 and saved.json()["response"] == response

    # The organizer edits every question and the paper's points.
    for qtype, question in questions.items():
        set_version(question, NEW[qtype])
    for item in PaperQuestion.objects.filter(paper=session.paper):
        item.points = Decimal("5")
        item.save()

    # The attempt page still shows the old stems and options.
    shown = shown_questions(client.get(urls(attempt)["attempt"]).content.decode())
    for qtype in ("single", "multiple"):
        stem, options = shown[at[qtype]]
        assert stem == OLD[qtype]["stem"]
        assert sorted(text for _shown, _letter, text in options) == sorted(OLD[qtype]["options"])
    assert shown[at["true_false"]][0] == OLD["true_false"]["stem"]
    # Saves are checked against the question as the attempt saw it: the new option E
    # does not exist for this attempt, the old option D still does.
    refused = client.post(urls(attempt)["save"], {"position": at["single"], "response": "E"})
    assert refused.status_code == 400
    still = client.post(
        urls(attempt)["save"], {"position": at["multiple"], "response": to_shown["multiple"]("AD")}
    )
    assert still.status_code == 200
    client.post(
        urls(attempt)["save"], {"position": at["multiple"], "response": to_shown["multiple"]("AC")}
    )

    response = client.post(urls(attempt)["submit"], {})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED
    assert (attempt.score, attempt.max_score, attempt.percent) == (
        Decimal("20"),
        Decimal("30"),
        Decimal("66.67"),
    )
    assert (attempt.band, attempt.passed) == ("pass", True)
    graded = {
        a.question_id: (a.is_correct, a.points_awarded, a.points) for a in attempt.answers.all()
    }
    assert graded == {
        questions["single"].pk: (True, Decimal("10"), Decimal("10")),
        questions["multiple"].pk: (True, Decimal("10"), Decimal("10")),
        questions["true_false"].pk: (False, Decimal("0"), Decimal("10")),
    }

    page = client.get(urls(attempt)["result"]).content.decode()
    assert 'id="score">20 / 30<' in page
    for version in OLD.values():
        assert version["stem"] in page
        assert f"解析： {version['explanation']}" in page
        assert f"法条依据： {version['legal_basis']}" in page
        for text in version["options"]:
            assert text in page
    for version in NEW.values():
        for text in (
            version["stem"],
            version["explanation"],
            version["legal_basis"],
            *version["options"],
        ):
            assert text not in page
    single = attempt.answers.get(question=questions["single"])
    assert f"正确答案： {single.display_letters('A')} ✓" in page
    assert "正确答案： 对 ✗" in page  # the true-false key as it was: true

    # Someone starting now gets the new version, at the new points.
    newcomer = OfficialFactory()
    fresh = engine.start_attempt(session, newcomer)
    assert fresh.max_score == Decimal("15")
    snapshots = {a.question_id: a.snapshot for a in fresh.answers.all()}
    for qtype, question in questions.items():
        snapshot = snapshots[question.pk]
        assert snapshot["stem"] == NEW[qtype]["stem"]
        assert snapshot["answer"] == NEW[qtype]["answer"]
        assert snapshot["explanation"] == NEW[qtype]["explanation"]
        assert snapshot["legal_basis"] == NEW[qtype]["legal_basis"]
        assert tuple(snapshot["options"].values()) == NEW[qtype]["options"]
    new_page = client_for(newcomer).get(urls(fresh)["attempt"]).content.decode()
    assert NEW["single"]["stem"] in new_page and "新戊" in new_page
    assert OLD["single"]["stem"] not in new_page
    for answer in fresh.answers.all():
        engine.save_answer(fresh.pk, newcomer, answer.position, NEW[answer.type]["answer"])
    fresh, _ = engine.submit_attempt(fresh)
    assert (fresh.score, fresh.max_score) == (Decimal("15"), Decimal("15"))
    # ... and the first attempt is as it was graded.
    attempt.refresh_from_db()
    assert (attempt.score, attempt.max_score) == (Decimal("20"), Decimal("30"))


# --- Random papers -------------------------------------------------------------------------------


@pytest.fixture
def rule_paper(db):
    """Rules topic × type × count × points over a bank that also holds questions no
    rule may draw (another topic's single choices)."""
    civil, other = LawTopicFactory(name="民法典"), LawTopicFactory(name="保密法")
    counter = iter(range(1000))

    def make(n, topic, **kwargs):
        made = []
        for _ in range(n):
            i = next(counter)
            made.append(
                QuestionFactory(
                    topic=topic,
                    stem=f"题干{i}",
                    option_a=f"{i}甲",
                    option_b=f"{i}乙",
                    option_c=f"{i}丙",
                    option_d=f"{i}丁",
                    **kwargs,
                )
            )
        return made

    bank = {
        "civil_single": make(30, civil),
        "civil_multiple": make(6, civil, multiple=True),
        "other_single": make(30, other),
        "other_true_false": make(5, other, true_false=True),
    }
    paper = random_paper(
        [
            (civil, QuestionType.SINGLE, 5, Decimal("2")),
            (civil, QuestionType.MULTIPLE, 2, Decimal("3")),
            (None, QuestionType.TRUE_FALSE, 2, Decimal("1")),
        ]
    )
    return paper, bank, civil


def assert_rules_hold(attempt, bank, civil):
    """5 civil single choices at 2 points, 2 civil multiple at 3, 2 true-false at 1
    (only the other topic has them), and never one of the other topic's 30 single
    choices (if the topic were ignored, an attempt would avoid them with chance
    C(30,5)/C(60,5), under 3%)."""
    by_pk = {q.pk: q for group in bank.values() for q in group}
    answers = list(attempt.answers.all())
    kinds = Counter((by_pk[a.question_id].topic_id, a.type, a.points) for a in answers)
    other = bank["other_true_false"][0].topic_id
    assert kinds == {
        (civil.pk, "single", Decimal("2")): 5,
        (civil.pk, "multiple", Decimal("3")): 2,
        (other, "true_false", Decimal("1")): 2,
    }
    assert len({a.question_id for a in answers}) == 9
    assert attempt.max_score == Decimal("18")


def drawn_as_shown(attempt):
    """[(question id, points, option order)] of an attempt, by position."""
    return [
        (a.question_id, a.points, a.option_order)
        for a in Answer.objects.filter(attempt=attempt).order_by("position")
    ]


def test_an_attempt_redrawn_from_its_seed_gives_the_same_questions_and_option_order(rule_paper):
    paper, bank, civil = rule_paper
    session = ExamSessionFactory(paper=paper)
    official = OfficialFactory()
    attempt = engine.start_attempt(session, official)
    answers = list(attempt.answers.order_by("position"))

    assert_rules_hold(attempt, bank, civil)
    by_pk = {q.pk: q for group in bank.values() for q in group}

    # Re-drawn from the seed, straight from the database (not the paper cache).
    rebuilt = [
        (q.pk, points, order)
        for q, points, order in engine.build_paper(session, paper, attempt.seed)
    ]
    assert drawn_as_shown(attempt) == rebuilt
    # Options really were shuffled, so the comparison above is not trivially true:
    # the chance that all seven choice questions keep ABCD is (1/24)^7, about 2e-10.
    choice_orders = [a.option_order for a in answers if a.type != "true_false"]
    assert any(order != "ABCD" for order in choice_orders)
    assert all(sorted(order) == list("ABCD") for order in choice_orders)
    assert [a.option_order for a in answers if a.type == "true_false"] == ["", ""]

    # What the page shows is the rebuilt order, under display letters A, B, C, D, which
    # are also the inputs' values: the page never carries a bank letter.
    page = client_for(official).get(urls(attempt)["attempt"]).content.decode()
    shown = shown_questions(page)
    assert sorted(shown) == list(range(1, 10))
    for position, (question_id, _points, order) in enumerate(rebuilt, start=1):
        question = by_pk[question_id]
        stem, options = shown[position]
        assert stem == question.stem
        if question.type == "true_false":
            assert [letter for _shown, letter, _text in options] == ["T", "F"]
            continue
        expected = [("ABCD"[i], "ABCD"[i], question.options[c]) for i, c in enumerate(order)]
        assert options == expected


def test_two_officials_draw_different_papers(rule_paper):
    paper, bank, civil = rule_paper
    session = ExamSessionFactory(paper=paper)
    one = engine.start_attempt(session, OfficialFactory())
    two = engine.start_attempt(session, OfficialFactory())
    assert_rules_hold(one, bank, civil)
    assert_rules_hold(two, bank, civil)
    assert one.seed != two.seed
    # Equal papers need, among much else, the same five of the 30 civil single
    # choices in the same relative order: 1 / (30·29·28·27·26) = 1 / 17,100,720,
    # about 6e-8, before the option shuffles make it rarer still.
    first, second = drawn_as_shown(one), drawn_as_shown(two)
    assert [q for q, _p, _o in first] != [q for q, _p, _o in second]
    assert first != second


@pytest.mark.parametrize(
    ("shuffle_questions", "shuffle_options"),
    [(False, False), (False, True), (True, False)],
)
def test_shuffling_off_keeps_paper_and_bank_order(shuffle_questions, shuffle_options):
    questions = [
        QuestionFactory(
            stem=f"固定题{i}",
            option_a=f"{i}甲",
            option_b=f"{i}乙",
            option_c=f"{i}丙",
            option_d=f"{i}丁",
            option_e=f"{i}戊" if i % 2 else "",
        )
        for i in range(8)
    ]
    questions.append(QuestionFactory(true_false=True, stem="固定判断题"))
    # Paper order is not pk order: the paper lists the bank backwards.
    paper_order = list(reversed(questions))
    session = ExamSessionFactory(
        paper=fixed_paper(paper_order),
        shuffle_questions=shuffle_questions,
        shuffle_options=shuffle_options,
    )
    bank_letters = {q.pk: "".join(q.options) for q in questions}
    orders, option_orders = [], []
    for _ in range(3):
        official = OfficialFactory()
        attempt = engine.start_attempt(session, official)
        drawn = drawn_as_shown(attempt)
        orders.append([q for q, _p, _o in drawn])
        option_orders.append([o for q, _p, o in drawn if bank_letters[q]])
        shown = shown_questions(client_for(official).get(urls(attempt)["attempt"]).content.decode())
        for position, (question_id, _points, order) in enumerate(drawn, start=1):
            if not shuffle_options and bank_letters[question_id]:
                # Display letters are the bank's letters, in the bank's order.
                assert [(s, letter) for s, letter, _t in shown[position][1]] == [
                    (c, c) for c in bank_letters[question_id]
                ]
            assert order == bank_letters[question_id] or shuffle_options
    paper_ids = [q.pk for q in paper_order]
    unshuffled_options = [[bank_letters[q] for q in order if bank_letters[q]] for order in orders]
    if shuffle_questions:
        # Three attempts all in paper order by chance: (1/9!)^3.
        assert any(order != paper_ids for order in orders)
    else:
        assert orders == [paper_ids] * 3
    if shuffle_options:
        # Twenty-four choice questions all unshuffled by chance: below (1/24)^24.
        assert option_orders != unshuffled_options
    else:
        assert option_orders == unshuffled_options


def test_random_paper_without_shuffling_keeps_rule_order_and_bank_option_order(rule_paper):
    paper, bank, civil = rule_paper
    session = ExamSessionFactory(paper=paper, shuffle_questions=False, shuffle_options=False)
    attempt = engine.start_attempt(session, OfficialFactory())
    assert_rules_hold(attempt, bank, civil)
    answers = list(attempt.answers.order_by("position"))
    assert [a.type for a in answers] == ["single"] * 5 + ["multiple"] * 2 + ["true_false"] * 2
    assert [a.option_order for a in answers] == ["ABCD"] * 7 + ["", ""]
    drawable = {q.pk for q in bank["civil_single"]}
    assert {a.question_id for a in answers[:5]} <= drawable
