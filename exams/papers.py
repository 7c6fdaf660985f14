"""Drawing a paper: which questions an attempt gets, and whether a paper's rules can
be filled by the bank at all."""

from collections import Counter, defaultdict
from decimal import Decimal

from django.utils.translation import gettext as _

from .models import PaperMode, Question


class PaperError(Exception):
    """The paper cannot be drawn (empty, or the bank is too small for a rule)."""


def _pool_key(topic_id, qtype):
    return (topic_id, qtype)


def rule_shortfalls(rules):
    """[(rule, available)] for rules the active bank cannot fill. Rules over the same
    topic and type share one pool, so their counts add up; a rule without a topic
    also competes with the topic rules of its type."""
    rules = list(rules)
    wanted = Counter()
    for rule in rules:
        wanted[_pool_key(rule.topic_id, rule.type)] += rule.count
    available = Counter()
    per_type = Counter()
    for topic_id, qtype in Question.objects.active().values_list("topic_id", "type"):
        available[_pool_key(topic_id, qtype)] += 1
        per_type[qtype] += 1
    short = []
    for rule in rules:
        if rule.topic_id is None:
            # Any-topic rules draw from what the specific rules of that type leave over.
            taken = sum(n for (t, q), n in wanted.items() if q == rule.type and t is not None)
            have = per_type[rule.type] - taken
        else:
            have = available[_pool_key(rule.topic_id, rule.type)]
        if wanted[_pool_key(rule.topic_id, rule.type)] > have:
            short.append((rule, max(have, 0)))
    return short


def rule_errors(rules):
    """Translated messages for every rule the bank cannot fill."""
    return [
        _("Rule “%(rule)s” needs %(count)s questions but the bank has only %(have)s active ones.")
        % {"rule": rule, "count": rule.count, "have": have}
        for rule, have in rule_shortfalls(rules)
    ]


def draw_problems(paper):
    """Translated messages for what keeps the paper from being drawn from the bank as
    it is now: saving a paper checks this, but the bank may shrink afterwards."""
    if paper.mode == PaperMode.FIXED:
        return [] if paper.items.exists() else [_("The paper has no questions.")]
    rules = list(paper.rules.all())
    if not rules:
        return [_("The paper has no rules.")]
    return rule_errors(rules)


def draw(paper, rng, source=None):
    """[(question, points)] for one attempt, in paper order. Random papers draw with
    `rng` (seeded per attempt), so the same seed over the same bank draws the same
    questions, and different seeds draw different ones. `source` (a PaperSource of
    exams.paper_cache) gives the mode, items, rules and bank instead of `paper`."""
    mode = source.mode if source is not None else paper.mode
    if mode == PaperMode.FIXED:
        if source is not None:
            items = list(source.items)
        else:
            items = [
                (item.question, item.points)
                for item in paper.items.select_related("question__topic").order_by(
                    "sort_order", "pk"
                )
            ]
        if not items:
            raise PaperError(_("The paper has no questions."))
        return items

    rules = list(source.rules if source is not None else paper.rules.order_by("sort_order", "pk"))
    if not rules:
        raise PaperError(_("The paper has no rules."))
    pools = defaultdict(list)
    if source is not None:
        bank = source.bank
    else:
        bank = Question.objects.active().select_related("topic").order_by("pk")
    for question in bank:
        pools[question.type].append(question)
    chosen_ids = set()
    drawn = []
    # Specific topics first so any-topic rules take what is left.
    for rule in sorted(rules, key=lambda r: r.topic_id is None):
        candidates = [
            q
            for q in pools[rule.type]
            if q.pk not in chosen_ids and (rule.topic_id is None or q.topic_id == rule.topic_id)
        ]
        if len(candidates) < rule.count:
            raise PaperError(
                _("Rule “%(rule)s” cannot be filled from the active question bank.")
                % {"rule": rule}
            )
        picked = rng.sample(candidates, rule.count)
        chosen_ids.update(q.pk for q in picked)
        drawn.append((rule, [(q, Decimal(rule.points)) for q in picked]))
    by_rule = dict((rule.pk, items) for rule, items in drawn)
    result = []
    for rule in rules:
        result.extend(by_rule[rule.pk])
    return result
