"""The question bank: what organizers write and import, and what papers draw from."""

import re
import secrets
import unicodedata
from decimal import Decimal

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
        answer, errors = check_question(self.type, self.answer, self.option_texts)
        if errors:
            raise ValidationError(errors)
        self.answer = answer

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


def check_question(qtype, answer, option_texts):
    """(canonical answer, {field: error}) for a question's type, options and answer:
    shared by the admin form and the import so both say the same thing."""
    option_texts = list(option_texts)
    if qtype == QuestionType.TRUE_FALSE:
        canonical, error = parse_answer(qtype, answer, option_texts)
        return canonical, ({"answer": error} if error else {})
    if qtype not in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        return "", {"type": gettext("Unknown question type.")}
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


def question_errors(qtype, answer, option_texts):
    """Field errors of `check_question` alone."""
    return check_question(qtype, answer, option_texts)[1]
