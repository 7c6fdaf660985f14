"""Question bank in xlsx: the downloadable template, export, and import that checks
every row and column first and then writes all rows or none. Rows are matched on
the stable key, so re-importing an exported file updates instead of duplicating."""

import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from learning.models import LawTopic

from .models import Difficulty, Question, QuestionType
from .models.questions import FALSE, OPTION_LETTERS, TRUE, new_question_key, question_errors

MAX_ROWS = 5000
# A real question bank compresses about 5:1; refuse archives that claim far more.
MAX_UNCOMPRESSED_FACTOR = 20
# A workbook has a dozen or so parts; thousands mean a crafted archive.
MAX_ARCHIVE_MEMBERS = 500
# Only the first columns are read, whatever size the sheet claims (a forged
# <dimension> would otherwise pad every row to 16,384 cells).
MAX_COLUMNS = 50
MAX_CELL_LENGTH = {"key": 32, "stem": 4000, "explanation": 4000, "legal_basis": 2000}

COLUMNS = [
    ("key", gettext_lazy("Question key")),
    ("type", gettext_lazy("Question type")),
    ("topic", gettext_lazy("Law topic")),
    ("stem", gettext_lazy("Question")),
    ("option_a", gettext_lazy("Option A")),
    ("option_b", gettext_lazy("Option B")),
    ("option_c", gettext_lazy("Option C")),
    ("option_d", gettext_lazy("Option D")),
    ("option_e", gettext_lazy("Option E")),
    ("option_f", gettext_lazy("Option F")),
    ("answer", gettext_lazy("Answer")),
    ("explanation", gettext_lazy("Explanation")),
    ("legal_basis", gettext_lazy("Legal basis")),
    ("difficulty", gettext_lazy("Difficulty")),
    ("active", gettext_lazy("Active")),
]
REQUIRED = {"type", "topic", "stem", "answer"}
# Headers people write by hand in their own sheets, accepted besides the template's.
ALIASES = {
    "key": ["编号", "试题编号", "key"],
    "type": ["题型", "试题类型", "type"],
    "topic": ["法律专题", "法律主题", "专题", "主题", "topic"],
    "stem": ["题目", "题干", "试题", "stem"],
    "answer": ["答案", "正确答案", "answer"],
    "explanation": ["解析", "答案解析", "explanation"],
    "legal_basis": ["法条依据", "依据", "legal basis"],
    "difficulty": ["难度", "difficulty"],
    "active": ["启用", "是否启用", "active"],
}

TYPE_WORDS = {
    QuestionType.SINGLE: {"single", "单选", "单选题", "单项选择题"},
    QuestionType.MULTIPLE: {"multiple", "多选", "多选题", "多项选择题"},
    QuestionType.TRUE_FALSE: {"true_false", "true-false", "判断", "判断题"},
}
TRUE_WORDS = {"T", "TRUE", "对", "正确", "√", "是"}
FALSE_WORDS = {"F", "FALSE", "错", "错误", "×", "否"}
DIFFICULTY_WORDS = {
    Difficulty.EASY: {"1", "easy", "易", "容易", "简单"},
    Difficulty.MEDIUM: {"2", "medium", "中", "中等", "一般"},
    Difficulty.HARD: {"3", "hard", "难", "困难", "较难"},
}
# Example rows (type, stem, options A–F, answer, explanation, legal basis, difficulty,
# active) for the downloadable template; the topic column is filled in when it is built.
TEMPLATE_EXAMPLES = [
    (
        "单选",
        "自然人的民事权利能力始于何时？",
        "出生",
        "成年",
        "登记户口",
        "入学",
        "",
        "",
        "A",
        "自然人从出生时起到死亡时止，具有民事权利能力。",
        "《中华人民共和国民法典》第十三条",
        "易",
        "是",
    ),
    (
        "多选",
        "下列属于民事法律行为有效条件的有？",
        "行为人具有相应的民事行为能力",
        "意思表示真实",
        "不违反法律、行政法规的强制性规定，不违背公序良俗",
        "必须采用书面形式",
        "",
        "",
        "ABC",
        "",
        "《中华人民共和国民法典》第一百四十三条",
        "中",
        "是",
    ),
    (
        "判断",
        "八周岁以上的未成年人为限制民事行为能力人。",
        "",
        "",
        "",
        "",
        "",
        "",
        "对",
        "",
        "《中华人民共和国民法典》第十九条",
        "易",
        "是",
    ),
]
YES = {"1", "yes", "y", "true", "是", "启用", "√"}
NO = {"0", "no", "n", "false", "否", "停用", "×"}


class ImportRefused(Exception):
    """The whole file was refused; `errors` lists every problem found."""

    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    keys: list = field(default_factory=list)


def _header_label(name):
    return str(dict(COLUMNS)[name])


def _type_label(qtype):
    return {
        QuestionType.SINGLE: "单选",
        QuestionType.MULTIPLE: "多选",
        QuestionType.TRUE_FALSE: "判断",
    }[qtype]


def _workbook_bytes(workbook):
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_with_header(title):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append([_header_label(name) for name, _label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    return workbook, sheet


def template_xlsx():
    """An empty template with one example row per type and a sheet of instructions."""
    workbook, sheet = _sheet_with_header(_("Questions"))
    topic = LawTopic.objects.order_by("sort_order", "name").first()
    topic_name = topic.name if topic else "民法典"
    for example in TEMPLATE_EXAMPLES:
        sheet.append(["", example[0], topic_name, *example[1:]])
    help_sheet = workbook.create_sheet(_("Instructions"))
    for line in (
        _("Leave Key empty for a new question; keep it to update that question on re-import."),
        _("Type: 单选 (single), 多选 (multiple) or 判断 (true or false)."),
        _("Law topic: the name of an existing law topic."),
        _("Options: fill A, B, C … in order; leave them empty for true-or-false questions."),
        _("Answer: option letters such as A or ACD; 对 or 错 for true-or-false questions."),
        _("Difficulty: 易, 中 or 难. Active: 是 or 否."),
        _("The whole file is checked first: if any row has an error nothing is imported."),
    ):
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 100
    return _workbook_bytes(workbook)


def export_xlsx(questions=None):
    """The bank (or the given questions) in the template's layout."""
    if questions is None:
        questions = Question.objects.select_related("topic").order_by("topic__sort_order", "key")
    workbook, sheet = _sheet_with_header(_("Questions"))
    difficulty_words = {Difficulty.EASY: "易", Difficulty.MEDIUM: "中", Difficulty.HARD: "难"}
    for q in questions:
        answer = q.answer
        if q.type == QuestionType.TRUE_FALSE:
            answer = "对" if q.answer == TRUE else "错"
        sheet.append(
            [q.key, _type_label(q.type), q.topic.name, q.stem]
            + [getattr(q, f"option_{c.lower()}") for c in OPTION_LETTERS]
            + [answer, q.explanation, q.legal_basis, difficulty_words.get(q.difficulty, "中"),
               "是" if q.active else "否"]
        )  # fmt: skip
    return _workbook_bytes(workbook)


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _check_archive(data):
    limit = settings.XUEFA_MAX_IMPORT_BYTES
    if len(data) > limit:
        raise ImportRefused(
            [
                _("The file is too large (%(size)s MB); the limit is %(limit)s MB.")
                % {"size": round(len(data) / 1048576, 1), "limit": round(limit / 1048576, 1)}
            ]
        )
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise ImportRefused([_("This is not an Excel workbook (.xlsx).")]) from None
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ImportRefused([_("The workbook has too many parts; it is not a question bank.")])
    unpacked = sum(info.file_size for info in members)
    if unpacked > limit * MAX_UNCOMPRESSED_FACTOR:
        raise ImportRefused(
            [_("The workbook unpacks to far more data than a question bank holds; refused.")]
        )


def _read_rows(data):
    _check_archive(data)
    try:
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise ImportRefused([_("This is not an Excel workbook (.xlsx).")]) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        header = next(rows, None)
        if not header or not any(header):
            raise ImportRefused([_("The first sheet is empty: no header row found.")])
        body = []
        for number, row in enumerate(rows, start=2):
            if number - 1 > MAX_ROWS:
                raise ImportRefused(
                    [_("Too many rows: at most %(max)s questions per file.") % {"max": MAX_ROWS}]
                )
            if row and any(_text(v) for v in row):
                body.append((number, row))
    except ImportRefused:
        raise
    except Exception:  # openpyxl reads the sheet lazily and raises many kinds when broken
        raise ImportRefused([_("This is not an Excel workbook (.xlsx).")]) from None
    finally:
        workbook.close()
    return header, body


def _column_map(header):
    """{field name: column index}, accepting headers in Chinese or English."""
    from django.utils import translation

    names = {}
    for name, label in COLUMNS:
        names[str(label).strip().lower()] = name
        with translation.override("en"):
            names[str(label).strip().lower()] = name
        names[name] = name
        for alias in ALIASES.get(name, []):
            names[alias.lower()] = name
    mapping = {}
    errors = []
    for index, cell in enumerate(header):
        text = _text(cell).lower()
        if not text:
            continue
        name = names.get(text)
        if name is None:
            errors.append(_("Unknown column “%(column)s” in the header row.") % {"column": cell})
        elif name in mapping:
            errors.append(_("Column “%(column)s” appears twice.") % {"column": cell})
        else:
            mapping[name] = index
    missing = [_header_label(n) for n, _l in COLUMNS if n in REQUIRED and n not in mapping]
    if missing:
        errors.append(
            _("Required columns are missing: %(columns)s.") % {"columns": "、".join(missing)}
        )
    if errors:
        raise ImportRefused(errors)
    return mapping


def _lookup(word_map, value):
    lowered = value.lower()
    for key, words in word_map.items():
        if lowered in {w.lower() for w in words}:
            return key
    return None


def _parse_row(number, row, mapping, topics):
    """(field values, errors) for one data row."""
    errors = []

    def error(column, message):
        errors.append(
            _("Row %(row)s, column “%(column)s”: %(message)s")
            % {"row": number, "column": _header_label(column), "message": message}
        )

    def cell(name):
        index = mapping.get(name)
        if index is None or index >= len(row):
            return ""
        return _text(row[index])

    values = {name: cell(name) for name, _label in COLUMNS}
    limits = {**MAX_CELL_LENGTH, **{f"option_{c}": 500 for c in "abcdef"}}
    for name, limit in limits.items():
        if len(values[name]) > limit:
            error(name, _("longer than %(max)s characters.") % {"max": limit})
    qtype = _lookup(TYPE_WORDS, values["type"])
    if not values["type"]:
        error("type", _("empty; use 单选, 多选 or 判断."))
    elif qtype is None:
        error(
            "type",
            _("“%(value)s” is not a question type; use 单选, 多选 or 判断.")
            % {"value": values["type"]},
        )
    topic = topics.get(values["topic"])
    if not values["topic"]:
        error("topic", _("empty."))
    elif topic is None:
        error("topic", _("no law topic is called “%(topic)s”.") % values)
    if not values["stem"]:
        error("stem", _("empty."))
    answer = values["answer"]
    if qtype == QuestionType.TRUE_FALSE:
        if answer.upper() in TRUE_WORDS:
            answer = TRUE
        elif answer.upper() in FALSE_WORDS:
            answer = FALSE
        elif answer:
            error("answer", _("a true-or-false answer is 对 or 错."))
        if any(values[f"option_{c.lower()}"] for c in OPTION_LETTERS):
            error("option_a", _("true-or-false questions have no options."))
    if qtype is not None and not answer:
        error("answer", _("empty."))
    elif qtype is not None and not any("answer" in e for e in errors):
        field_errors = question_errors(
            qtype, answer, [values[f"option_{c.lower()}"] for c in OPTION_LETTERS]
        )
        for name, message in field_errors.items():
            error(name, str(message))
    difficulty = Difficulty.MEDIUM
    if values["difficulty"]:
        difficulty = _lookup(DIFFICULTY_WORDS, values["difficulty"])
        if difficulty is None:
            error("difficulty", _("use 易, 中 or 难."))
    active = True
    if values["active"]:
        if values["active"].lower() in YES:
            active = True
        elif values["active"].lower() in NO:
            active = False
        else:
            error("active", _("use 是 or 否."))
    fields = {
        "type": qtype,
        "topic": topic,
        "stem": values["stem"],
        **{f"option_{c.lower()}": values[f"option_{c.lower()}"] for c in OPTION_LETTERS},
        "answer": "".join(sorted(set(answer.upper().replace(",", "").replace("，", "")))),
        "explanation": values["explanation"],
        "legal_basis": values["legal_basis"],
        "difficulty": difficulty,
        "active": active,
    }
    return values["key"], fields, errors


def import_xlsx(data):
    """Import a workbook's questions: every row is checked first; any error refuses
    the whole file (ImportRefused with all messages). Returns an ImportResult."""
    header, body = _read_rows(data)
    mapping = _column_map(header)
    if not body:
        raise ImportRefused([_("The file has a header but no questions.")])
    topics = {t.name: t for t in LawTopic.objects.all()}
    parsed = []
    errors = []
    seen_keys = {}
    for number, row in body:
        key, fields, row_errors = _parse_row(number, row, mapping, topics)
        if key:
            if key in seen_keys:
                row_errors.append(
                    _("Row %(row)s: key “%(key)s” already used in row %(first)s.")
                    % {"row": number, "key": key, "first": seen_keys[key]}
                )
            seen_keys.setdefault(key, number)
        errors.extend(row_errors)
        parsed.append((key, fields))
    if errors:
        raise ImportRefused(errors)
    result = ImportResult()
    with transaction.atomic():
        existing = {q.key: q for q in Question.objects.filter(key__in=list(seen_keys))}
        for key, fields in parsed:
            question = existing.get(key)
            if question is None:
                question = Question(key=key or new_question_key(), **fields)
                result.created += 1
            else:
                for name, value in fields.items():
                    setattr(question, name, value)
                result.updated += 1
            question.save()
            result.keys.append(question.key)
    return result
