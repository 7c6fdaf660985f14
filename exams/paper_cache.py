"""What every taker of a paper shares, kept in each app process: the paper's fixed
questions or its rules, and the active bank it draws from, each question frozen as
the snapshot an attempt keeps. Exam day starts thousands of attempts on one paper;
loading and freezing the bank again for each of them was most of a start's cost.

They are held in the "papers" family of the fast paths (learning.fast.memo.Held):
saving or deleting a question, law topic, paper, paper question or rule starts a
new generation (exams/wagtail_hooks.py registers them), and every process drops
what it holds for older ones. Without the shared cache (Redis down) nothing is
held and each start reads the database, as with the fast paths off."""

import json
from dataclasses import dataclass, field
from decimal import Decimal

from learning.fast.memo import Held

from .models import Paper, PaperMode, PaperQuestion, PaperRule, Question

FAMILY = "papers"


@dataclass(frozen=True)
class FrozenQuestion:
    """A question as attempts freeze it: what drawing (its class: topic, type and
    difficulty) and shuffling need, and the
    snapshot, also as the JSON text every answer row of it stores (shared and
    read-only: attempts copy it)."""

    pk: int
    type: str
    topic_id: int
    difficulty: int
    options: str  # the option letters in bank order, "" for true-false
    frozen: dict = field(compare=False, repr=False)
    frozen_json: str = field(compare=False, repr=False)

    def snapshot(self):
        return self.frozen


@dataclass(frozen=True)
class PaperSource:
    """A paper's mode and what it draws from: [(question, points)] for a fixed paper,
    its rules and the active bank (in pk order) for a random one."""

    mode: str
    items: list
    rules: list
    bank: list


def frozen(question):
    """A Question as a FrozenQuestion."""
    snapshot = question.snapshot()
    return FrozenQuestion(
        pk=question.pk,
        type=question.type,
        topic_id=question.topic_id,
        difficulty=question.difficulty,
        options="".join(question.options),
        frozen=snapshot,
        frozen_json=json.dumps(snapshot),
    )


def _load(paper_id):
    mode = Paper.objects.values_list("mode", flat=True).get(pk=paper_id)
    if mode == PaperMode.FIXED:
        items = [
            (frozen(item.question), Decimal(item.points))
            for item in PaperQuestion.objects.filter(paper_id=paper_id)
            .select_related("question__topic")
            .order_by("sort_order", "pk")
        ]
        return PaperSource(mode, items, [], [])
    rules = list(PaperRule.objects.filter(paper_id=paper_id).order_by("sort_order", "pk"))
    bank = []
    if rules:
        bank = [frozen(q) for q in Question.objects.active().select_related("topic").order_by("pk")]
    return PaperSource(mode, [], rules, bank)


_held = Held(FAMILY, _load)


def paper_source(paper_id):
    """The PaperSource of a paper, from this process's memory when it is current."""
    return _held.get(paper_id)
