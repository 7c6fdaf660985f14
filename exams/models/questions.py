"""The question bank: what organizers write and import, and what papers draw from."""

import dataclasses
import re
import secrets
import unicodedata
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from wagtail.search import index

OPTION_LETTERS = "ABCDEF"
TRUE, FALSE = "T", "F"


class QuestionType(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TRUE_FALSE = "true_false", _("True or false")
    FILL_BLANK = "fill_blank", _("Fill in the blank")
    SHORT_ANSWER = "short_answer", _("Short answer")
    CASE_ANALYSIS = "case_analysis", _("Case analysis")


# Types a person marks (exams.marking); every other type is marked on submit.
MANUAL_TYPES = frozenset({QuestionType.SHORT_ANSWER, QuestionType.CASE_ANALYSIS})
# Types answered by choosing option letters (or T / F).
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.TRUE_FALSE})


class Difficulty(models.IntegerChoices):
    EASY = 1, _("Easy")
    MEDIUM = 2, _("Medium")
    HARD = 3, _("Hard")


def new_question_key():
    return f"Q{secrets.token_hex(5).upper()}"


class QuestionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Question(index.Indexed, models.Model):
    """One question. Options are fixed columns A–F, as in the xlsx template, and the
    answer is the letters of the correct options ("AC"), or T / F for true-false.
    Attempts copy what they show, so editing a question never changes past attempts.
    `key` is the stable identifier xlsx re-imports match on."""

    key = models.CharField(
        _("key"),
        max_length=32,
        unique=True,
        default=new_question_key,
        help_text=_("Stable identifier used to update the question on re-import."),
    )
    type = models.CharField(_("type"), max_length=16, choices=QuestionType.choices)
    topic = models.ForeignKey(
        "learning.LawTopic",
        on_delete=models.PROTECT,
        related_name="questions",
        verbose_name=_("law topic"),
    )
    stem = models.TextField(_("question"))
    option_a = models.CharField(_("option A"), max_length=500, blank=True)
    option_b = models.CharField(_("option B"), max_length=500, blank=True)
    option_c = models.CharField(_("option C"), max_length=500, blank=True)
    option_d = models.CharField(_("option D"), max_length=500, blank=True)
    option_e = models.CharField(_("option E"), max_length=500, blank=True)
    option_f = models.CharField(_("option F"), max_length=500, blank=True)
    answer = models.CharField(
        _("answer"),
        max_length=6,
        blank=True,
        help_text=_(
            "Letters of the correct options, e.g. A or ACD; T or F for true-false. "
            "Not used by fill-in-the-blank, short-answer and case-analysis questions."
        ),
    )
    # Fill in the blank: per blank of the stem (marked ____ or （ ）), in order, the
    # answers accepted for it, synonyms included: [["行政许可", "许可"], ["十五", "15"]].
    blanks = models.JSONField(_("accepted answers per blank"), default=list, blank=True)
    # Short answer and case analysis, marked by a person: the elements a full answer
    # holds with the points each is worth, [{"element": "…", "points": "2"}], and a
    # model answer shown to markers (and to the official when review allows).
    rubric = models.JSONField(_("marking rubric"), default=list, blank=True)
    model_answer = models.TextField(_("model answer"), blank=True)
    explanation = models.TextField(_("explanation"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    difficulty = models.PositiveSmallIntegerField(
        _("difficulty"), choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = QuestionQuerySet.as_manager()

    search_fields = [
        index.SearchField("stem"),
        index.SearchField("key"),
        index.AutocompleteField("stem"),
        index.FilterField("type"),
        index.FilterField("active"),
        index.FilterField("topic_id"),
    ]

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["topic__sort_order", "key"]
        indexes = [models.Index(fields=["topic", "type", "active"])]

    def __str__(self):
        stem = self.stem if len(self.stem) <= 40 else self.stem[:40] + "…"
        return f"{self.key} {stem}"

    @property
    def options(self):
        """{letter: text} for the options in use (none for true-false)."""
        if self.type == QuestionType.TRUE_FALSE:
            return {}
        return {c: t for c, t in zip(OPTION_LETTERS, self.option_texts, strict=True) if t.strip()}

    @property
    def option_texts(self):
        """The six option cells A–F, blank ones included."""
        return [getattr(self, f"option_{c.lower()}") for c in OPTION_LETTERS]

    def clean(self):
        super().clean()
        checked = check_content(
            self.type,
            answer=self.answer,
            option_texts=self.option_texts,
            stem=self.stem,
            blanks=self.blanks,
            rubric=self.rubric,
            model_answer=self.model_answer,
        )
        if checked.errors:
            raise ValidationError(checked.errors)
        self.answer, self.blanks, self.rubric = checked.answer, checked.blanks, checked.rubric

    def snapshot(self):
        """What an attempt freezes: everything needed to show and grade the question."""
        return {
            "key": self.key,
            "type": self.type,
            "stem": self.stem,
            "options": self.options,
            "answer": self.answer,
            "explanation": self.explanation,
            "legal_basis": self.legal_basis,
            "topic": self.topic.name if self.topic_id else "",
            "difficulty": self.difficulty,
            "blanks": self.blanks or [],
            "rubric": self.rubric or [],
            "model_answer": self.model_answer,
        }


# A blank in a stem: a run of two or more underscores (half- or full-width), or empty
# brackets, "（ ）" or "( )", with nothing but spaces inside.
BLANK_PATTERN = re.compile(r"[_＿]{2,}|[（(][ \u3000]*[）)]")
# Punctuation and spaces a blank's answer is compared without (after NFKC folding).
_IGNORED_IN_BLANKS = re.compile(r"[\s\u3000]|[^\w]", re.UNICODE)


def blank_count(stem):
    """How many blanks the stem marks."""
    return len(BLANK_PATTERN.findall(stem or ""))


def split_stem(stem):
    """The stem's text around its blanks: n blanks give n + 1 pieces."""
    return BLANK_PATTERN.split(stem or "")


def normalise_blank(text):
    """A blank's answer as compared: full-width forms folded onto half-width (NFKC),
    case folded, spaces and punctuation dropped: "《行政许可法》 " and "行政许可法" match,
    as do "１５" and "15"."""
    folded = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return _IGNORED_IN_BLANKS.sub("", folded)


def blank_accepts(accepted, response):
    """Whether a response to one blank matches any of its accepted answers."""
    given = normalise_blank(response)
    return bool(given) and any(given == normalise_blank(a) for a in accepted)


def rubric_total(rubric):
    """The points a rubric's elements add up to."""
    return sum((Decimal(str(e.get("points") or 0)) for e in rubric or []), Decimal(0))


# Answer words as people write them in spreadsheets, after NFKC folding and upper case.
TRUE_WORDS = frozenset({"T", "TRUE", "Y", "YES", "对", "正确", "√", "✓", "✔", "是"})
FALSE_WORDS = frozenset({"F", "FALSE", "N", "NO", "错", "错误", "×", "✗", "✘", "✕", "否"})
# Between option letters: commas, enumeration commas, semicolons, slashes and spaces,
# half- or full-width (NFKC folds the full-width ones onto these).
ANSWER_SEPARATORS = frozenset(",、;/ ")
# Brackets around an answer, "（A）", and a closing full stop, "A。", are dropped.
ANSWER_MARKS = "()[]【】"
ANSWER_END = "。."


def _fold(value):
    """Full-width forms (Ａ，（）) as their ASCII selves, upper case, outer blanks gone."""
    return unicodedata.normalize("NFKC", str(value or "")).strip().upper()


def _bare(text):
    """A folded answer without its brackets and closing full stop."""
    for mark in ANSWER_MARKS:
        text = text.replace(mark, "")
    return text.strip().rstrip(ANSWER_END).strip()


def _true_false(word):
    if word in TRUE_WORDS:
        return TRUE
    if word in FALSE_WORDS:
        return FALSE
    return None


def normalise_answer(value, qtype=None):
    """The canonical answer, leniently: sorted unique letters ("ca" → "AC", " AC" → "AC"),
    or T / F for a true-or-false word. Grading compares the stored answer and the
    response through this, so an answer stored before answers were checked still grades
    the way it reads."""
    text = _fold(value)
    if qtype == QuestionType.TRUE_FALSE:
        verdict = _true_false(_bare(text))
        if verdict:
            return verdict
    return "".join(sorted({char for char in text if "A" <= char <= "Z"}))


def true_false_options(option_texts):
    """{letter: T or F} when a true-or-false question comes with the options
    "A 正确 / B 错误" (some banks write them out), else None."""
    texts = zip(OPTION_LETTERS, [_bare(_fold(text)) for text in option_texts], strict=False)
    verdicts = {letter: _true_false(text) for letter, text in texts if text}
    if sorted(verdicts) == ["A", "B"] and {verdicts["A"], verdicts["B"]} == {TRUE, FALSE}:
        return verdicts
    return None


def _present_letters(option_texts):
    return [c for c, t in zip(OPTION_LETTERS, option_texts, strict=False) if (t or "").strip()]


def _parse_true_false(text, option_texts):
    word = _bare(text)
    verdict = _true_false(word) or (true_false_options(option_texts) or {}).get(word)
    if verdict:
        return verdict, None
    return "", gettext("Not a true-or-false answer; write 对 or 错.")


def _parse_choice(qtype, written, option_texts):
    letters, unknown = set(), None
    for char in _bare(_fold(written)):
        if "A" <= char <= "Z":
            letters.add(char)
        elif char not in ANSWER_SEPARATORS and unknown is None:
            unknown = char
    canonical = "".join(sorted(letters))
    if not letters:
        message = gettext("“%(value)s” is not an answer; write option letters such as A or AC.")
        return "", message % {"value": written}
    if unknown:
        message = gettext("Unknown separator “%(separator)s”; write the letters as AC or A,C.")
        return canonical, message % {"separator": unknown}
    missing = [c for c in canonical if c not in _present_letters(option_texts)]
    if missing:
        message = ngettext(
            "Option %(letters)s does not exist.", "Options %(letters)s do not exist.", len(missing)
        )
        return canonical, message % {"letters": ", ".join(missing)}
    if qtype == QuestionType.SINGLE and len(canonical) != 1:
        return canonical, gettext("A single-choice question has exactly one correct option.")
    if qtype == QuestionType.MULTIPLE and len(canonical) < 2:
        return canonical, gettext("A multiple-choice question has at least two correct options.")
    return canonical, None


def parse_answer(qtype, text, option_texts=()):
    """(canonical answer, error message or None) for an answer as a person wrote it:
    "a、c", "（A）", "ＡＣ", "C A" → "AC"; 对, √, 正确, T, Y, 是 → "T". The one reading of
    answers that validation, storage and grading share, so they never disagree."""
    written = str(text or "").strip()
    if not written:
        return "", gettext("Give the correct answer.")
    if qtype == QuestionType.TRUE_FALSE:
        return _parse_true_false(_fold(written), option_texts)
    return _parse_choice(qtype, written, option_texts)


# --- Fill in the blank and hand-marked questions as text ------------------------------

# Between a blank's accepted answers written as text, one line per blank: "行政许可｜许可".
BLANK_ALTERNATIVES = re.compile(r"[｜|；;]")
# What an accepted answer cannot hold: the text form could not give it back.
_NOT_IN_ACCEPTED = re.compile(r"[｜|；;\n\r]")
# A one-line key numbered per blank: "①行政许可②十五日" or "（1）行政许可（2）十五日".
_BLANK_NUMBERS = re.compile(r"[①-⑳]|[（(]\s*[0-9０-９]{1,2}\s*[)）]")
MAX_BLANKS = 20
MAX_ACCEPTED_LENGTH = 200  # as long as a response to one blank may be
# A rubric line: the element, then its points, "依法告知陈述申辩权利 — 2分", "…（2分）",
# "…：2分" or "… 2". The points are the line's last number.
_RUBRIC_LINE = re.compile(
    r"(?P<element>.*?)(?P<sep>[\s—–\-－:：,，、]*)(?P<open>[（(【\[]?)\s*"
    r"(?P<points>[0-9０-９]+(?:[.．][0-9０-９]+)?)\s*(?P<unit>分?)\s*[)）】\]]?\s*[。.]?",
    re.DOTALL,
)
_ELEMENT_END = "—–-－:：,，、 \t\u3000"
MAX_RUBRIC_ELEMENTS = 20
MAX_ELEMENT_LENGTH = 500
MAX_ELEMENT_POINTS = Decimal(100)


def _lines(text):
    """The text's lines, without empty ones before the first or after the last."""
    text = str(text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _alternatives(line):
    found = []
    for text in BLANK_ALTERNATIVES.split(line):
        text = text.strip()
        if text and text not in found:
            found.append(text)
    return found


def _numbered_parts(line):
    """The parts of "①行政许可②十五日" after each number, or [line] when the line does
    not start with a number."""
    parts = _BLANK_NUMBERS.split(line)
    if parts[0].strip():
        return [line]
    return parts[1:]


def parse_blanks(text, expected=0):
    """The accepted answers per blank from text as people write them: one line per
    blank, a blank's alternatives separated by ｜, |, ； or ; ("行政许可｜许可"). A one-line
    key numbered per blank ("①行政许可②十五日", "（1）…（2）…") is read the same when
    the stem has `expected` blanks, more than one. Never refuses: `check_content` says
    what is wrong with the result (an empty line in between is a blank without answers)."""
    lines = _lines(text)
    if len(lines) == 1 and expected > 1:
        numbered = _numbered_parts(lines[0])
        if len(numbered) == expected:
            lines = numbered
    return [_alternatives(line) for line in lines]


def format_blanks(blanks):
    """The accepted answers as the admin form and the spreadsheet show them, which
    `parse_blanks` reads back to the same lists."""
    return "\n".join("｜".join(str(text) for text in group) for group in blanks or [])


def parse_rubric(text):
    """A rubric from text, one element a line with its points at the end: "依法告知陈述申
    辩权利 — 2分", "…（2分）", "…：2". A line without points keeps them empty, and
    `check_content` says so."""
    rubric = []
    for line in _lines(text):
        line = line.strip()
        if not line:
            rubric.append({"element": "", "points": ""})
            continue
        match = _RUBRIC_LINE.fullmatch(line)
        if match and (match["sep"] or match["unit"] or match["open"]):
            element = match["element"]
            points = unicodedata.normalize("NFKC", match["points"])
        else:
            element, points = line, ""
        rubric.append({"element": element.rstrip(_ELEMENT_END).strip(), "points": points})
    return rubric


def format_rubric(rubric):
    """The rubric as the admin form and the spreadsheet show it, one element a line,
    which `parse_rubric` reads back to the same list."""
    return "\n".join(f"{item['element']} — {item['points']}分" for item in rubric or [])


def _points_text(value):
    """Points as a rubric stores them ("2", "1.5"), or None when not a positive number
    of at most MAX_ELEMENT_POINTS with two decimals at most."""
    try:
        points = Decimal(unicodedata.normalize("NFKC", str(value)).strip())
    except (InvalidOperation, ValueError):
        return None
    if not points.is_finite() or points <= 0 or points > MAX_ELEMENT_POINTS:
        return None
    if points != points.quantize(Decimal("0.01")):
        return None
    return format(points.normalize(), "f")


@dataclasses.dataclass
class CheckedQuestion:
    """A question's content as the bank stores it, and what is wrong with it by field."""

    answer: str = ""
    blanks: list = dataclasses.field(default_factory=list)
    rubric: list = dataclasses.field(default_factory=list)
    errors: dict = dataclasses.field(default_factory=dict)


def check_content(
    qtype, *, answer="", option_texts=(), stem="", blanks=None, rubric=None, model_answer=""
):
    """The one check of a question's content for its type, shared by the model (the
    admin form) and the import so both say the same thing. Choice types: options and
    answer letters. Fill in the blank: a stem with 1+ blanks and as many groups of
    accepted answers, no options or letters. Short answer and case analysis: a rubric
    of elements with positive points, or a model answer (then marked as a whole), or
    both; no options or letters. Returns the CheckedQuestion with the canonical values."""
    option_texts, blanks, rubric = list(option_texts), blanks or [], rubric or []
    if qtype in CHOICE_TYPES:
        canonical, errors = _check_choice(qtype, answer, option_texts)
        unused = _unused(blanks=blanks, rubric=rubric, model_answer=model_answer)
        errors = {**unused, **errors}
        return CheckedQuestion(canonical, blanks, rubric, errors)
    if qtype == QuestionType.FILL_BLANK:
        groups, errors = _check_blanks(stem, blanks)
        unused = _unused(
            answer=answer, option_texts=option_texts, rubric=rubric, model_answer=model_answer
        )
        return CheckedQuestion("", groups, [], {**unused, **errors})
    if qtype in MANUAL_TYPES:
        elements, errors = _check_rubric(rubric)
        if not rubric and not (model_answer or "").strip():
            errors["rubric"] = gettext(
                "Give a marking rubric (one line per element with its points, e.g. "
                "“告知当事人陈述、申辩的权利 — 2分”) or a model answer: markers need one of them."
            )
        unused = _unused(answer=answer, option_texts=option_texts, blanks=blanks)
        return CheckedQuestion("", [], elements, {**unused, **errors})
    return CheckedQuestion(errors={"type": gettext("Unknown question type.")})


def _unused(*, answer="", option_texts=(), blanks=(), rubric=(), model_answer=""):
    """Errors for the fields a question of this type does not use but that hold something."""
    errors = {}
    if any((text or "").strip() for text in option_texts):
        errors["option_a"] = gettext("Only choice questions have options; clear them.")
    if (answer or "").strip():
        errors["answer"] = gettext(
            "Only choice and true-or-false questions have answer letters; clear this field."
        )
    if blanks:
        errors["blanks"] = gettext(
            "Only fill-in-the-blank questions have accepted answers per blank; clear them."
        )
    if rubric:
        errors["rubric"] = gettext(
            "Only short-answer and case-analysis questions have a marking rubric; clear it."
        )
    if (model_answer or "").strip():
        errors["model_answer"] = gettext(
            "Only short-answer and case-analysis questions have a model answer; clear it."
        )
    return errors


def _check_choice(qtype, answer, option_texts):
    """(canonical answer, {field: error}) for a choice or true-or-false question."""
    if qtype == QuestionType.TRUE_FALSE:
        canonical, error = parse_answer(qtype, answer, option_texts)
        return canonical, ({"answer": error} if error else {})
    errors = {}
    present = _present_letters(option_texts)
    if len(present) < 2:
        errors["option_b"] = gettext("A choice question needs at least two options.")
    if "".join(present) != OPTION_LETTERS[: len(present)]:
        errors["option_a"] = gettext("Fill the options in order from A without gaps.")
    canonical, error = parse_answer(qtype, answer, option_texts)
    if error:
        errors["answer"] = error
    return canonical, errors


def _blank_groups(blanks):
    """The groups of accepted answers stripped, without empty or repeated ones; None
    when `blanks` is not a list of lists of texts."""
    if not isinstance(blanks, list):
        return None
    groups = []
    for group in blanks:
        if isinstance(group, str):
            group = [group]
        if not isinstance(group, list) or not all(isinstance(t, str | int) for t in group):
            return None
        groups.append(list(dict.fromkeys(str(t).strip() for t in group if str(t).strip())))
    return groups


def _group_problem(groups):
    """What is wrong with the first faulty group of accepted answers, or None."""
    for number, group in enumerate(groups, start=1):
        if not group:
            return gettext("Blank %(number)s has no accepted answer.") % {"number": number}
        for text in group:
            if len(text) > MAX_ACCEPTED_LENGTH:
                message = gettext("An accepted answer takes at most %(max)s characters.")
                return message % {"max": MAX_ACCEPTED_LENGTH}
            if _NOT_IN_ACCEPTED.search(text):
                return gettext("An accepted answer cannot contain ｜, |, ；, ; or a line break.")
            if not normalise_blank(text):
                message = gettext(
                    "“%(answer)s” has no letters or digits: no answer could match it."
                )
                return message % {"answer": text}
    return None


def _check_blanks(stem, blanks):
    """(the groups as stored, {field: error}) for a fill-in-the-blank question."""
    errors, count, groups = {}, blank_count(stem), _blank_groups(blanks)
    if not count:
        errors["stem"] = gettext(
            "Mark each blank in the question with ____ (two or more underscores) or （ ）."
        )
    elif count > MAX_BLANKS:
        message = gettext("A question has at most %(max)s blanks.")
        errors["stem"] = message % {"max": MAX_BLANKS}
    if groups is None:
        errors["blanks"] = gettext("Not a list of accepted answers per blank.")
    elif not groups:
        errors["blanks"] = gettext(
            "Give the accepted answers: one line per blank, a blank's alternatives "
            "separated by ｜, e.g. “行政许可｜许可”."
        )
    elif problem := _group_problem(groups):
        errors["blanks"] = problem
    elif count and len(groups) != count:
        message = ngettext(
            "The question has %(count)s blank but answers for %(given)s are given; "
            "write one line of accepted answers per blank.",
            "The question has %(count)s blanks but answers for %(given)s are given; "
            "write one line of accepted answers per blank.",
            count,
        )
        errors["blanks"] = message % {"count": count, "given": len(groups)}
    return groups or [], errors


def _rubric_items(rubric):
    """[(element, points as written)], or None when `rubric` is not a list of elements."""
    if not isinstance(rubric, list):
        return None
    items = []
    for item in rubric:
        if not isinstance(item, dict) or not isinstance(item.get("element", ""), str):
            return None
        element = item.get("element", "").strip().rstrip(_ELEMENT_END).strip()
        items.append((element, item.get("points", "")))
    return items


def _element_problem(number, element, points):
    """What is wrong with one rubric element, or None."""
    if not element:
        message = gettext("Rubric line %(number)s names no element before its points.")
        return message % {"number": number}
    if len(element) > MAX_ELEMENT_LENGTH or "\n" in element or "\r" in element:
        message = gettext(
            "Rubric line %(number)s is too long: one line of at most %(max)s characters."
        )
        return message % {"number": number, "max": MAX_ELEMENT_LENGTH}
    if _points_text(points) is None:
        message = gettext(
            "Rubric line %(number)s needs its points at the end, a positive number of at "
            "most 100 such as “— 2分” or “— 1.5分”."
        )
        return message % {"number": number}
    return None


def _check_rubric(rubric):
    """(the rubric as stored, {field: error}) for a short-answer or case-analysis
    question: at most MAX_RUBRIC_ELEMENTS elements, each with positive points. None
    at all means the answer is marked as a whole (exams.marking)."""
    items = _rubric_items(rubric)
    if items is None:
        return [], {"rubric": gettext("Not a marking rubric.")}
    if not items:
        return [], {}
    if len(items) > MAX_RUBRIC_ELEMENTS:
        message = gettext("A rubric has at most %(max)s elements.")
        return [], {"rubric": message % {"max": MAX_RUBRIC_ELEMENTS}}
    for number, (element, points) in enumerate(items, start=1):
        problem = _element_problem(number, element, points)
        if problem:
            return [], {"rubric": problem}
    return [{"element": e, "points": _points_text(p)} for e, p in items], {}


def check_question(qtype, answer, option_texts, **content):
    """(canonical answer, {field: error}) for a question's type, options and answer
    (and, for the other types, `content`: stem, blanks, rubric, model_answer); see
    `check_content`."""
    checked = check_content(qtype, answer=answer, option_texts=option_texts, **content)
    return checked.answer, checked.errors


def question_errors(qtype, answer, option_texts, **content):
    """Field errors of `check_question` alone."""
    return check_question(qtype, answer, option_texts, **content)[1]
