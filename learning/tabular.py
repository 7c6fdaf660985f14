"""The one reader behind every spreadsheet import (HR's roster, the question bank).

Offices send files the way their software makes them: .xlsx from Excel or WPS, old
.xls, "CSV" in GBK, a title row and notes above the header, merged cells, numbers
shown with leading zeros by a cell format, dates as date cells. This module turns
such a file into rows of text as the person sees it in Excel, and refuses (with
every reason) anything it cannot read faithfully: an import never gets wrong data
silently, and garbage never raises anything but TableError."""

import codecs
import csv
import datetime
import decimal
import functools
import io
import re
import struct
import unicodedata
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

import openpyxl
import python_calamine
from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601

# Only the first columns are read, whatever size the sheet claims (a forged
# <dimension> would otherwise pad every row to 16,384 cells).
MAX_COLUMNS = 50
# Title rows, notes and blank rows above the header: the header is looked for here.
HEADER_SEARCH_ROWS = 20
# A workbook has a dozen or so parts; thousands mean a crafted archive.
MAX_ARCHIVE_MEMBERS = 500
# An xlsx is a zip file: refuse archives that would expand to more than this.
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
# Excel's own limit; a forged row number beyond it would make the reader walk
# millions of empty rows.
MAX_SHEET_ROWS = 1_048_576
# Far more than any roster needs (one per row and column group); more means a crafted file.
MAX_MERGES = 100_000
# calamine holds an .xls sheet as a full grid (about 64 bytes a cell) up to its
# farthest value; 65,536 rows of 30 columns is the most that is read.
MAX_XLS_CELLS = 2_000_000
# Refusals list at most this many formula cells, then how many more there are.
MAX_LISTED_FORMULAS = 20
# Formulas without a saved result are located up to this many; past it the file
# is refused as a whole.
MAX_UNSAVED_FORMULAS = 100_000

SPREADSHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW_TAG = SPREADSHEET_NS + "row"
_FORMULA_TAG = SPREADSHEET_NS + "f"
_VALUE_TAG = SPREADSHEET_NS + "v"
_CELL_TAG = SPREADSHEET_NS + "c"
_INLINE_TAG = SPREADSHEET_NS + "is"
_TEXT_TAG = SPREADSHEET_NS + "t"
_RUN_TAG = SPREADSHEET_NS + "r"
_MERGE_REFERENCE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']([^\"']{0,40})[\"']"
)

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
# Files people upload by mistake: PDF, images, archives, RTF.
BINARY_SIGNATURES = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"II*\x00",
    b"MM\x00*",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"{\\rtf",
)
# Stream names inside an OLE2 file, as stored (UTF-16LE).
_ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
_WORKBOOK_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
# A Word 97 .doc, a PowerPoint 97 .ppt, an Outlook .msg.
_OTHER_OFFICE_STREAMS = tuple(
    name.encode("utf-16-le")
    for name in ("WordDocument", "PowerPoint Document", "__properties_version1.0")
)
# BIFF records that put a value in a cell (FORMULA, LABELSST, NUMBER, RK, BOOLERR,
# LABEL, RSTRING), MULRK (several RK values in a row) and FILEPASS (encryption).
_BIFF_CELLS = frozenset((0x0006, 0x00FD, 0x0203, 0x027E, 0x0205, 0x0204, 0x00D6))
_BIFF_MULRK = 0x00BD
_BIFF_FILEPASS = 0x002F
_WORKSHEET_CONTENT_TYPES = (
    b"spreadsheetml.worksheet+xml",
    b"spreadsheetml.sheet.main+xml",
    b"ms-excel.sheet.macroEnabled.main+xml",
)

_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: " "}
_XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_INVISIBLE_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BRACKETED = re.compile(r"[(\[【〔]([^)\]】〕]*)[)\]】〕]")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f〇"
_CJK_NAME = re.compile(rf"[{_CJK}·•・‧.\s]*[{_CJK}][{_CJK}·•・‧.\s]*")
_NAME_DOTS = re.compile(r"\s*[·•・‧.]\s*")
_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T ]\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d+(?:\.\d+)?")
_NOTE = re.compile(r"(?:填表说明|说明|注|制表|审核)(?:人|日期|时间|单位)?\s*\d*\s*[:、]")
# Excel's 1900 date system: serial 61 is 1 March 1900 counted from this day (serial
# 60 is the 29 February 1900 that never was).
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_LAST_SERIAL = 2_958_465  # 31 December 9999
_DECIMALS = decimal.Context(prec=400)
_COLOUR = re.compile(r"black|blue|cyan|green|magenta|red|white|yellow|color\d{1,2}")


@dataclass(frozen=True)
class Field:
    """A column an importer knows: found by any of its aliases or its label."""

    key: str
    label: object  # lazy translated label, e.g. gettext_lazy("Name")
    aliases: tuple = ()  # header texts people write, e.g. ("姓名", "name")
    required: bool = False


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file. `row` is the sheet row number as Excel shows
    it (None for the file as a whole); `column` the header as written in the file."""

    row: int | None
    column: str
    message: str

    def __str__(self):
        if self.row is None:
            return self.message
        if self.column:
            return _("Row %(row)s, column “%(column)s”: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


class TableError(Exception):
    """The file cannot be read; `problems` lists every reason (list[Problem])."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass
class Row:
    """One row with data, its values as text the way the person sees them in Excel."""

    number: int
    values: dict
    numeric: frozenset = frozenset()
    dates: dict = field(default_factory=dict)


@dataclass
class Table:
    """What the file holds: rows keyed by field, plus what was left out and why."""

    format: str
    header_row: int
    columns: dict
    unused: list
    rows: list
    warnings: list


def _refusal(message, row=None, column=""):
    return TableError([Problem(row, column, message)])


# Text helpers -------------------------------------------------------------------------


def half_width(text):
    """Full-width ASCII (typed with a Chinese input method) as plain ASCII, and the
    ideographic space as a space."""
    return str(text).translate(_HALF_WIDTH)


def clean_text(text):
    """Free text as written: Excel's _xHHHH_ escapes decoded (a line break comes out
    of Excel as _x000D_), line breaks as \\n, invisible control characters dropped.
    Full-width punctuation is kept: it is part of Chinese text."""
    text = str(text)
    if "_x" in text:
        text = _XML_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
        if any("\ud800" <= ch <= "\udfff" for ch in text):
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE_CONTROLS.sub("", text).strip()


def _header_forms(text):
    """(with bracket contents, without bracketed notes): "选项（A）" must still name
    option A while "姓名（必填）" names 姓名."""
    text = unicodedata.normalize("NFKC", clean_text(text))
    text = _strip_markers("".join(text.split()).lower())
    kept = _strip_markers(_BRACKETED.sub(r"\1", text))
    dropped = _strip_markers(_BRACKETED.sub("", text))
    return kept, dropped


def _strip_markers(text):
    return text.strip("*").rstrip(":").strip("*")


def normalise_header(text):
    """A header as compared with aliases: width, spacing, case, the required-marker
    star, bracketed notes such as （必填） and a trailing colon do not matter."""
    return _header_forms(text)[1]


def clean_name(text):
    """A person's name as recorded: Chinese names are spaced out in sheets to align
    two-character names with three-character ones ('李  娜'); the spaces are not part
    of the name. Other names keep single spaces between words."""
    text = half_width(clean_text(text)).strip()
    if _CJK_NAME.fullmatch(text):
        return _NAME_DOTS.sub("·", "".join(text.split())).strip("·")
    return " ".join(text.split())


def normalise_identifier(text):
    """Staff numbers and the like as one spelling: 'bh 1001', 'ＢＨ1001' and 'BH1001'
    are the same number. Leading zeros are part of it."""
    text = "".join(half_width(text).split())
    return re.sub(r"[a-z]+", lambda match: match.group().upper(), text)


def parse_date(text, *, numeric=False):
    """The date a person wrote, in the forms offices use, or None. With numeric=True
    the text is a number cell's display, which may be an Excel serial day number
    (1900 date system)."""
    text = half_width(text).strip()
    match = _DATE_TEXT.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    if numeric and _SERIAL.fullmatch(text):
        return _serial_date(int(text.partition(".")[0]))
    return None


def _serial_date(serial):
    if serial < 1 or serial == 60 or serial > _LAST_SERIAL:
        return None
    return _EXCEL_EPOCH + datetime.timedelta(days=serial + (1 if serial < 60 else 0))


# Cells --------------------------------------------------------------------------------

TEXT, NUMBER, DATE, TIME, BOOL = "text", "number", "date", "time", "bool"


class _Cell(NamedTuple):
    text: str
    kind: str
    date: datetime.date | None = None


def _text_cell(value):
    text = clean_text(value)
    return _Cell(text, TEXT) if text else None


def _value_cell(value, number_format="General"):
    """A cell from a reader's Python value; None when the cell is empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return _text_cell(value)
    if isinstance(value, bool):
        return _Cell("TRUE" if value else "FALSE", BOOL)
    if isinstance(value, int | float):
        return _Cell(format_number(value, number_format), NUMBER)
    if isinstance(value, datetime.datetime):
        return _Cell(value.date().isoformat(), DATE, value.date())
    if isinstance(value, datetime.date):
        return _Cell(value.isoformat(), DATE, value)
    if isinstance(value, datetime.time):
        return _Cell(value.strftime("%H:%M"), TIME)
    if isinstance(value, datetime.timedelta):
        minutes = int(value.total_seconds() // 60)
        return _Cell(f"{minutes // 60}:{minutes % 60:02d}", TIME)
    return _text_cell(str(value))


# Numbers as Excel shows them ------------------------------------------------------------


def general_number(value):
    """A number the way Excel's General format shows it in the formula bar: whole
    numbers without '.0', at most 15 significant digits (so 0.1+0.2 is 0.3), and
    never in scientific notation (a mobile number stored as a number stays whole)."""
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(_significant(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _significant(value):
    """The number Excel holds: a double to 15 significant digits."""
    exact = decimal.Decimal(value)
    if isinstance(value, int) or not exact:
        return exact
    step = decimal.Decimal(1).scaleb(exact.adjusted() - 14)
    return exact.quantize(step, decimal.ROUND_HALF_UP, _DECIMALS)


def format_number(value, number_format):
    """A number as the cell's format displays it, for the formats offices use
    (zero padding, literal prefixes such as "BH"0000, fixed decimals, thousands
    separators, percentages); anything else as General."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if number_format == "General":
        return general_number(value)
    sections = _number_format(number_format or "General")
    if sections is None:
        return general_number(value)
    section, signed = sections[0], True
    if value < 0 and len(sections) > 1:
        section, signed = sections[1], False
    elif value == 0 and len(sections) > 2:
        section = sections[2]
    text = section.render(abs(value), negative=signed and value < 0) if section else ""
    return text if text.strip() else general_number(value)


class _Section(NamedTuple):
    """One section of a number format, reduced to what display needs."""

    prefix: str
    integer: tuple  # placeholders ("0", "#", "?") and literals, left to right
    grouping: bool
    point: bool
    decimals: int
    required_decimals: int
    suffix: str
    exponent: int  # power of ten applied first: 2 per "%", -3 per trailing ","
    general: bool

    def render(self, magnitude, negative):
        digits = general_number(magnitude) if self.general else self._digits(magnitude)
        sign = "-" if negative and digits.strip("0.,") else ""
        return f"{sign}{self.prefix}{digits}{self.suffix}"

    def _digits(self, magnitude):
        simple = self.decimals == self.exponent == 0 and not self.grouping
        if simple and magnitude % 1 == 0 and magnitude < 1e15:
            whole = str(int(magnitude))  # the common case: a whole number, zero-padded
            whole = "" if whole == "0" and "0" not in self.integer else whole
            return _place_digits(whole, self.integer) + ("." if self.point else "")
        number = _significant(magnitude).scaleb(self.exponent, _DECIMALS)
        step = decimal.Decimal(1).scaleb(-self.decimals)
        text = format(number.quantize(step, decimal.ROUND_HALF_UP, _DECIMALS), "f")
        whole, _point, fraction = text.partition(".")
        while len(fraction) > self.required_decimals and fraction.endswith("0"):
            fraction = fraction[:-1]
        if whole == "0" and "0" not in self.integer:
            whole = ""
        if self.grouping:
            whole = _group_thousands(whole.zfill(self.integer.count("0")))
        else:
            whole = _place_digits(whole, self.integer)
        return whole + ("." + fraction if self.point else "")


def _group_thousands(digits):
    if not digits:
        return ""
    return f"{int(digits):,}".rjust(len(digits) + (len(digits) - 1) // 3, "0")


def _place_digits(digits, tokens_):
    """Digits right-aligned into the placeholders, literals kept in place
    ("000-0000" shows 1234567 as 123-4567); extra digits go before the first."""
    if all(place == "0" for place in tokens_):
        return digits.zfill(len(tokens_))
    first = next((i for i, place in enumerate(tokens_) if place in ("0", "#", "?")), None)
    remaining = list(digits)
    out = []
    for index in range(len(tokens_) - 1, -1, -1):
        place = tokens_[index]
        if place not in ("0", "#", "?"):
            out.append(place)
            continue
        if remaining:
            out.append(remaining.pop())
        elif place == "0":
            out.append("0")
        elif place == "?":
            out.append(" ")
        if index == first:
            out.append("".join(remaining))
    return "".join(reversed(out)).strip()


@functools.lru_cache(maxsize=512)
def _number_format(number_format):
    """The format's sections (positive, negative, zero), each None where the
    section uses what this reader does not render; None for General."""
    if number_format.strip().lower() in ("general", "@", ""):
        return None
    sections = tuple(_parse_section(part) for part in _split_sections(number_format)[:3])
    return sections if sections and sections[0] is not None else None


def _split_sections(number_format):
    sections, current, quoted, escaped = [], [], False, False
    for char in number_format:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            sections.append("".join(current))
            current = []
            continue
        current.append(char)
    sections.append("".join(current))
    return sections


def _format_tokens(section):
    """("lit", text) and ("ph", char) tokens, or None for a section with dates,
    exponents, fractions, conditions or text placeholders."""
    tokens, index = [], 0
    while index < len(section):
        char = section[index]
        if char == '"':
            end = section.find('"', index + 1)
            if end < 0:
                return None
            tokens.append(("lit", section[index + 1 : end]))
            index = end + 1
            continue
        if char in "\\_*":
            if char == "\\" and index + 1 < len(section):
                tokens.append(("lit", section[index + 1]))
            index += 2
            continue
        if char == "[":
            end = section.find("]", index)
            inner = section[index + 1 : end].lower() if end > 0 else ""
            if inner.startswith("$"):
                tokens.append(("lit", section[index + 2 : end].split("-")[0]))
            elif not _COLOUR.fullmatch(inner):
                return None  # a condition, elapsed time or Chinese numerals
            index = end + 1
            continue
        if section[index : index + 7].lower() == "general":
            tokens.append(("ph", "general"))
            index += 7
            continue
        if char in "0#?.,%":
            tokens.append(("ph", char))
        elif char.isalpha() or char in "@/":
            return None
        else:
            tokens.append(("lit", char))
        index += 1
    return tokens


def _parse_section(section):
    tokens = _format_tokens(section)
    if not tokens:
        return None
    places = [i for i, (kind, char) in enumerate(tokens) if kind == "ph" and char != "%"]
    if not places:
        return None
    first, last = places[0], places[-1]
    prefix = "".join(text for kind, text in tokens[:first] if kind == "lit")
    suffix = "".join(text if kind == "lit" else "%" for kind, text in tokens[last + 1 :])
    middle = [text for _kind, text in tokens[first : last + 1]]
    exponent = 2 * [text for _kind, text in tokens].count("%")
    if middle == ["general"]:  # "BH"General
        return _Section(prefix, (), False, False, 0, 0, suffix, exponent, True)
    if "general" in middle:
        return None
    return _digit_section(prefix, middle, suffix, exponent)


def _digit_section(prefix, middle, suffix, exponent):
    point = "." in middle
    integer = middle[: middle.index(".")] if point else middle
    fraction = middle[middle.index(".") + 1 :] if point else []
    if any(char not in ("0", "#", "?") for char in fraction) or "." in fraction:
        return None
    while integer and integer[-1] == ",":
        integer = integer[:-1]
        exponent -= 3
    grouping = "," in integer
    integer = tuple(char for char in integer if char != ",")
    if grouping and any(char not in ("0", "#", "?") for char in integer):
        return None
    if len(integer) > 60 or len(fraction) > 30:
        return None
    required = len("".join(fraction).rstrip("#?"))
    return _Section(
        prefix, integer, grouping, point, len(fraction), required, suffix, exponent, False
    )


# Refusal messages -----------------------------------------------------------------------


def _not_a_spreadsheet():
    return _(
        "This is not a spreadsheet. In Excel or WPS choose File › Save as › "
        "Excel workbook (*.xlsx), or CSV."
    )


def _unreadable():
    return _(
        "The file is not a readable workbook: it may be damaged. Open it in Excel or WPS, "
        "choose File › Save as › Excel workbook (*.xlsx), and upload the copy."
    )


def _too_large(limit):
    if limit >= 100 * 1024:
        size = f"{limit / (1024 * 1024):.1f}".removesuffix(".0")
        return _("The file is larger than %(size)s MB.") % {"size": size}
    return _("The file is larger than %(size)s KB.") % {"size": max(1, limit // 1024)}


# Which kind of file ----------------------------------------------------------------------


def _detect_format(data):
    """xlsx, xls or csv, judged by content: offices rename files freely, and a
    password-protected xlsx is an OLE2 file like an .xls."""
    if data.startswith(ZIP_SIGNATURES):
        _check_zip(data)
        return "xlsx"
    if data.startswith(OLE2_SIGNATURE):
        if any(name in data for name in _ENCRYPTED_STREAMS):
            raise _refusal(
                _("The file is protected with a password; save a copy without a password.")
            )
        if not any(name in data for name in _WORKBOOK_STREAMS) and any(
            name in data for name in _OTHER_OFFICE_STREAMS
        ):
            raise _refusal(_not_a_spreadsheet())
        return "xls"
    if data.startswith(BINARY_SIGNATURES):
        raise _refusal(_not_a_spreadsheet())
    return "csv"


def _check_zip(data):
    """Refuse zip bombs, and zips that are not workbooks (.docx, .ods) with a
    message that says what to do instead."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise _refusal(
                    _("The workbook has too many parts; it is not a normal spreadsheet.")
                )
            if sum(info.file_size for info in members) > MAX_UNCOMPRESSED_BYTES:
                raise _refusal(_("The workbook expands to an unreasonable size; refused."))
            names = {info.filename: info for info in members}
            content_types = _small_member(archive, names.get("[Content_Types].xml"))
            mimetype = _small_member(archive, names.get("mimetype"))
    except TableError:
        raise
    except Exception as exc:  # zipfile raises many kinds for a broken archive
        raise _refusal(_unreadable()) from exc
    if any(kind in content_types for kind in _WORKSHEET_CONTENT_TYPES):
        return
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        raise _refusal(
            _(
                "OpenDocument spreadsheets (.ods) cannot be read. In WPS or LibreOffice choose "
                "File › Save as › Excel workbook (*.xlsx)."
            )
        )
    raise _refusal(_not_a_spreadsheet())


def _small_member(archive, info):
    if info is None or info.file_size > 1024 * 1024:
        return b""
    return archive.read(info)


def _decode_text(data):
    """The text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's
    "Unicode text"), else GB18030, which is what Excel on Chinese Windows writes."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = [(data[3:], "utf-8")]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [(data, "utf-16")]
    else:
        candidates = [(data, "utf-8"), (data, "gb18030")]
    for raw, encoding in candidates:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


# Sources: one sheet's rows, whatever the format ------------------------------------------


@dataclass
class _Source:
    """The sheet to read: its rows as (number, cells) with cells a list of
    MAX_COLUMNS _Cell-or-None, its merged ranges (r0, c0, r1, c1; 1-based,
    inclusive) and the cells holding formulas without a saved result."""

    format: str
    rows: object
    merges: list = field(default_factory=list)
    formulas: list = field(default_factory=list)
    close: object = lambda: None


def _guarded(rows, message=None):
    """The readers parse lazily, so a broken sheet fails while it is read: that is
    a refusal, never a crash."""
    try:
        yield from rows
    except TableError:
        raise
    except Exception as exc:
        raise _refusal(message or _unreadable()) from exc


def _padded(cells):
    cells = cells[:MAX_COLUMNS]
    return cells + [None] * (MAX_COLUMNS - len(cells))


def _open_xlsx(data, filename):
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise _refusal(_unreadable()) from exc
    archive = zipfile.ZipFile(io.BytesIO(data))

    def close():
        workbook.close()
        archive.close()

    try:
        for worksheet in workbook.worksheets:
            sheet = _SheetXml(workbook, worksheet, archive)
            if worksheet.sheet_state == "visible" and sheet.has_data():
                merges = _merge_ranges(archive, sheet.path)
                formulas = []
                return _Source("xlsx", _guarded(sheet.rows(formulas)), merges, formulas, close)
        raise _refusal(_("The file has no data in it."))
    except TableError:
        close()
        raise
    except Exception as exc:
        close()
        raise _refusal(_unreadable()) from exc


class _SheetXml:
    """An xlsx sheet's cells, read from its XML with lxml; openpyxl's read-only
    workbook supplies the shared strings, number formats and date styles. openpyxl's
    own cell reader parses in pure Python (through defusedxml), the slow part of a
    large import, and reports neither merged ranges nor formulas without a saved
    result."""

    def __init__(self, workbook, worksheet, archive):
        # openpyxl 3.1 keeps these on its read-only objects without public names; the
        # tests compare every cell with what openpyxl itself reads.
        self.path, self.strings = worksheet._worksheet_path, worksheet._shared_strings
        self.styles, self.custom_formats = workbook._cell_styles, workbook._number_formats
        self.date_styles, self.duration_styles = workbook._date_formats, workbook._timedelta_formats
        self.epoch, self.archive = workbook.epoch, archive
        self.formats, self.columns = {}, {}

    def has_data(self):
        """WPS leaves an empty Sheet1 in front."""
        rows = self.rows([])
        try:
            return any(any(cells) for _number, cells in rows)
        finally:
            rows.close()

    def rows(self, formulas):
        """(number, cells) for each row with cells; `formulas` receives the (row,
        column) of each formula without a saved result."""
        last = 0
        with self.archive.open(self.path) as stream:
            for _event, row in etree.iterparse(
                stream,
                events=("end",),
                tag=_ROW_TAG,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
            ):
                reference = row.get("r")
                number = int(float(reference)) if reference else last + 1
                if number > MAX_SHEET_ROWS:
                    return
                if number > last:  # a row out of order is skipped, as openpyxl does
                    yield number, self._cells(row, number, formulas)
                    last = number
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]

    def _cells(self, row, number, formulas):
        cells, column = [None] * MAX_COLUMNS, 0
        for element in row:
            if element.tag != _CELL_TAG:
                continue
            reference = element.get("r")
            column = self._column(reference) if reference else column + 1
            if column > MAX_COLUMNS:
                continue
            kind, text, inline, formula, saved = element.get("t", "n"), None, None, False, False
            for child in element:
                if child.tag == _VALUE_TAG:
                    text = child.text
                    saved = bool(text) or kind == "str"  # a formula's result may be ""
                elif child.tag == _FORMULA_TAG:
                    formula = True
                elif child.tag == _INLINE_TAG:
                    inline = child
            if formula and not saved and len(formulas) <= MAX_UNSAVED_FORMULAS:
                # Past the limit one unplaced entry stands for all the rest.
                formulas.append(
                    (number, column) if len(formulas) < MAX_UNSAVED_FORMULAS else (None, None)
                )
            cells[column - 1] = self._cell(kind, text, inline, element.get("s"))
        return cells

    def _column(self, reference):
        letters = reference.rstrip("0123456789")
        if letters not in self.columns:
            self.columns[letters] = column_index_from_string(letters)
        return self.columns[letters]

    def _cell(self, kind, text, inline, style):
        if kind == "inlineStr":
            return None if inline is None else _text_cell(_inline_text(inline))
        if not text:
            return None
        if kind == "s":
            return _text_cell(self.strings[int(text)])
        if kind == "b":
            return _value_cell(bool(int(text)))
        if kind == "d":
            return _value_cell(from_ISO8601(text))
        if kind != "n":
            return _text_cell(text)  # "str" (a formula's text), "e" (#N/A …)
        number = float(text) if "." in text or "e" in text or "E" in text else int(text)
        style = int(style) if style else 0
        if style in self.date_styles:
            try:
                return _value_cell(
                    from_excel(number, self.epoch, timedelta=style in self.duration_styles)
                )
            except (OverflowError, ValueError):
                return _text_cell("#VALUE!")  # a date Excel itself shows as ########
        return _Cell(format_number(number, self._number_format(style)), NUMBER)

    def _number_format(self, style):
        if style not in self.formats:
            code = self.styles[style].numFmtId
            self.formats[style] = (
                BUILTIN_FORMATS.get(code, "General")
                if code < BUILTIN_FORMATS_MAX_SIZE
                else self.custom_formats[code - BUILTIN_FORMATS_MAX_SIZE]
            )
        return self.formats[style]


def _inline_text(inline):
    """An inline string's text: plain, or the runs of rich text (phonetic guides,
    which Excel does not show in the cell, are left out)."""
    parts = []
    for node in inline:
        if node.tag == _TEXT_TAG:
            parts.append(node.text or "")
        elif node.tag == _RUN_TAG:
            parts.extend(t.text or "" for t in node if t.tag == _TEXT_TAG)
    return "".join(parts)


def _merge_ranges(archive, path):
    """The sheet's merged ranges, which come after its cells in the XML but are
    needed before them: a scan of the raw XML, with no tree built."""
    merges, tail = [], b""
    with archive.open(path) as stream:
        while chunk := stream.read(1024 * 1024):
            block = tail + chunk
            cut = block.rfind(b"<")
            cut = len(block) if cut < 0 or len(block) - cut > 4096 else cut
            for match in _MERGE_REFERENCE.finditer(block, 0, cut):
                merges.append(_merge_range(match.group(1).decode("ascii", "replace")))
                if len(merges) > MAX_MERGES:
                    raise _refusal(_("The sheet has too many merged cells; unmerge them."))
            tail = block[cut:]
    return [merge for merge in merges if merge]


def _merge_range(reference):
    try:
        min_col, min_row, max_col, max_row = range_boundaries(reference)
    except Exception:
        return None
    if None in (min_col, min_row, max_col, max_row):
        return None
    return _merge(min_row, min_col, max_row, max_col)


def _merge(first_row, first_column, last_row, last_column):
    """(r0, c0, r1, c1), 1-based and within the columns read; None for a range of
    one cell or one that starts beyond them."""
    if first_column > MAX_COLUMNS or (first_row, first_column) == (last_row, last_column):
        return None
    return (first_row, first_column, last_row, min(last_column, MAX_COLUMNS))


def _open_xls(data, filename):
    try:
        _check_xls_extent(data)
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet, rows = _first_xls_sheet(book)
        merges = [
            _merge(r0 + 1, c0 + 1, r1 + 1, c1 + 1)
            for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
        ]
    except TableError:
        raise
    except python_calamine.PasswordError as exc:
        raise _refusal(
            _("The file is protected with a password; save a copy without a password.")
        ) from exc
    except BaseException as exc:  # calamine's Rust panics are BaseExceptions
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise _refusal(_unreadable()) from exc
    return _Source("xls", rows, [merge for merge in merges if merge], [], book.close)


def _check_xls_extent(data):
    """calamine lays every sheet out as a full grid up to its farthest cell: one value
    in the last cell of an .xls (row 65,536, column IV) costs a gigabyte of memory,
    in a file of a few kilobytes. The farthest cell is found first, from the records."""
    stream = _ole_stream(data)
    if stream is None:
        return  # not a workbook calamine can open either; it says so
    rows = columns = 0
    position = 0
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        if kind == _BIFF_FILEPASS:
            raise _refusal(
                _("The file is protected with a password; save a copy without a password.")
            )
        if kind in _BIFF_CELLS and length >= 4:
            row, column = struct.unpack_from("<HH", stream, body)
            rows, columns = max(rows, row + 1), max(columns, column + 1)
        elif kind == _BIFF_MULRK and length >= 6:
            row = struct.unpack_from("<H", stream, body)[0]
            last = struct.unpack_from("<H", stream, body + length - 2)[0]
            rows, columns = max(rows, row + 1), max(columns, last + 1)
        position = body + length
    if rows * columns > MAX_XLS_CELLS:
        raise _refusal(
            _(
                "The sheet has values as far as row %(row)s, column %(column)s. Delete the "
                "empty rows and columns in between, or save the file as .xlsx."
            )
            % {"row": rows, "column": get_column_letter(min(columns, 16384))}
        )


def _ole_stream(data):
    """The Workbook stream of an OLE2 compound file, or None."""
    sector = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini_sector = 1 << struct.unpack_from("<H", data, 0x20)[0]
    fat_count, directory_start = struct.unpack_from("<II", data, 0x2C)
    cutoff, mini_fat_start, _mini_count, difat_start, difat_count = struct.unpack_from(
        "<IIIII", data, 0x38
    )
    if sector not in (512, 4096):
        return None
    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))[: min(fat_count, 109)]
    per_sector = sector // 4
    for difat in _ole_chain(
        None, difat_start, difat_count + 1, jump=True, data=data, sector=sector
    ):
        entries = struct.unpack_from(f"<{per_sector}I", data, (difat + 1) * sector)
        fat_sectors.extend(entries[:-1])
    fat_sectors = fat_sectors[:fat_count]
    fat = []
    for sid in fat_sectors:
        fat.extend(struct.unpack_from(f"<{per_sector}I", data, (sid + 1) * sector))

    def read(start, size=None):
        chain = _ole_chain(fat, start, len(fat) + 1)
        content = b"".join(data[(sid + 1) * sector : (sid + 2) * sector] for sid in chain)
        return content if size is None else content[:size]

    directory = read(directory_start)
    entries = [directory[at : at + 128] for at in range(0, len(directory) - 127, 128)]
    root = entries[0] if entries else b""
    for entry in entries:
        name_length = min(struct.unpack_from("<H", entry, 64)[0], 64)
        name = entry[: max(0, name_length - 2)].decode("utf-16-le", "replace").lower()
        if entry[66] == 2 and name in ("workbook", "book"):
            start, size = struct.unpack_from("<II", entry, 116)
            if size >= cutoff:
                return read(start, size)
            mini_stream = read(struct.unpack_from("<I", root, 116)[0])
            mini_fat_bytes = read(mini_fat_start)
            mini_fat = struct.unpack(f"<{len(mini_fat_bytes) // 4}I", mini_fat_bytes)
            chain = _ole_chain(mini_fat, start, len(mini_fat) + 1)
            content = b"".join(
                mini_stream[sid * mini_sector : (sid + 1) * mini_sector] for sid in chain
            )
            return content[:size]
    return None


def _ole_chain(fat, start, limit, jump=False, data=None, sector=512):
    """Sector numbers of a chain; a loop or a chain longer than the table is a
    broken file."""
    chain, sid = [], start
    while sid < 0xFFFFFFFA:
        if len(chain) >= limit:
            raise ValueError("broken sector chain")
        chain.append(sid)
        if jump:  # DIFAT sectors link through their last entry
            sid = struct.unpack_from("<I", data, (sid + 1) * sector + sector - 4)[0]
        else:
            sid = fat[sid]
    return chain


def _first_xls_sheet(book):
    for index, meta in enumerate(book.sheets_metadata):
        if meta.visible != python_calamine.SheetVisibleEnum.Visible:
            continue
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        sheet = book.get_sheet_by_index(index)
        rows = [
            (number, _padded([_value_cell(v) if v != "" else None for v in values]))
            for number, values in enumerate(_xls_values(sheet), start=1)
        ]
        if any(any(cells) for _number, cells in rows):
            return sheet, iter(rows)
    raise _refusal(_("The file has no data in it."))


def _xls_values(sheet):
    """Rows from the sheet's first row and column: calamine starts both at the
    first cell with data, and pads only the rows."""
    start = sheet.start
    padding = [""] * min(start[1] if start else 0, MAX_COLUMNS)
    for values in sheet.iter_rows():
        yield padding + list(values[:MAX_COLUMNS])


def _open_csv(data, filename):
    text = _decode_text(data)
    if text is None:
        if filename.lower().endswith((".csv", ".txt")):
            raise _refusal(
                _(
                    "The CSV file is in an encoding that cannot be read. Save it as "
                    "“CSV UTF-8” or as an Excel workbook (*.xlsx)."
                )
            )
        raise _refusal(_not_a_spreadsheet())
    if re.search(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]", text):
        raise _refusal(_not_a_spreadsheet())
    if text.lstrip().startswith("<"):
        raise _refusal(
            _(
                "This file is a web page or XML file with a spreadsheet's name. Open it in "
                "Excel or WPS, choose File › Save as › Excel workbook (*.xlsx), and upload "
                "the copy."
            )
        )
    if not text.strip():
        raise _refusal(_("The file has no data in it."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    rows = (
        (number, _padded([_text_cell(value) for value in record[:MAX_COLUMNS]]))
        for number, record in enumerate(reader, start=1)
    )
    message = _(
        "The CSV file cannot be read: a value is far too long or its quotes do not match. "
        "Save it again from Excel or WPS."
    )
    return _Source("csv", _guarded(rows, message))


def _sniff_delimiter(text):
    """Comma, tab (Excel's "Unicode text") or semicolon: the one that splits the
    first lines into the same number of fields most often."""
    lines = text[:65536].split("\n")[:20]
    best, best_score = ",", (0, 0)
    for delimiter in (",", "\t", ";"):
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        score = (count if width > 1 else 0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# Merged cells ------------------------------------------------------------------------------


def _fill_merges(rows, merges):
    """Rows with each merged range's value in every cell of the range, as the person
    sees it, and the columns whose value came from a row above (a department merged
    down over its staff): such a value alone does not make a row one with data."""
    no_inheritance = frozenset()
    pending = sorted(merges)
    index, active = 0, {}
    for number, cells in rows:
        for start in [c for c, merge in active.items() if merge[1] < number]:
            del active[start]
        while index < len(pending) and pending[index][0] <= number:
            r0, c0, r1, c1 = pending[index]
            index += 1
            if r0 == number and c0 not in active and cells[c0 - 1] is not None:
                active[c0] = (r0, r1, c1, cells[c0 - 1])
        if not active:
            yield number, cells, no_inheritance
            continue
        cells, inherited = list(cells), set()
        for c0, (r0, _r1, c1, anchor) in active.items():
            for column in range(c0 - 1, c1):
                cells[column] = anchor
                if number > r0:
                    inherited.add(column)
        yield number, cells, inherited


# The header row ----------------------------------------------------------------------------


class _HeaderMatcher:
    """Header text → field key, by alias or by label in Chinese or English."""

    def __init__(self, fields):
        names = []
        for fld in fields:
            names.extend((fld.key, alias) for alias in fld.aliases)
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    names.append((fld.key, str(fld.label)))
        self._by_form = {}
        for form in (0, 1):  # exact forms first: they win over a form without its notes
            for key, name in names:
                text = _header_forms(name)[form]
                if text:
                    self._by_form.setdefault(text, key)
        self._cache = {}

    def match(self, text):
        if text not in self._cache:
            kept, dropped = _header_forms(text)
            self._cache[text] = self._by_form.get(kept) or self._by_form.get(dropped)
        return self._cache[text]


@dataclass
class _Header:
    number: int
    found: dict  # field key → [(column index, header text)], one entry per header cell
    unused: list  # (header text, [column indexes]) in order
    covered: set  # further columns under a used header merged across columns
    texts: list  # every header text in the row, in order


def _match_row(number, cells, above, matcher):
    """How well a row serves as the header. A cell left empty under a header of the
    row above counts as that header (a two-row header whose first row is not merged
    down)."""
    header = _Header(number, {}, [], set(), [])
    seen = {}
    for column, cell in enumerate(cells):
        if cell is None and above is not None and above[column] is not None:
            cell = above[column] if matcher.match(above[column].text) else None
        if cell is None:
            continue
        if id(cell) in seen:  # the same merged header cell over several columns
            owner = seen[id(cell)]
            if isinstance(owner, list):
                owner.append(column)
            else:
                header.covered.add(column)
            continue
        key = matcher.match(cell.text) if cell.kind == TEXT else None
        header.texts.append(cell.text)
        if key:
            header.found.setdefault(key, []).append((column, cell.text))
            seen[id(cell)] = key
        else:
            columns = [column]
            header.unused.append((cell.text, columns))
            seen[id(cell)] = columns
    return header


def _choose_header(head, matcher):
    """The row with the most known columns (the earlier one on a tie): title rows,
    notes and blank rows above it are not the header."""
    best, previous = None, None
    for number, cells, _inherited in head:
        above = previous[1] if previous and previous[0] == number - 1 else None
        candidate = _match_row(number, cells, above, matcher)
        if best is None or len(candidate.found) > len(best.found):
            best = candidate
        previous = (number, cells)
    return best


def _field_name(fld):
    return fld.aliases[0] if fld.aliases else str(fld.label)


def _header_problems(header, fields):
    if header is None or not header.found:
        wanted = [f for f in fields if f.required] or list(fields)[:3]
        return [
            Problem(
                None,
                "",
                _(
                    "No header row found in the first %(rows)s rows: the file needs columns "
                    "such as %(columns)s."
                )
                % {
                    "rows": HEADER_SEARCH_ROWS,
                    "columns": "、".join(_field_name(f) for f in wanted),
                },
            )
        ]
    problems = []
    missing = [f for f in fields if f.required and f.key not in header.found]
    if missing:
        message = _(
            "Required columns are missing: %(columns)s. Row %(row)s looks like the header; "
            "it has: %(headers)s."
        ) % {
            "columns": "、".join(_field_name(f) for f in missing),
            "row": header.number,
            "headers": "、".join(header.texts[:20]),
        }
        problems.append(Problem(None, "", message))
    labels = {f.key: str(f.label) for f in fields}
    for key, cells in header.found.items():
        if len(cells) < 2:
            continue
        first, second = cells[0][1], cells[1][1]
        if first == second:
            message = _("Column “%(column)s” appears more than once; keep one.") % {"column": first}
        else:
            message = _(
                "Columns “%(first)s” and “%(second)s” both give the %(field)s; keep one."
            ) % {
                "first": first,
                "second": second,
                "field": labels[key][:1].lower() + labels[key][1:],
            }
        problems.append(Problem(header.number, "", message))
    return problems


def _formula_problems(formulas, header, columns):
    """Formula cells without a saved result in the columns read: their value is
    unknown until Excel or WPS calculates and saves the file."""
    message = _(
        "The cell holds a formula without a saved result; open the file in Excel or WPS, "
        "save it, and upload it again."
    )
    cells = sorted(
        (row, column)
        for row, column in formulas
        if row is not None and row >= header.number and column - 1 in columns
    )
    problems = [Problem(row, columns[column - 1], message) for row, column in cells]
    if any(row is None for row, _column in formulas):
        problems.append(Problem(None, "", message))
    if len(problems) > MAX_LISTED_FORMULAS:
        more = len(problems) - MAX_LISTED_FORMULAS
        problems = problems[:MAX_LISTED_FORMULAS]
        problems.append(
            Problem(
                None,
                "",
                _("%(count)s more cells hold formulas without a saved result.") % {"count": more},
            )
        )
    return problems


# The rows below the header ------------------------------------------------------------------


class _Body:
    """Collects the rows with data below the header, and what the importer should
    hear about what was left out."""

    def __init__(self, source_format, header, fields, max_rows):
        self.format, self.header = source_format, header
        self.max_rows = max_rows
        self.used = sorted((cells[0][0], key) for key, cells in header.found.items())
        self.first_column = self.used[0][0]
        self.keys = [f.key for f in fields]
        self.rows, self.skipped = [], []
        used_columns = {column for column, _key in self.used}
        self.watched = [c for c in range(MAX_COLUMNS) if c not in used_columns]
        self.with_values, self.numeric_columns = set(), set()

    def feed(self, number, cells, inherited):
        own = [
            (column, key, cells[column])
            for column, key in self.used
            if cells[column] is not None and column not in inherited
        ]
        self._watch(cells, inherited)
        if not own or self._skips(number, cells, own):
            return
        if len(self.rows) >= self.max_rows:
            raise _refusal(
                _("The file has more than %(max)s rows with data.") % {"max": self.max_rows}
            )
        values, numeric, dates = dict.fromkeys(self.keys, ""), set(), {}
        for column, key in self.used:
            cell = cells[column]
            if cell is None:
                continue
            values[key] = cell.text
            if cell.kind == NUMBER:
                numeric.add(key)
                self.numeric_columns.add(column)
            elif cell.date is not None:
                dates[key] = cell.date
        self.rows.append(Row(number, values, frozenset(numeric), dates))

    def _watch(self, cells, inherited):
        """Notes values in columns that are not read, so that none is dropped silently."""
        found = [c for c in self.watched if cells[c] is not None and c not in inherited]
        if not found:
            return
        read = {id(cells[column]) for column, _key in self.used if cells[column] is not None}
        for column in found:
            if id(cells[column]) not in read:  # not a copy of a merged cell that is read
                self.with_values.add(column)
                self.watched.remove(column)

    def _skips(self, number, cells, own):
        if self._is_note(cells):
            text = cells[self.first_column].text
            text = text if len(text) <= 40 else text[:40] + "…"
            message = _("This looks like a note and was skipped: “%(text)s”.") % {"text": text}
            self.skipped.append(Problem(number, "", message))
            return True
        if self._repeats_header(own):
            message = _("This row repeats the header and was skipped.")
            self.skipped.append(Problem(number, "", message))
            return True
        return False

    def _is_note(self, cells):
        """A note under the table ("注：…", "制表人：…") in the first column, alone
        or merged across the row. Kept conservative: anything else is a row, and the
        importer reports its errors by row number."""
        distinct = {id(cells[c]) for c, _key in self.used if cells[c] is not None}
        cell = cells[self.first_column]
        if len(distinct) != 1 or cell is None or id(cell) not in distinct:
            return False
        return bool(_NOTE.match(half_width(cell.text)))

    def _repeats_header(self, own):
        """The header again (two sheets pasted one under the other)."""
        if len(own) < 2 or len(own) < len(self.used) // 2:
            return False
        return all(cell.text == self.header.found[key][0][1] for _column, key, cell in own)

    def warnings(self):
        found = []
        if self.format == "xls" and self.numeric_columns:
            names = [text for column, key in self.used if column in self.numeric_columns
                     for text in [self.header.found[key][0][1]]]  # fmt: skip
            found.append(Problem(None, "", _(
                "This .xls file stores some values as numbers (column %(columns)s); leading "
                "zeros cannot be read from .xls files. Check them, or save the file as .xlsx."
            ) % {"columns": "、".join(names)}))  # fmt: skip
        grouped = set()
        for text, columns in self.header.unused:
            grouped.update(columns)
            if self.with_values.intersection(columns):
                message = _("Column “%(column)s” is not used; its values are ignored.")
                found.append(Problem(None, text, message % {"column": text}))
        for column in sorted(self.with_values - grouped):
            message = _("Column %(letter)s has values but no header; they are ignored.")
            found.append(Problem(None, "", message % {"letter": get_column_letter(column + 1)}))
        return found + self.skipped


# Reading a table ------------------------------------------------------------------------------

_OPENERS = {"xlsx": _open_xlsx, "xls": _open_xls, "csv": _open_csv}


def read_table(data, filename, fields, *, max_rows, max_bytes=None):
    """The rows of the first sheet with data, keyed by the importer's fields, with
    the header found below any title rows. `data` is the file's bytes (or a file
    to read them from). Raises TableError on anything fatal, listing every reason;
    never anything else, whatever the bytes."""
    limit = settings.XUEFA_MAX_IMPORT_BYTES if max_bytes is None else max_bytes
    if hasattr(data, "read"):  # an upload: an oversized one is never held whole
        data = data.read(limit + 1)
    if not data:
        raise _refusal(_("The file is empty."))
    if len(data) > limit:
        raise _refusal(_too_large(limit))
    fields = tuple(fields)
    source_format = _detect_format(data)
    with warnings.catch_warnings():
        # openpyxl warns about features it ignores (data validation, odd styles).
        warnings.simplefilter("ignore")
        source = _OPENERS[source_format](data, filename or "")
        try:
            return _build_table(source, fields, max_rows)
        finally:
            source.close()


def _build_table(source, fields, max_rows):
    matcher = _HeaderMatcher(fields)
    rows = _fill_merges(source.rows, source.merges)
    head = []
    for item in rows:
        head.append(item)
        if item[0] >= HEADER_SEARCH_ROWS:
            break
    header = _choose_header(head, matcher)
    problems = _header_problems(header, fields)
    if problems:
        raise TableError(problems)
    body = _Body(source.format, header, fields, max_rows)
    for number, cells, inherited in head:
        if number > header.number:
            body.feed(number, cells, inherited)
    for number, cells, inherited in rows:
        body.feed(number, cells, inherited)
    columns = {cells[0][0]: cells[0][1] for cells in header.found.values()}
    problems = _formula_problems(source.formulas, header, columns)
    if problems:
        raise TableError(problems)
    return Table(
        format=source.format,
        header_row=header.number,
        columns={key: cells[0][1] for key, cells in header.found.items()},
        unused=[text for text, _columns in header.unused],
        rows=body.rows,
        warnings=body.warnings(),
    )
