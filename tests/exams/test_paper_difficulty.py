"""Papers drawn by topic × type × difficulty × count: the check that a bank can fill
a paper and the draw agree exactly, also when rules overlap (an any-topic rule, an
any-difficulty rule), where counting per rule is wrong both ways."""

import itertools
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.messages import get_messages
from django.urls import reverse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exams import attempts as engine
from exams import paper_cache
from exams.models import Difficulty, PaperMode, PaperRule, QuestionType, SessionKind
from exams.papers import (
    PaperError,
    draw,
    draw_problems,
    draw_questions,
    rule_errors,
    rule_shortfalls,
    shortfalls,
)
from learning.models import LawTopic
from tests.admin_forms import edit_form_data
from tests.factories import OfficialFactory

from .factories import (
    ExamSessionFactory,
    LawTopicFactory,
    PaperFactory,
    QuestionFactory,
    fixed_paper,
)

EASY, MEDIUM, HARD = Difficulty.EASY, Difficulty.MEDIUM, Difficulty.HARD
SINGLE, MULTIPLE = QuestionType.SINGLE, QuestionType.MULTIPLE


def rule_paper(rules):
    """A random paper of rules [(topic or None, type, difficulty or None, count)]."""
    paper = PaperFactory(mode=PaperMode.RANDOM)
    for order, (topic, qtype, difficulty, count) in enumerate(rules):
        PaperRule.objects.create(
            paper=paper,
            topic=topic,
            type=qtype,
            difficulty=difficulty,
            count=count,
            points=Decimal(2),
            sort_order=order,
        )
    return paper


def questions(n, topic, difficulty, qtype=SINGLE):
    kind = {"multiple": True} if qtype == MULTIPLE else {}
    return QuestionFactory.create_batch(n, topic=topic, difficulty=difficulty, **kind)


@pytest.fixture
def law(db):
    return LawTopicFactory(name="法治政府")


@pytest.fixture
def other(db):
    return LawTopicFactory(name="保密法")


# --- The rule's difficulty ---------------------------------------------------------------


def test_a_rule_with_a_difficulty_draws_only_questions_of_it(law):
    hard = questions(4, law, HARD)
    questions(10, law, EASY)
    paper = rule_paper([(law, SINGLE, HARD, 3)])
    for seed in range(10):
        drawn = draw(paper, random.Random(seed))
        assert {q.pk for q, _points in drawn} <= {q.pk for q in hard}
        assert len(drawn) == 3
    session = ExamSessionFactory(paper=paper)
    attempt = engine.start_attempt(session, OfficialFactory())
    assert {a.snapshot["difficulty"] for a in attempt.answers.all()} == {HARD}


def test_the_shortfall_names_the_difficulty(law):
    questions(2, law, HARD)
    questions(9, law, EASY)
    paper = rule_paper([(law, SINGLE, HARD, 5)])
    assert rule_errors(paper.rules.all()) == [
        "规则“法治政府 × 单选题 × 难 × 5”需要 5 道题，但题库中启用的只有 2 道。"
    ]
    with pytest.raises(PaperError, match="法治政府 × 单选题 × 难 × 5"):
        draw(paper, random.Random(1))


def test_a_rule_of_any_difficulty_keeps_the_old_wording(law):
    questions(2, law, HARD)
    paper = rule_paper([(law, SINGLE, None, 3)])
    assert rule_errors(paper.rules.all()) == [
        "规则“法治政府 × 单选题 × 3”需要 3 道题，但题库中启用的只有 2 道。"
    ]


def test_the_paper_cache_draws_what_the_database_draws(law, other):
    questions(6, law, HARD)
    questions(6, law, EASY)
    questions(6, other, HARD)
    paper = rule_paper([(law, SINGLE, None, 4), (None, SINGLE, HARD, 5)])
    source = paper_cache.paper_source(paper.pk)
    assert {q.difficulty for q in source.bank} == {EASY, HARD}
    for seed in range(10):
        from_db = [q.pk for q, _p in draw(paper, random.Random(seed))]
        from_cache = [q.pk for q, _p in draw(None, random.Random(seed), source)]
        assert from_db == from_cache


# --- Overlapping rules: the check and the draw agree -----------------------------------


def test_overlapping_rules_a_greedy_draw_would_fail_always_draw(law):
    """The 法治政府 rule of any difficulty must leave the one hard question to the
    hard rule of any topic: a draw taking the topic rule first at random would fail
    half the time."""
    hard = QuestionFactory(topic=law, difficulty=HARD)
    easy = QuestionFactory(topic=law, difficulty=EASY)
    paper = rule_paper([(law, SINGLE, None, 1), (None, SINGLE, HARD, 1)])
    assert rule_shortfalls(paper.rules.all()) == []
    session = ExamSessionFactory(paper=paper, shuffle_questions=False)
    for seed in range(20):
        drawn = [q.pk for q, _p in draw(paper, random.Random(seed))]
        assert drawn == [easy.pk, hard.pk]
    for _ in range(5):
        attempt = engine.start_attempt(session, OfficialFactory())
        assert [a.question_id for a in attempt.answers.order_by("position")] == [
            easy.pk,
            hard.pk,
        ]


def test_overlapping_rules_that_counting_would_pass_are_refused(law, other):
    """Two 法治政府 questions and two hard ones, the same two: seven questions in
    all, four asked, but no way to give each rule its own."""
    questions(2, law, HARD)
    questions(5, other, EASY)
    paper = rule_paper([(law, SINGLE, None, 2), (None, SINGLE, HARD, 2)])
    [(rule, have)] = rule_shortfalls(paper.rules.select_related("topic"))
    assert (rule.difficulty, rule.topic_id, have) == (HARD, None, 0)
    assert draw_problems(paper) == [
        "规则“* × 单选题 × 难 × 2”需要 2 道题，但题库中启用的只有 0 道。"
    ]
    for seed in range(5):
        with pytest.raises(PaperError):
            draw(paper, random.Random(seed))


def test_rules_of_one_pool_add_up(law):
    questions(4, law, MEDIUM)
    paper = rule_paper([(law, SINGLE, None, 3), (law, SINGLE, MEDIUM, 3)])
    [(rule, have)] = rule_shortfalls(paper.rules.all())
    assert (rule.difficulty, have) == (None, 1)  # the specific rule is served first


# --- Property: for any bank and rules, check ⇔ draw ------------------------------------


@dataclass(frozen=True)
class Drawn:
    """A bank question as the draw reads it."""

    pk: int
    topic_id: int
    type: str
    difficulty: int


TOPICS = [LawTopic(pk=pk, name=f"法{pk}") for pk in (1, 2, 3)]


def _fits(rule, question):
    return (
        question.type == rule.type
        and rule.topic_id in (None, question.topic_id)
        and rule.difficulty in (None, question.difficulty)
    )


def fillable_by_hall(rules, bank):
    """Hall's condition, checked on every set of rules: together they want no more
    than the questions any of them may take. An oracle independent of Allocation."""
    for size in range(1, len(rules) + 1):
        for group in itertools.combinations(rules, size):
            wanted = sum(rule.count for rule in group)
            open_to_them = sum(1 for q in bank if any(_fits(rule, q) for rule in group))
            if wanted > open_to_them:
                return False
    return True


question_classes = st.tuples(
    st.sampled_from([1, 2, 3]), st.sampled_from([SINGLE, MULTIPLE]), st.sampled_from([1, 2, 3])
)
rule_specs = st.tuples(
    st.sampled_from([None, *TOPICS]),
    st.sampled_from([SINGLE, MULTIPLE]),
    st.sampled_from([None, 1, 2, 3]),
    st.integers(min_value=0, max_value=4),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(question_classes, max_size=14), st.lists(rule_specs, min_size=1, max_size=5))
def test_the_check_says_fillable_exactly_when_every_draw_succeeds(bank_spec, rule_spec):
    bank = [Drawn(pk, *klass) for pk, klass in enumerate(bank_spec, start=1)]
    rules = [
        PaperRule(topic=topic, type=qtype, difficulty=difficulty, count=count, points=1)
        for topic, qtype, difficulty, count in rule_spec
    ]
    fillable = not shortfalls(rules, bank)
    assert fillable == fillable_by_hall(rules, bank)
    for seed in range(4):
        if not fillable:
            with pytest.raises(PaperError):
                draw_questions(rules, bank, random.Random(seed))
            continue
        picks = draw_questions(rules, bank, random.Random(seed))
        drawn = [q.pk for chosen in picks for q in chosen]
        assert len(drawn) == len(set(drawn))
        for rule, chosen in zip(rules, picks, strict=True):
            assert len(chosen) == rule.count
            assert all(_fits(rule, q) for q in chosen)


def test_a_single_rule_draws_every_question_alike():
    """Each pick is uniform among what keeps the paper fillable: one rule over ten
    questions takes each about as often (3 of 10 over 4,000 draws: 1,200 each)."""
    bank = [Drawn(pk, 1, SINGLE, 2) for pk in range(1, 11)]
    rule = PaperRule(topic=TOPICS[0], type=SINGLE, difficulty=None, count=3, points=1)
    seen = dict.fromkeys(range(1, 11), 0)
    for seed in range(4000):
        for q in draw_questions([rule], bank, random.Random(seed))[0]:
            seen[q.pk] += 1
    assert all(1050 < n < 1350 for n in seen.values()), seen


# --- What organizers see ------------------------------------------------------------------


def _paper_post(topic, difficulty, count):
    return {
        "title": "随机卷",
        "mode": "random",
        "description": "",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
        "rules-TOTAL_FORMS": 1,
        "rules-INITIAL_FORMS": 0,
        "rules-MIN_NUM_FORMS": 0,
        "rules-MAX_NUM_FORMS": 1000,
        "rules-0-topic": topic.pk,
        "rules-0-type": "single",
        "rules-0-difficulty": difficulty,
        "rules-0-count": count,
        "rules-0-points": "2",
        "rules-0-ORDER": 1,
        "rules-0-id": "",
        "rules-0-DELETE": "",
    }


def test_the_paper_form_refuses_a_difficulty_the_bank_lacks(organizer_client, law):
    questions(3, law, HARD)
    questions(8, law, EASY)
    url = reverse("wagtailsnippets_exams_paper:add")
    response = organizer_client.post(url, _paper_post(law, int(HARD), 4))
    assert response.status_code == 200
    assert "法治政府 × 单选题 × 难 × 4" in response.content.decode()
    assert "题库中启用的只有 3 道" in response.content.decode()
    response = organizer_client.post(url, _paper_post(law, int(HARD), 3))
    assert response.status_code == 302
    assert PaperRule.objects.get().difficulty == HARD


def test_saving_a_session_warns_of_its_leader_paper_too(organizer_client, law, bank):
    questions(2, law, HARD)
    leaders = rule_paper([(law, SINGLE, HARD, 3)])
    session = ExamSessionFactory(paper=fixed_paper(bank), leader_paper=leaders)
    url = reverse("wagtailsnippets_exams_examsession:edit", args=[session.pk])
    page = organizer_client.get(url).content.decode()
    assert "法治政府 × 单选题 × 难 × 3" in page
    response = organizer_client.post(url, edit_form_data(organizer_client, url))
    assert response.status_code == 302
    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(f"考生无法开始使用试卷“{leaders}”" in w and "× 难 × 3" in w for w in warnings)
    assert not any(f"试卷“{session.paper}”" in w for w in warnings)


def test_a_practice_starts_though_its_avoid_list_would_leave_it_short(law):
    """Questions an exam still open to the official asks are avoided only when the
    rules can be filled without them: an avoid list is never a reason to refuse."""
    hard = questions(3, law, HARD)
    paper = rule_paper([(law, SINGLE, HARD, 3)])
    ExamSessionFactory(paper=fixed_paper(hard))  # an open exam asking all three
    practice = ExamSessionFactory(paper=paper, kind=SessionKind.PRACTICE)
    official = OfficialFactory()
    avoid = frozenset(q.pk for q in hard)
    attempt = engine.start_attempt(practice, official, avoid=avoid)
    assert {a.question_id for a in attempt.answers.all()} == avoid
