"""The question bank in spreadsheets: the downloadable template, the export, and the
import of the files offices actually keep (Excel or WPS .xlsx, .xls, .csv; title rows
above the header; their own column names; answers written "A、C" or "（A）").

Fill-in-the-blank questions give their accepted answers one line per blank ("行政许可｜
许可"), short-answer and case-analysis questions a rubric one element a line ("… — 2分")
and a model answer, each in its own column; banks that keep these in the answer column
(参考答案) are read too.

The import is previewed before anything is written (learning/imports.py): every row
and column is checked, and the preview lists what would be created, what would change
field by field and what is left alone. A row is matched to the bank by its key, or,
without one, by its content (type, stem, options and answer), so importing a file
again, or an exported bank, never duplicates a question. A confirmed file is written
in one transaction, in bulk."""

import dataclasses
import hashlib
import json

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.search.backends import get_search_backends

from learning.imports import Change, Importer, PlanChanged, Preview
from learning.models import LawTopic
from learning.spreadsheets import add_sheet, new_workbook, workbook_bytes
from learning.tabular import Field, Problem, TableError, clean_text, half_width, read_table

from .models import CHOICE_TYPES, MANUAL_TYPES, Difficulty, Question, QuestionType
from .models.questions import (
    FALSE,
    OPTION_LETTERS,
    TRUE,
    blank_count,
    check_content,
    format_blanks,
    format_rubric,
    new_question_key,
    normalise_answer,
    normalise_blank,
    parse_blanks,
    parse_rubric,
    true_false_options,
)

KIND = "questions"
MAX_ROWS = 5000
BATCH = 500  # rows per bulk write, and how often progress is reported
INDEX_BATCH = 1000  # questions per search-index write
OPTIONS = tuple(f"option_{c.lower()}" for c in OPTION_LETTERS)
OPTION_LABELS = (
    gettext_lazy("Option A"),
    gettext_lazy("Option B"),
    gettext_lazy("Option C"),
    gettext_lazy("Option D"),
    gettext_lazy("Option E"),
    gettext_lazy("Option F"),
)
# The template's columns in order, with the headers people write in their own sheets.
# 题号 and 序号 are left out on purpose: in most banks they are running numbers (1, 2,
# 3 …), not keys, and matching them as keys would merge unrelated questions.
FIELDS = (
    Field("key", gettext_lazy("Question key"), ("编号", "试题编号", "题目编号", "key")),
    Field(
        "type",
        gettext_lazy("Question type"),
        ("题型", "试题类型", "题目类型", "类型", "type"),
        required=True,
    ),
    Field(
        "topic",
        gettext_lazy("Law topic"),
        ("法律专题", "法律主题", "专题", "主题", "所属专题", "topic"),
        required=True,
    ),
    Field(
        "stem",
        gettext_lazy("Question"),
        ("题目", "题干", "试题", "试题内容", "题目内容", "stem"),
        required=True,
    ),
    *(
        Field(name, label, (f"选项{c}", c, f"{c}选项", f"option {c}"))
        for name, label, c in zip(OPTIONS, OPTION_LABELS, OPTION_LETTERS, strict=True)
    ),
    Field(
        "answer",
        gettext_lazy("Answer"),
        ("答案", "正确答案", "参考答案", "标准答案", "answer"),
        required=True,
    ),
    Field(
        "blanks",
        gettext_lazy("Accepted answers per blank"),
        (
            "填空答案",
            "各空答案",
            "空格答案",
            "填空题答案",
            "可接受答案",
            "accepted answers",
            "blanks",
        ),
    ),
    Field(
        "rubric",
        gettext_lazy("Marking rubric"),
        ("评分要点", "评分标准", "得分要点", "采分点", "评分细则", "rubric"),
    ),
    Field(
        "model_answer",
        gettext_lazy("Model answer"),
        ("参考范文", "示范答案", "答案示例", "范文", "model answer"),
    ),
    Field("explanation", gettext_lazy("Explanation"), ("解析", "答案解析", "试题解析")),
    Field("legal_basis", gettext_lazy("Legal basis"), ("法条依据", "依据", "法律依据")),
    Field("difficulty", gettext_lazy("Difficulty"), ("难度", "难易程度", "难易度")),
    Field("active", gettext_lazy("Active"), ("启用", "是否启用", "状态")),
)
LABELS = {f.key: f.label for f in FIELDS}
MAX_CELL_LENGTH = {
    "key": 32,
    "stem": 4000,
    "explanation": 4000,
    "legal_basis": 2000,
    "blanks": 4000,
    "rubric": 4000,
    "model_answer": 5000,
    **dict.fromkeys(OPTIONS, 500),
}
# The columns only fill-in-the-blank, short-answer and case-analysis questions use:
# the export writes them when it holds such questions.
OPEN_COLUMNS = ("blanks", "rubric", "model_answer")
OPEN_TYPES = frozenset(QuestionType) - CHOICE_TYPES
# Words are compared in half-width lower case without spaces, "_", "-" or "/".
TYPE_WORDS = {
    QuestionType.SINGLE: {"单选", "单选题", "单项选择", "单项选择题", "single", "singlechoice"},
    QuestionType.MULTIPLE: {
        *("多选", "多选题", "多项选择", "多项选择题", "multiple", "multiplechoice"),
        # 不定项选择: any number of correct options, marked all-or-nothing as 多选.
        *("不定项", "不定项选择", "不定项选择题"),
    },
    QuestionType.TRUE_FALSE: {"判断", "判断题", "是非题", "对错题", "truefalse", "trueorfalse"},
    QuestionType.FILL_BLANK: {
        *("填空", "填空题", "填充题", "fillblank", "fillintheblank", "fillintheblanks", "fill"),
    },
    QuestionType.SHORT_ANSWER: {
        *("简答", "简答题", "简述题", "问答", "问答题", "论述", "论述题"),
        *("shortanswer", "short", "essay"),
    },
    QuestionType.CASE_ANALYSIS: {
        *("案例分析", "案例分析题", "案例", "案例题", "案情分析", "分析题", "以案释法题"),
        *("caseanalysis", "case", "casestudy"),
    },
}
DIFFICULTY_WORDS = {
    Difficulty.EASY: {"1", "easy", "易", "容易", "简单", "较易", "低"},
    Difficulty.MEDIUM: {"2", "medium", "中", "中等", "一般", "适中"},
    Difficulty.HARD: {"3", "hard", "难", "困难", "较难", "高"},
}
YES = {"1", "yes", "y", "true", "t", "是", "启用", "有效", "正常", "√", "✓"}
NO = {"0", "no", "n", "false", "f", "否", "停用", "禁用", "无效", "×", "✗"}
# What the template and the export write.
TYPE_LABELS = {
    QuestionType.SINGLE: "单选",
    QuestionType.MULTIPLE: "多选",
    QuestionType.TRUE_FALSE: "判断",
    QuestionType.FILL_BLANK: "填空",
    QuestionType.SHORT_ANSWER: "简答",
    QuestionType.CASE_ANALYSIS: "案例分析",
}
DIFFICULTY_LABELS = {Difficulty.EASY: "易", Difficulty.MEDIUM: "中", Difficulty.HARD: "难"}
ANSWER_LABELS = {TRUE: "对", FALSE: "错"}
YES_NO = {True: "是", False: "否"}
# Example rows of the downloadable template, one per type, by column; the topic column
# is filled in when it is built.
TEMPLATE_EXAMPLES = [
    {
        "type": "单选",
        "stem": "自然人的民事权利能力始于何时？",
        "options": ("出生", "成年", "登记户口", "入学"),
        "answer": "A",
        "explanation": "自然人从出生时起到死亡时止，具有民事权利能力。",
        "legal_basis": "《中华人民共和国民法典》第十三条",
        "difficulty": "易",
    },
    {
        "type": "多选",
        "stem": "下列属于民事法律行为有效条件的有？",
        "options": (
            "行为人具有相应的民事行为能力",
            "意思表示真实",
            "不违反法律、行政法规的强制性规定，不违背公序良俗",
            "必须采用书面形式",
        ),
        "answer": "ABC",
        "legal_basis": "《中华人民共和国民法典》第一百四十三条",
        "difficulty": "中",
    },
    {
        "type": "判断",
        "stem": "八周岁以上的未成年人为限制民事行为能力人。",
        "answer": "对",
        "legal_basis": "《中华人民共和国民法典》第十九条",
        "difficulty": "易",
    },
    {
        "type": "填空",
        "stem": "自然人从____时起到____时止，具有民事权利能力。",
        "blanks": "出生\n死亡｜去世",
        "legal_basis": "《中华人民共和国民法典》第十三条",
        "difficulty": "易",
    },
    {
        "type": "简答",
        "stem": "简述民事法律行为有效应当具备的条件。",
        "rubric": "行为人具有相应的民事行为能力 — 2分\n意思表示真实 — 2分\n"
        "不违反法律、行政法规的强制性规定，不违背公序良俗 — 2分",
        "model_answer": "具备下列条件的民事法律行为有效：（一）行为人具有相应的民事行为能力；"
        "（二）意思表示真实；（三）不违反法律、行政法规的强制性规定，不违背公序良俗。",
        "legal_basis": "《中华人民共和国民法典》第一百四十三条",
        "difficulty": "中",
    },
    {
        "type": "案例分析",
        "stem": "甲十七周岁，是高中学生，未经父母同意，用压岁钱八千元购买了一台笔记本电脑。"
        "父母得知后不同意，要求商店退款。请分析该买卖合同的效力。",
        "rubric": "指出甲是限制民事行为能力人 — 2分\n"
        "指出该合同与其年龄、智力不相适应，效力待定 — 3分\n"
        "指出父母拒绝追认，合同不发生效力，商店应当退款 — 3分",
        "model_answer": "甲已满八周岁未满十八周岁，且不以自己的劳动收入为主要生活来源，是限制民事"
        "行为能力人。八千元的笔记本电脑与其年龄、智力不相适应，该合同须经法定代理人同意或者"
        "追认后有效；父母拒绝追认，合同不发生效力，商店应当返还价款。",
        "legal_basis": "《中华人民共和国民法典》第十九条、第一百四十五条",
        "difficulty": "难",
    },
]

CONTENT = ("type", "stem", *OPTIONS, "answer", "blanks", "rubric")
DETAILS = ("topic", "model_answer", "explanation", "legal_basis", "difficulty", "active")
TEXTS = ("stem", *OPTIONS, "model_answer", "explanation", "legal_basis")


# --- Template and export -------------------------------------------------------------


def _fields(with_open_columns=True):
    return [f for f in FIELDS if with_open_columns or f.key not in OPEN_COLUMNS]


def _headers(with_open_columns=True):
    return [str(f.label) for f in _fields(with_open_columns)]


def _template_row(example, topic_name):
    cells = {**example, "topic": topic_name, "active": "是"}
    cells.update(zip(OPTIONS, example.get("options", ()), strict=False))
    return [cells.get(f.key, "") for f in FIELDS]


def template_xlsx():
    """An empty template with one example row per type and a sheet of instructions."""
    topic = LawTopic.objects.order_by("sort_order", "name").first()
    topic_name = topic.name if topic else "民法典"
    workbook = new_workbook()
    examples = (_template_row(example, topic_name) for example in TEMPLATE_EXAMPLES)
    add_sheet(workbook, _("Questions"), _headers(), examples)
    lines = [
        _("Leave Key empty for a new question; keep it to update that question on re-import."),
        _(
            "Type: 单选 (single), 多选 (multiple), 判断 (true or false), 填空 (fill in the "
            "blank), 简答 (short answer) or 案例分析 (case analysis)."
        ),
        _("Law topic: the name of an existing law topic."),
        _("Options: fill A, B, C … in order for choice questions; leave them empty otherwise."),
        _("Answer: option letters such as A or ACD; 对 or 错 for true-or-false questions."),
        _(
            "Fill in the blank: mark each blank in the question with ____ or （ ）. Accepted "
            "answers per blank: one line per blank (Alt+Enter starts a new line in a cell), "
            "a blank's alternatives separated by ｜, e.g. 行政许可｜许可."
        ),
        _(
            "Short answer and case analysis: marking rubric, one line per element with its "
            "points at the end, e.g. 告知当事人陈述、申辩的权利 — 2分; and a model answer. "
            "Give at least one of the two: without a rubric the answer is marked as a whole."
        ),
        _("Difficulty: 易, 中 or 难. Active: 是 or 否."),
        _("The whole file is checked first: if any row has an error nothing is imported."),
    ]
    add_sheet(workbook, _("Instructions"), [_("Instructions")], ([line] for line in lines))
    return workbook_bytes(workbook)


def _export_row(question, with_open_columns=True):
    answer, options = question.answer, question.option_texts
    if question.type == QuestionType.TRUE_FALSE:
        answer, options = ANSWER_LABELS.get(answer, answer), [""] * len(OPTIONS)
    open_cells = [
        format_blanks(question.blanks),
        format_rubric(question.rubric),
        question.model_answer,
    ]
    return [
        question.key,
        TYPE_LABELS.get(question.type, question.type),
        question.topic.name,
        question.stem,
        *options,
        answer,
        *(open_cells if with_open_columns else ()),
        question.explanation,
        question.legal_basis,
        DIFFICULTY_LABELS.get(question.difficulty, "中"),
        YES_NO[question.active],
    ]


def export_xlsx(questions=None):
    """The bank (or the given questions) in the template's layout, which imports back
    unchanged. The columns of accepted answers, rubric and model answer are written
    when a question uses them: an export of choice questions looks as it always did.
    Cells are text as written: a stem starting with "=" is no formula."""
    if questions is None:
        with_open = Question.objects.filter(type__in=OPEN_TYPES).exists()
        questions = (
            Question.objects.select_related("topic")
            .order_by("topic__sort_order", "key")
            .iterator(chunk_size=2000)
        )
    else:
        questions = list(questions)
        with_open = any(question.type in OPEN_TYPES for question in questions)
    workbook = new_workbook()
    rows = (_export_row(question, with_open) for question in questions)
    add_sheet(workbook, _("Questions"), _headers(with_open), rows)
    return workbook_bytes(workbook)


# --- Reading rows --------------------------------------------------------------------


def _word(text):
    """A type, difficulty or yes/no word as compared: half-width, lower case, no
    spaces or joining marks."""
    text = half_width(text or "").lower()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "_-/")


def _lookup(words, text):
    word = _word(text)
    return next((value for value, known in words.items() if word in known), None)


def _comparable(text):
    """Text as compared with the bank: cleaned, whitespace runs as one space."""
    return " ".join(clean_text(text or "").split())


def _blanks_identity(blanks):
    """Accepted answers as the identity compares them: per blank, the set of answers
    as grading reads them (questions.normalise_blank)."""
    if not isinstance(blanks, list):
        return []
    return [
        sorted({normalise_blank(text) for text in group})
        for group in blanks
        if isinstance(group, list)
    ]


def content_digest(values):
    """The identity of a question without a key: its type, stem, options (none for
    true-or-false) and answer, or its accepted answers for fill in the blank, compared
    after whitespace clean-up. A rubric and a model answer are details that change."""
    qtype = values["type"]
    content = [
        qtype,
        _comparable(values["stem"]),
        *("" if qtype == QuestionType.TRUE_FALSE else _comparable(values[n]) for n in OPTIONS),
        normalise_answer(values["answer"], qtype),
    ]
    if qtype == QuestionType.FILL_BLANK:
        content.append(_blanks_identity(values.get("blanks")))
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


@dataclasses.dataclass
class BankRow:
    """One valid row of the file: the question's field values (topic as its id), the
    fields the file gives (a missing column or blank difficulty changes nothing), and
    the content digest."""

    number: int
    key: str
    values: dict
    given: frozenset
    digest: str = ""

    @property
    def label(self):
        return f"{self.key} {self.values['stem'][:30]}".strip()


class _RowReader:
    """Reads the table's rows into BankRows, collecting problems by row and column."""

    def __init__(self, table):
        self.columns = table.columns
        self.topics = {_word(t.name): t.pk for t in LawTopic.objects.all()}
        self.problems = []

    def problem(self, number, name, message):
        column = self.columns.get(name) or str(LABELS[name])
        self.problems.append(Problem(number, column, message))

    def read(self, row):
        """A BankRow, or None when the row has problems."""
        before = len(self.problems)
        cells = {f.key: row.values.get(f.key, "").strip() for f in FIELDS}
        cells["key"] = half_width(cells["key"]).strip()  # typed with a Chinese input method
        for name, limit in MAX_CELL_LENGTH.items():
            if len(cells[name]) > limit:
                self.problem(
                    row.number, name, _("longer than %(max)s characters.") % {"max": limit}
                )
        values = {
            "type": self._type(row.number, cells["type"]),
            "topic": self._topic(row.number, cells["topic"]),
            "stem": cells["stem"],
            "explanation": cells["explanation"],
            "legal_basis": cells["legal_basis"],
            "difficulty": self._choice(row.number, "difficulty", cells, DIFFICULTY_WORDS),
            "active": self._choice(row.number, "active", cells, {True: YES, False: NO}),
        }
        if not cells["stem"]:
            self.problem(row.number, "stem", _("empty."))
        columns = {}
        if values["type"]:
            content, columns = self._content(row.number, values["type"], cells)
            values.update(content)
        if len(self.problems) > before:
            return None
        given = self._given(values["type"], cells, columns)
        values["difficulty"] = values["difficulty"] or Difficulty.MEDIUM
        values["active"] = True if values["active"] is None else values["active"]
        bank_row = BankRow(row.number, cells["key"], values, frozenset(given))
        bank_row.digest = content_digest(values)
        return bank_row

    def _given(self, qtype, cells, columns):
        """The fields the row gives: a missing column or a blank difficulty changes
        nothing. Whatever the type does not use is given, empty, so a question that
        changes type sheds it; a hand-marked question's rubric and model answer are
        given by their columns (or the model answer by the answer column)."""
        given = {"type", "topic", "stem", *OPTIONS, "answer", "blanks"}
        manual = qtype in MANUAL_TYPES
        if not manual or "rubric" in self.columns:
            given.add("rubric")
        if not manual or "model_answer" in self.columns or "model_answer" in columns:
            given.add("model_answer")
        given |= {name for name in ("explanation", "legal_basis") if name in self.columns}
        given |= {name for name in ("difficulty", "active") if cells[name]}
        return given

    def _type(self, number, text):
        if not text:
            self.problem(number, "type", _("empty; use 单选, 多选, 判断, 填空, 简答 or 案例分析."))
            return None
        qtype = _lookup(TYPE_WORDS, text)
        if qtype is None:
            message = _(
                "“%(value)s” is not a question type; use 单选, 多选, 判断, 填空, 简答 or 案例分析."
            )
            self.problem(number, "type", message % {"value": text})
        return qtype

    def _topic(self, number, text):
        if not text:
            self.problem(number, "topic", _("empty."))
            return None
        topic = self.topics.get(_word(text))
        if topic is None:
            message = _("no law topic is called “%(topic)s”.")
            self.problem(number, "topic", message % {"topic": text})
        return topic

    def _choice(self, number, name, cells, words):
        """The value for a difficulty or yes/no word; None when blank (or wrong)."""
        if not cells[name]:
            return None
        value = _lookup(words, cells[name])
        if value is None:
            message = _("use 易, 中 or 难.") if name == "difficulty" else _("use 是 or 否.")
            self.problem(number, name, message)
        return value

    def _content(self, number, qtype, cells):
        """(the question's content, {field: the column it was read from when not its
        own}): options and the canonical answer, accepted answers, rubric and model
        answer, checked by the bank's own rule (questions.check_content)."""
        options = [cells[name] for name in OPTIONS]
        true_false = qtype == QuestionType.TRUE_FALSE
        if true_false and any(options) and true_false_options(options) is None:
            self.problem(number, "option_a", _("true-or-false questions have no options."))
        written, columns = _written_content(qtype, cells)
        checked = check_content(qtype, option_texts=options, stem=cells["stem"], **written)
        for name, message in checked.errors.items():
            self.problem(number, columns.get(name, name), str(message))
        if true_false:
            options = [""] * len(OPTIONS)  # "A 正确 / B 错误" become the answer T or F
        content = {
            "answer": checked.answer,
            **dict(zip(OPTIONS, options, strict=True)),
            "blanks": checked.blanks,
            "rubric": checked.rubric,
            "model_answer": written["model_answer"],
        }
        return content, columns


def _written_content(qtype, cells):
    """The answer, accepted answers, rubric and model answer as the row writes them,
    and {field: column} for those read from another column: many banks keep a fill-in
    question's answers, or a short answer's model answer, in the answer column."""
    answer, columns = cells["answer"], {}
    blanks, model_answer = cells["blanks"], cells["model_answer"]
    if qtype == QuestionType.FILL_BLANK and not blanks and answer:
        blanks, answer, columns["blanks"] = answer, "", "answer"
    if qtype in MANUAL_TYPES and not model_answer and answer:
        model_answer, answer, columns["model_answer"] = answer, "", "answer"
    written = {
        "answer": answer,
        "blanks": parse_blanks(blanks, blank_count(cells["stem"])),
        "rubric": parse_rubric(cells["rubric"]),
        "model_answer": model_answer,
    }
    return written, columns


def _read_rows(table, progress=None):
    """(BankRows, problems) for the table's rows."""
    reader = _RowReader(table)
    rows = []
    total = len(table.rows)
    for index, row in enumerate(table.rows, start=1):
        bank_row = reader.read(row)
        if bank_row is not None:
            rows.append(bank_row)
        if progress and (index % BATCH == 0 or index == total):
            progress(index, total)
    return rows, reader.problems


# --- Matching rows to the bank -------------------------------------------------------


FIELDS_READ = ("id", "key", "type", "topic", "stem", *OPTIONS, "answer", "blanks", "rubric",
               *DETAILS[1:])  # fmt: skip


class _Bank:
    """The bank as the import compares it, read in one query: questions by key and by
    content digest (the oldest question when the bank already holds copies)."""

    def __init__(self):
        self.by_key, self.by_digest = {}, {}
        questions = Question.objects.order_by("pk").values(*FIELDS_READ)
        for values in questions.iterator(chunk_size=2000):
            self.by_key[values["key"]] = values
            self.by_digest.setdefault(content_digest(values), values)


def _same(name, old, new):
    if name in TEXTS:
        return _comparable(old) == _comparable(new)
    return old == new


def _changes(question, row):
    """[(field, old, new)] where the row differs from the question, over the fields
    the row gives."""
    return [
        (name, question[name], row.values[name])
        for name in (*CONTENT, *DETAILS)
        if name in row.given and not _same(name, question[name], row.values[name])
    ]


@dataclasses.dataclass
class _Plan:
    """What importing would write: new rows, updates of questions (their values as
    read, [(field, old, new)]), and rows unchanged or skipped."""

    create: list = dataclasses.field(default_factory=list)
    update: list = dataclasses.field(default_factory=list)  # (values, changes, row number)
    unchanged: int = 0
    skipped: list = dataclasses.field(default_factory=list)  # (row, reason)

    def in_file_order(self):
        self.create.sort(key=lambda row: row.number)
        self.update.sort(key=lambda update: update[2])
        self.skipped.sort(key=lambda skip: skip[0].number)

    def as_json(self):
        return {
            "create": [(r.number, r.key, r.values) for r in self.create],
            "update": [(q["id"], changes) for q, changes, _row in self.update],
            "unchanged": self.unchanged,
            "skipped": [(r.number, reason) for r, reason in self.skipped],
        }


class _Matcher:
    """Decides, row by row, whether a row creates, updates or leaves a question alone,
    or repeats an earlier row."""

    def __init__(self, bank, columns):
        self.bank, self.columns = bank, columns
        self.plan, self.problems, self.warnings = _Plan(), [], []
        self.first_with_digest, self.first_with_key, self.claimed = {}, {}, {}

    def add(self, row):
        first = self.first_with_digest.setdefault(row.digest, row.number)
        if first != row.number:
            return self.skip(row, _("the same question as row %(row)s; skipped.") % {"row": first})
        if row.key:
            return self._keyed(row)
        question = self.bank.by_digest.get(row.digest)
        if question is None:
            self.plan.create.append(row)
        elif question["id"] in self.claimed:
            message = _("the same question as row %(row)s; skipped.")
            self.skip(row, message % {"row": self.claimed[question["id"]]})
        else:
            self._compare(question, row)

    def _keyed(self, row):
        first = self.first_with_key.setdefault(row.key, row.number)
        if first != row.number:
            message = _("key “%(key)s” already used in row %(first)s.")
            self.problems.append(
                Problem(row.number, self._column("key"), message % {"key": row.key, "first": first})
            )
            return
        question = self.bank.by_key.get(row.key)
        if question is None:
            twin = self.bank.by_digest.get(row.digest)
            if twin is not None:
                message = _("the bank already holds this question as %(key)s; a copy is added.")
                self.warn(row, message % {"key": twin["key"]})
            self.plan.create.append(row)
        else:
            self._compare(question, row)

    def _compare(self, question, row):
        self.claimed[question["id"]] = row.number
        changes = _changes(question, row)
        if changes:
            self.plan.update.append((question, changes, row.number))
        else:
            self.plan.unchanged += 1

    def skip(self, row, reason):
        self.plan.skipped.append((row, reason))
        self.warn(row, reason)

    def warn(self, row, message):
        self.warnings.append(Problem(row.number, self._column("stem"), message))

    def _column(self, name):
        return self.columns.get(name) or str(LABELS[name])


# --- The preview ---------------------------------------------------------------------


def _display(name, value, topics):
    if name == "topic":
        return topics.get(value, "")
    if name == "type":
        return TYPE_LABELS.get(value, value)
    if name == "difficulty":
        return DIFFICULTY_LABELS.get(value, value)
    if name == "active":
        return YES_NO[bool(value)]
    if name == "answer":
        return ANSWER_LABELS.get(value, value)
    if name == "blanks":
        return format_blanks(value)
    if name == "rubric":
        return format_rubric(value)
    return value


def _describe(preview, plan):
    topics = dict(LawTopic.objects.values_list("pk", "name"))
    shown = ("type", "topic", *OPTIONS, "answer", "blanks", "rubric", "difficulty", "active")
    for row in plan.create:
        fields = [
            (str(LABELS[name]), "", str(_display(name, row.values[name], topics)))
            for name in shown
            if row.values[name] not in ("", None, [])
        ]
        preview.created.append(Change(row.number, row.label, fields))
    for question, changes, number in plan.update:
        fields = [
            (str(LABELS[name]), str(_display(name, old, topics)), str(_display(name, new, topics)))
            for name, old, new in changes
        ]
        preview.updated.append(Change(number, f"{question['key']} {question['stem'][:30]}", fields))
    for row, reason in plan.skipped:
        preview.skipped.append(Change(row.number, row.label, [(_("Reason"), "", reason)]))
    preview.unchanged = plan.unchanged


def read_file(data, filename):
    """The file as a table of the bank's columns (at most XUEFA_MAX_IMPORT_BYTES);
    TableError when it cannot be read."""
    return read_table(data, filename, FIELDS, max_rows=MAX_ROWS)


def plan_table(table, progress=None):
    """(Preview, _Plan or None): what importing the table would do, writing nothing."""
    preview = Preview(kind=KIND, rows=len(table.rows), warnings=list(table.warnings))
    if not table.rows:
        preview.errors.append(Problem(None, "", _("The file has a header but no questions.")))
        return preview.seal(None), None
    rows, problems = _read_rows(table, progress)
    preview.errors.extend(problems)
    matcher = _Matcher(_Bank(), table.columns)
    # Rows with keys first: a row without one then never takes a question a key names.
    for row in sorted(rows, key=lambda r: not r.key):
        matcher.add(row)
    matcher.plan.in_file_order()
    preview.errors.extend(matcher.problems)
    preview.warnings.extend(sorted(matcher.warnings, key=lambda p: p.row or 0))
    if preview.errors:
        preview.errors.sort(key=lambda p: p.row or 0)
        return preview.seal(None), None
    _describe(preview, matcher.plan)
    return preview.seal(matcher.plan.as_json()), matcher.plan


def plan_file(data, filename, progress=None):
    """(Preview, _Plan or None) for a file."""
    try:
        table = read_file(data, filename)
    except TableError as error:
        preview = Preview(kind=KIND, errors=list(error.problems))
        return preview.seal(None), None
    return plan_table(table, progress)


# --- Writing it ----------------------------------------------------------------------


def _create(rows, progress=None, total=0):
    created = []
    for start in range(0, len(rows), BATCH):
        batch = [
            Question(key=row.key or new_question_key(), **_model_values(row.values))
            for row in rows[start : start + BATCH]
        ]
        created.extend(Question.objects.bulk_create(batch))
        if progress:
            progress(len(created), total)
    return created


def _model_values(values):
    return {("topic_id" if name == "topic" else name): value for name, value in values.items()}


def _searched_fields():
    """The fields the search index holds (stem, key and the filters): a change to any
    other field leaves the index as it is."""
    names = {field.field_name for field in Question.get_search_fields()}
    return {"topic" if name == "topic_id" else name for name in names}


def _update(updates, progress=None, done=0, total=0):
    """Write each question's changed fields, in bulk batches. Returns the questions
    whose searched fields changed."""
    questions = Question.objects.in_bulk([values["id"] for values, _changes, _row in updates])
    now, searched = timezone.now(), _searched_fields()
    changed, names, reindex = [], {"updated_at"}, []
    for values, changes, _row in updates:
        question = questions[values["id"]]
        for name, _old, new in changes:
            setattr(question, "topic_id" if name == "topic" else name, new)
            names.add(name)
        question.updated_at = now
        changed.append(question)
        if searched.intersection(name for name, _old, _new in changes):
            reindex.append(question)
    for start in range(0, len(changed), BATCH):
        Question.objects.bulk_update(changed[start : start + BATCH], sorted(names))
        if progress:
            progress(done + min(start + BATCH, len(changed)), total)
    return reindex


def _index(questions):
    """Bulk writes send no signals: the search index learns of them here, in batches
    (PostgreSQL's backend writes a batch as one statement, and a statement takes at
    most 65,535 parameters)."""
    for backend in get_search_backends(with_auto_update=True):
        for start in range(0, len(questions), INDEX_BATCH):
            backend.add_bulk(Question, questions[start : start + INDEX_BATCH])


def apply_file(data, filename, fingerprint, options=None, progress=None):
    """Write the file's plan if it still matches the confirmed `fingerprint`, in one
    transaction; PlanChanged when the file or the bank moved since the preview,
    TableError when the file has problems."""
    table = read_file(data, filename)
    with transaction.atomic():
        preview, plan = plan_table(table)
        if plan is None:
            raise TableError(preview.errors)
        if preview.fingerprint != fingerprint:
            raise PlanChanged
        total = len(plan.create) + len(plan.update)
        created = _create(plan.create, progress, total)
        reindex = _update(plan.update, progress, len(created), total)
        _index(created + reindex)
    return {
        "created": len(plan.create),
        "updated": len(plan.update),
        "unchanged": plan.unchanged,
        "skipped": len(plan.skipped),
    }


class QuestionImporter(Importer):
    """The question bank's import in the preview → confirm flow."""

    kind = KIND
    label = gettext_lazy("Question bank")
    permission = "exams.add_question"
    template_url_name = "exams_admin:question_template"

    def preview(self, data, filename, progress=None):
        return plan_file(data, filename, progress)[0]

    def apply(self, data, filename, fingerprint, options=None, progress=None):
        return apply_file(data, filename, fingerprint, options, progress)


# --- Import at once, for the upload screen until it previews --------------------------


class ImportRefused(Exception):
    """The whole file was refused; `errors` lists every problem as text."""

    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclasses.dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


def import_xlsx(data, filename="questions.xlsx"):
    """Preview and import at once: ImportRefused with every problem, else what was
    written."""
    preview, plan = plan_file(data, filename)
    if plan is None:
        raise ImportRefused([str(problem) for problem in preview.errors])
    return ImportResult(**apply_file(data, filename, preview.fingerprint))
