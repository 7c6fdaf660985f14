"""Builders of the files offices really send, for the importers' tests: title rows
and merged cells, number formats, WPS's quirks, old .xls, GBK "CSV", and things
that are not spreadsheets at all. Each returns the file's bytes."""

import csv
import datetime
import io
import struct
import zipfile

import openpyxl
import xlwt
from lxml import etree
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
SHARED_STRINGS_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
)
C = f"{{{MAIN_NS}}}c"
V = f"{{{MAIN_NS}}}v"
F = f"{{{MAIN_NS}}}f"
IS = f"{{{MAIN_NS}}}is"
T = f"{{{MAIN_NS}}}t"


def _cell_address(key):
    """(row, column) from (row, column) or "B3"."""
    return coordinate_to_tuple(key) if isinstance(key, str) else tuple(key)


def _add_rows(sheet, title_rows, rows):
    for title in title_rows:
        sheet.append(list(title) if isinstance(title, list | tuple) else [title])
    for row in rows:
        sheet.append(list(row))


def xlsx(
    rows,
    *,
    title_rows=(),
    merges=(),
    number_formats=None,
    sheet_name="Sheet1",
    empty_first_sheet=False,
    hidden_first_sheet=False,
    formulas=None,
    shared_strings=True,
):
    """An xlsx like Excel's: `title_rows` (texts or lists) above `rows`; `merges`
    as "A1:I1"; `number_formats` {(row, col) or "A2": format}; `formulas`
    {"D5": "=B5&C5"} saved without a result, as openpyxl always does (see
    `with_saved_results` for the other case). Strings go to the shared-strings
    table, as Excel writes them, unless shared_strings=False (openpyxl's inline
    strings)."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    sheets = []
    if hidden_first_sheet:
        first.title = "字典"
        _add_rows(first, (), [["是"], ["否"], ["科员"], ["副科长"]])
        first.sheet_state = "hidden"
        sheets.append(first)
    if empty_first_sheet:
        empty = first if not sheets else workbook.create_sheet()
        empty.title = "Sheet1" if sheet_name != "Sheet1" else "Sheet0"
        sheets.append(empty)
    data = first if not sheets else workbook.create_sheet()
    data.title = sheet_name
    _add_rows(data, title_rows, rows)
    for reference in merges:
        data.merge_cells(reference)
    for key, number_format in (number_formats or {}).items():
        data.cell(*_cell_address(key)).number_format = number_format
    for reference, formula in (formulas or {}).items():
        data[reference] = formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return to_shared_strings(buffer.getvalue()) if shared_strings else buffer.getvalue()


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _zipped(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _worksheet_names(members):
    return sorted(name for name in members if name.startswith("xl/worksheets/sheet"))


def to_shared_strings(data, keep_inline=lambda reference: False):
    """The workbook with its inline strings moved to a shared-strings table (what
    Excel writes), except the cells `keep_inline` picks (what WPS sometimes does)."""
    members = _members(data)
    strings, index = [], {}
    for name in _worksheet_names(members):
        tree = etree.fromstring(members[name])
        for cell in tree.iter(C):
            if cell.get("t") != "inlineStr" or keep_inline(cell.get("r")):
                continue
            inline = cell.find(IS)
            text = "".join(inline.itertext()) if inline is not None else ""
            if inline is not None:
                cell.remove(inline)
            if text not in index:
                index[text] = len(strings)
                strings.append(text)
            cell.set("t", "s")
            etree.SubElement(cell, V).text = str(index[text])
        members[name] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    table = etree.Element(f"{{{MAIN_NS}}}sst", nsmap={None: MAIN_NS})
    table.set("count", str(len(strings)))
    table.set("uniqueCount", str(len(strings)))
    for text in strings:
        item = etree.SubElement(etree.SubElement(table, f"{{{MAIN_NS}}}si"), T)
        item.text = text
        item.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    members["xl/sharedStrings.xml"] = etree.tostring(table, xml_declaration=True, encoding="UTF-8")
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/>'
        "</Types>".encode(),
    )
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Type="{SHARED_STRINGS_REL}" Target="sharedStrings.xml" Id="rIdSS"/>'
        "</Relationships>".encode(),
    )
    return _zipped(members)


def with_saved_results(data, results):
    """The workbook with saved results for its formula cells, {"D5": value}, as
    Excel writes them after calculating (openpyxl never does)."""
    members = _members(data)
    for name in _worksheet_names(members):
        tree = etree.fromstring(members[name])
        for cell in tree.iter(C):
            reference = cell.get("r")
            if reference not in results or cell.find(F) is None:
                continue
            value = results[reference]
            for old in cell.findall(V):
                cell.remove(old)
            etree.SubElement(cell, V).text = str(value)
            if isinstance(value, str):
                cell.set("t", "str")
            elif "t" in cell.attrib:
                del cell.attrib["t"]
        members[name] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return _zipped(members)


def wps_xlsx(rows, **options):
    """An xlsx as WPS Office writes it: an empty Sheet1 first, some strings inline
    and the rest shared, line breaks in cells as _x000D_, a <dimension> that says
    A1 whatever the size, and WPS in docProps/app.xml."""
    options.setdefault("empty_first_sheet", True)
    options.setdefault("sheet_name", "花名册")
    data = xlsx(rows, shared_strings=False, **options)
    data = to_shared_strings(
        data, keep_inline=lambda ref: int("".join(filter(str.isdigit, ref))) % 2
    )
    members = _members(data)
    for name in [*_worksheet_names(members), "xl/sharedStrings.xml"]:
        tree = etree.fromstring(members[name])
        for text in tree.iter(T):
            if text.text and "\n" in text.text:
                text.text = text.text.replace("\n", "_x000D_\n")
        members[name] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    members["docProps/app.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<Application>WPS 表格</Application><DocSecurity>0</DocSecurity>"
        "<AppVersion>12.1000</AppVersion></Properties>"
    ).encode()
    return with_dimension(_zipped(members), "A1")


def with_dimension(data, reference):
    """The workbook with every sheet's <dimension> replaced: WPS writes "A1", and a
    forged file may claim "A1:XFD1048576"."""
    members = _members(data)
    for name in _worksheet_names(members):
        tree = etree.fromstring(members[name])
        for dimension in tree.iter(f"{{{MAIN_NS}}}dimension"):
            dimension.set("ref", reference)
        members[name] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return _zipped(members)


def xls(
    rows,
    merges=(),
    *,
    title_rows=(),
    sheet_name="Sheet1",
    empty_first_sheet=False,
    hidden_first_sheet=False,
):
    """A legacy .xls (BIFF8) as Excel 2003 or WPS saves it: numbers stay numbers,
    dates are date cells, `merges` as "A1:I1" over cells left None in `rows`."""
    book = xlwt.Workbook(encoding="utf-8")
    if hidden_first_sheet:
        hidden = book.add_sheet("字典")
        for r, word in enumerate(["是", "否", "科员"]):
            hidden.write(r, 0, word)
        hidden.visibility = 1
    if empty_first_sheet:
        book.add_sheet("Sheet1" if sheet_name != "Sheet1" else "Sheet0")
    sheet = book.add_sheet(sheet_name, cell_overwrite_ok=True)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    all_rows = [list(t) if isinstance(t, list | tuple) else [t] for t in title_rows]
    for r, row in enumerate([*all_rows, *rows]):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime.date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    for reference in merges:
        min_col, min_row, max_col, max_row = range_boundaries(reference)
        sheet.merge(min_row - 1, max_row - 1, min_col - 1, max_col - 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8-sig", delimiter=","):
    """CSV as Excel saves it: CRLF line ends, "CSV UTF-8" with a BOM, plain UTF-8,
    or GB18030 (Excel's "CSV" on Chinese Windows is GBK, a subset)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode(encoding)


END_OF_CHAIN, FREE_SECTOR, FAT_SECTOR = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
NO_STREAM = 0xFFFFFFFF


def compound_file(streams):
    """An OLE2 compound file (the container of .xls, .doc and encrypted .xlsx) holding
    `streams` {name: bytes}; streams under 4,096 bytes go to the mini stream, as the
    format requires."""
    small = {name: content for name, content in streams.items() if len(content) < 4096}
    large = {name: content for name, content in streams.items() if len(content) >= 4096}
    mini_stream, mini_fat, mini_starts = b"", [], {}
    for name, content in small.items():
        count = -(-len(content) // 64)
        mini_starts[name] = len(mini_fat) if count else END_OF_CHAIN
        mini_fat += [len(mini_fat) + n + 1 for n in range(count - 1)] + [END_OF_CHAIN] * bool(count)
        mini_stream += content.ljust(count * 64, b"\x00")
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    names = sorted(streams, key=lambda name: (len(name), name.upper()))
    directory_size = -(-(len(names) + 1) // 4)
    parts = [
        ("directory", directory_size * 512),
        ("mini_fat", len(mini_fat_bytes)),
        ("mini_stream", len(mini_stream)),
        *((name, len(content)) for name, content in large.items()),
    ]
    counts = [-(-size // 512) for _name, size in parts]
    fat_count = 1
    while fat_count * 128 < sum(counts) + fat_count:
        fat_count += 1
    fat, starts, body = [FAT_SECTOR] * fat_count, {}, b""
    contents = {"mini_fat": mini_fat_bytes, "mini_stream": mini_stream, **large}
    for (name, _size), count in zip(parts, counts, strict=True):
        starts[name] = len(fat) if count else END_OF_CHAIN
        fat += [len(fat) + n + 1 for n in range(count - 1)] + [END_OF_CHAIN] * bool(count)
        if name != "directory":
            body += contents[name].ljust(count * 512, b"\x00")
    entries = [_directory_entry("Root Entry", 5, starts["mini_stream"], len(mini_stream))]
    entries[0] = entries[0][:76] + struct.pack("<I", 1 if names else NO_STREAM) + entries[0][80:]
    for index, name in enumerate(names, start=1):
        start, size = (mini_starts[name], len(small[name])) if name in small else (
            starts[name], len(large[name]))  # fmt: skip
        right = index + 1 if index < len(names) else NO_STREAM
        entries.append(_directory_entry(name, 2, start, size, right=right))
    directory = b"".join(entries).ljust(directory_size * 512, b"\x00")
    fat += [FREE_SECTOR] * (fat_count * 128 - len(fat))
    difat = list(range(fat_count)) + [FREE_SECTOR] * (109 - fat_count)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"", 0x3E, 3, 0xFFFE, 9, 6, b"", 0,
        fat_count, starts["directory"], 0, 4096,
        starts["mini_fat"], -(-len(mini_fat_bytes) // 512), END_OF_CHAIN, 0, *difat,
    )  # fmt: skip
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + body


def _directory_entry(name, kind, start, size, right=NO_STREAM):
    encoded = (name + "\x00").encode("utf-16-le")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        encoded, len(encoded), kind, 1, NO_STREAM, right, NO_STREAM, b"", 0, 0, 0, start, size,
    )  # fmt: skip


def xls_in_mini_stream(rows):
    """A small .xls whose Workbook stream lives in the compound file's mini stream,
    as some exporters write it (Excel and xlwt pad the stream to 4,096 bytes)."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    return compound_file({"Workbook": book.get_biff_data()})


def password_protected_xlsx():
    """What Excel saves for a workbook with a password to open: an OLE2 file holding
    EncryptionInfo and EncryptedPackage streams instead of a zip."""
    return compound_file(
        {"EncryptionInfo": b"\x04\x00\x04\x00" + bytes(200), "EncryptedPackage": bytes(5000)}
    )


def word_97_document():
    """An OLE2 file that is not a workbook (a Word 97 .doc)."""
    return compound_file({"WordDocument": bytes(5000), "1Table": bytes(600)})


def docx():
    """A Word document, which is a zip file like an xlsx."""
    return _zipped(
        {
            "[Content_Types].xml": (
                b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                b'<Override PartName="/word/document.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
            ),
            "word/document.xml": b"<document/>",
        }
    )


def ods():
    """An OpenDocument spreadsheet (WPS and LibreOffice can save one)."""
    return _zipped(
        {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}
    )


def pdf():
    """The start of a PDF, as printed from the roster."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(
        range(256)
    )


def zip_bomb(expanded_bytes=101 * 1024 * 1024):
    """A small zip that claims to be a workbook and expands past the reader's limit."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml", b"spreadsheetml.sheet.main+xml spreadsheetml.worksheet+xml"
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b" " * (1024 * 1024)
            for _ in range(expanded_bytes // len(block) + 1):
                member.write(block)
    return buffer.getvalue()


def many_members_zip(count=600):
    """A zip with far more parts than a workbook has."""
    return _zipped({f"xl/part{n}.xml": b"<x/>" for n in range(count)})
