"""What every taker of a paper shares, kept in each app process: the paper's fixed
questions or its rules, and the active bank it draws from, each question frozen as
the snapshot an attempt keeps. Exam day starts thousands of attempts on one paper;
loading and freezing the bank again for each of them was most of a start's cost.

A content version in the shared cache names what is current. Saving or deleting a
question, law topic, paper, paper question or rule starts a new version (at once,
and again when the transaction commits, so a start that read the old bank in
between cannot keep it), and every process drops what it holds for older versions.
Without the shared cache (Redis down) nothing is kept and what was held is
dropped: each start reads the database, as before. As a backstop (an edit made
while Redis was down could not start a new version), nothing is held longer than
HOLD_SECONDS."""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "xuefa:paper-content-version"
HOLD_SECONDS = 300


@dataclass(frozen=True)
class FrozenQuestion:
    """A question as attempts freeze it: what drawing and shuffling need, and the
    snapshot, also as the JSON text every answer row of it stores (shared and
    read-only: attempts copy it)."""

    pk: int
    type: str
    topic_id: int
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


_lock = threading.Lock()
_held = {"version": None, "since": 0.0, "papers": {}}


def _version():
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def frozen(question):
    """A Question as a FrozenQuestion."""
    snapshot = question.snapshot()
    return FrozenQuestion(
        pk=question.pk,
        type=question.type,
        topic_id=question.topic_id,
        options="".join(question.options),
        frozen=snapshot,
        frozen_json=json.dumps(snapshot),
    )


def _load(paper_id):
    from .models import Paper, PaperMode, PaperQuestion, Question

    mode = Paper.objects.values_list("mode", flat=True).get(pk=paper_id)
    if mode == PaperMode.FIXED:
        items = [
            (frozen(item.question), Decimal(item.points))
            for item in PaperQuestion.objects.filter(paper_id=paper_id)
            .select_related("question__topic")
            .order_by("sort_order", "pk")
        ]
        return PaperSource(mode, items, [], [])
    from .models import PaperRule

    rules = list(PaperRule.objects.filter(paper_id=paper_id).order_by("sort_order", "pk"))
    bank = []
    if rules:
        bank = [frozen(q) for q in Question.objects.active().select_related("topic").order_by("pk")]
    return PaperSource(mode, [], rules, bank)


def paper_source(paper_id):
    """The PaperSource of a paper, from this process's memory when it is current."""
    version = _version()
    now = time.monotonic()
    with _lock:
        if version is None or now - _held["since"] > HOLD_SECONDS:
            _held.update(version=None, papers={})
        if version is not None and _held["version"] == version and paper_id in _held["papers"]:
            return _held["papers"][paper_id]
    source = _load(paper_id)
    # Only keep it if no edit started a new version while it was read.
    if version is not None and _version() == version:
        with _lock:
            if _held["version"] != version:
                _held.update(version=version, since=now, papers={})
            _held["papers"][paper_id] = source
    return source


def content_changed(**kwargs):
    """A new content version now and once the transaction commits."""

    def bump():
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)

    bump()
    transaction.on_commit(bump)


def connect_signals():
    from django.db.models.signals import post_delete, post_save

    from learning.models import LawTopic

    from .models import Paper, PaperQuestion, PaperRule, Question

    for model in (Question, LawTopic, Paper, PaperQuestion, PaperRule):
        for signal in (post_save, post_delete):
            signal.connect(content_changed, sender=model, dispatch_uid=f"paper-cache-{model}")
