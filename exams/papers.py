"""Drawing a paper: which questions an attempt gets, and whether a paper's rules can
be filled by the bank at all.

A rule asks for `count` active questions of a type, from one law topic or any, of one
difficulty or any. Rules overlap (an any-topic rule and a 法治政府 rule both want the
法治政府 single choices), so whether a bank can fill them is not a matter of counting
per rule: it is a transport problem between the rules and the bank's classes of
questions (topic × type × difficulty). `Allocation` solves it by augmenting paths, as
a bipartite matching is solved. The check (rule_shortfalls, rule_errors,
draw_problems) and the draw share it, so they agree exactly: the check finds a paper
fillable if and only if every draw of it succeeds, whatever the seed."""

from collections import Counter, defaultdict, deque
from decimal import Decimal

from django.db.models import Count
from django.utils.translation import gettext as _

from .models import PaperMode, Question


class PaperError(Exception):
    """The paper cannot be drawn (empty, or the bank is too small for a rule)."""


def rule_label(rule):
    """A rule as organizers read it: “法治政府 × Single choice × Hard × 5” (the
    difficulty left out when any will do)."""
    parts = [str(rule.topic) if rule.topic_id is not None else "*", rule.get_type_display()]
    if rule.difficulty is not None:
        parts.append(rule.get_difficulty_display())
    parts.append(str(rule.count))
    return " × ".join(map(str, parts))


def question_class(question):
    """The class a question (a Question or a paper_cache.FrozenQuestion) is drawn in."""
    return (question.topic_id, question.type, question.difficulty)


def _matches(rule, klass):
    topic_id, qtype, difficulty = klass
    return (
        qtype == rule.type
        and (rule.topic_id is None or rule.topic_id == topic_id)
        and (rule.difficulty is None or rule.difficulty == difficulty)
    )


def priority(rules):
    """Indexes of `rules`, most specific first (a topic and a difficulty, then either,
    then neither), otherwise in paper order: when a bank falls short, the broader
    rule is the one said to lack questions, as it can take what the others leave."""
    return sorted(
        range(len(rules)),
        key=lambda i: (rules[i].topic_id is None) + (rules[i].difficulty is None),
    )


class Allocation:
    """How many questions of each class each rule takes: a flow from the rules (each
    wanting its count) to the classes (each holding so many questions), built one
    augmenting path at a time. A draw then picks question by question with `take`,
    which keeps the flow a complete assignment of what is still to be drawn."""

    def __init__(self, rules, class_sizes):
        self.rules = list(rules)
        self.room = dict(class_sizes)  # questions left in each class
        self.fits = [[c for c in self.room if _matches(rule, c)] for rule in self.rules]
        self.flow = [defaultdict(int) for _rule in self.rules]  # per rule: class → count
        self.used = defaultdict(int)  # per class: what the flow puts there
        self.got = [0] * len(self.rules)  # per rule: what the flow gives it

    def fill(self):
        """Give each rule, most specific first, as many questions as the bank allows
        without taking any from a rule served before it. The total is the largest any
        assignment reaches: a rule without an augmenting path now never gets one
        from the augmentations of the rules after it."""
        for i in priority(self.rules):
            while self.got[i] < self.rules[i].count:
                sent = self._augment(i, self.rules[i].count - self.got[i])
                if not sent:
                    break
                self.got[i] += sent
        return self

    def shortfalls(self):
        """[(rule, questions it can have)] for the rules the bank cannot fill."""
        return [(r, got) for r, got in zip(self.rules, self.got, strict=True) if got < r.count]

    def _spare(self, klass):
        return self.room[klass] - self.used[klass]

    def _search(self, parent):
        """Breadth-first from the classes of `parent` ({class: (rule, the class that
        rule gives up, or None)}; None marks a class not to pass through) along
        classes without a spare question and the rules holding some of them. Returns
        `parent` grown to the classes reached, and the first with a spare question
        (None if there is none)."""
        seen_rules = {step[0] for step in parent.values() if step is not None}
        queue = deque(c for c, step in parent.items() if step is not None)
        while queue:
            klass = queue.popleft()
            if self._spare(klass) > 0:
                return parent, klass
            for s, held in enumerate(self.flow):
                if held.get(klass, 0) > 0 and s not in seen_rules:
                    seen_rules.add(s)
                    for other in self.fits[s]:
                        if other not in parent:
                            parent[other] = (s, klass)
                            queue.append(other)
        return parent, None

    def _path(self, parent, end):
        """[(rule, class taken, class given up or None)] back from `end`."""
        steps, klass = [], end
        while parent.get(klass) is not None:
            rule, previous = parent[klass]
            steps.append((rule, klass, previous))
            if previous is None:
                break
            klass = previous
        return steps

    def _augment(self, i, wanted):
        """Send up to `wanted` more to rule i along one path; how much was sent."""
        parent, end = self._search({c: (i, None) for c in self.fits[i]})
        if end is None:
            return 0
        steps = self._path(parent, end)
        amount = min(wanted, self._spare(end))
        for rule, _taken, given_up in steps:
            if given_up is not None:
                amount = min(amount, self.flow[rule][given_up])
        for rule, taken, given_up in steps:
            self.flow[rule][taken] += amount
            if given_up is not None:
                self.flow[rule][given_up] -= amount
        self.used[end] += amount
        return amount

    def start_draw(self):
        """Begin drawing: `left[i]` is what rule i still has to take."""
        self.left = [rule.count for rule in self.rules]
        return self

    def take(self, i, klass):
        """Rule i takes one question of `klass` if every rule can still be filled
        afterwards (True), else nothing changes (False)."""
        flow = self.flow[i]
        if flow.get(klass, 0) > 0:
            flow[klass] -= 1
            self.used[klass] -= 1
        else:
            # Rule i gives up a unit elsewhere; `klass` must have a question to spare,
            # or others' flow must move out of it along a path to a class with room.
            donor = next(c for c, n in flow.items() if n > 0)
            flow[donor] -= 1
            self.used[donor] -= 1
            if self._spare(klass) <= 0 and not self._free_one(klass):
                flow[donor] += 1
                self.used[donor] += 1
                return False
        self.room[klass] -= 1
        self.left[i] -= 1
        return True

    def _free_one(self, klass):
        """Move one unit of other rules' flow out of the full `klass` into a class
        with room; False when no such move exists."""
        parent = {klass: None}
        for s, held in enumerate(self.flow):
            if held.get(klass, 0) > 0:
                for other in self.fits[s]:
                    parent.setdefault(other, (s, klass))
        parent, end = self._search(parent)
        if end is None:
            return False
        for rule, taken, given_up in self._path(parent, end):
            self.flow[rule][taken] += 1
            self.flow[rule][given_up] -= 1
        self.used[end] += 1
        self.used[klass] -= 1
        return True


def _class_sizes():
    """{class: active questions in it} from the database (one query)."""
    rows = (
        Question.objects.active()
        .order_by()
        .values_list("topic_id", "type", "difficulty")
        .annotate(n=Count("pk"))
    )
    return {(topic_id, qtype, difficulty): n for topic_id, qtype, difficulty, n in rows}


def shortfalls(rules, bank):
    """[(rule, questions it can have)] for the rules that `bank` (questions or frozen
    questions) cannot fill: what is left for a rule once the more specific ones have
    theirs. Empty exactly when some choice of distinct questions satisfies every rule."""
    return Allocation(rules, Counter(map(question_class, bank))).fill().shortfalls()


def rule_shortfalls(rules):
    """[(rule, available)] for rules the active bank cannot fill, rules competing for
    the same questions included (see Allocation)."""
    rules = list(rules)
    if not rules:
        return []
    return Allocation(rules, _class_sizes()).fill().shortfalls()


def rule_errors(rules):
    """Translated messages for every rule the bank cannot fill."""
    return [
        _("Rule “%(rule)s” needs %(count)s questions but the bank has only %(have)s active ones.")
        % {"rule": rule_label(rule), "count": rule.count, "have": have}
        for rule, have in rule_shortfalls(rules)
    ]


def draw_problems(paper):
    """Translated messages for what keeps the paper from being drawn from the bank as
    it is now: saving a paper checks this, but the bank may shrink afterwards."""
    if paper.mode == PaperMode.FIXED:
        return [] if paper.items.exists() else [_("The paper has no questions.")]
    rules = list(paper.rules.select_related("topic").order_by("sort_order", "pk"))
    if not rules:
        return [_("The paper has no rules.")]
    return rule_errors(rules)


def _fixed_items(paper, source):
    if source is not None:
        items = list(source.items)
    else:
        items = [
            (item.question, item.points)
            for item in paper.items.select_related("question__topic").order_by("sort_order", "pk")
        ]
    if not items:
        raise PaperError(_("The paper has no questions."))
    return items


def draw(paper, rng, source=None):
    """[(question, points)] for one attempt, in paper order. Random papers draw with
    `rng` (seeded per attempt), so the same seed over the same bank draws the same
    questions, and different seeds draw different ones. `source` (a PaperSource of
    exams.paper_cache) gives the mode, items, rules and bank instead of `paper`."""
    mode = source.mode if source is not None else paper.mode
    if mode == PaperMode.FIXED:
        return _fixed_items(paper, source)
    rules = list(source.rules if source is not None else paper.rules.order_by("sort_order", "pk"))
    if not rules:
        raise PaperError(_("The paper has no rules."))
    if source is not None:
        bank = source.bank
    else:
        bank = Question.objects.active().select_related("topic").order_by("pk")
    picks = draw_questions(rules, bank, rng)
    return [
        (q, Decimal(rule.points)) for rule, chosen in zip(rules, picks, strict=True) for q in chosen
    ]


def draw_questions(rules, bank, rng):
    """[[question, ...] per rule]: distinct questions of `bank` satisfying every rule,
    each pick uniform among the rule's questions that keep the rest fillable; raises
    PaperError exactly when `shortfalls(rules, bank)` finds one."""
    classes = defaultdict(list)
    for question in bank:
        classes[question_class(question)].append(question)
    plan = Allocation(rules, {c: len(qs) for c, qs in classes.items()}).fill()
    short = plan.shortfalls()
    if short:
        raise PaperError(
            _("Rule “%(rule)s” cannot be filled from the active question bank.")
            % {"rule": rule_label(short[0][0])}
        )
    plan.start_draw()
    chosen = set()
    picks = [[] for _rule in rules]
    for i in priority(rules):
        pool = [q for c in plan.fits[i] for q in classes[c] if q.pk not in chosen]
        picks[i] = _pick(plan, i, pool, rng)
        chosen.update(q.pk for q in picks[i])
    return picks


def _pick(plan, i, pool, rng):
    """Rule i's questions from `pool`, drawn one by one without replacement; a class
    whose question would leave another rule short is passed over for the rest of
    this rule (taking fewer of it later cannot make it possible again)."""
    picked, barred, left = [], set(), len(pool)
    while plan.left[i] > 0:
        if left == 0:  # impossible while the allocation is complete: a defect
            raise PaperError(
                _("Rule “%(rule)s” cannot be filled from the active question bank.")
                % {"rule": rule_label(plan.rules[i])}
            )
        j = rng.randrange(left)
        question = pool[j]
        left -= 1
        pool[j] = pool[left]
        klass = question_class(question)
        if klass in barred:
            continue
        if plan.take(i, klass):
            picked.append(question)
        else:
            barred.add(klass)
    return picked
