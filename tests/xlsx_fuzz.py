"""Builders for generated malformed workbooks, shared by the importers' fuzz tests."""

import io
import zipfile

import openpyxl


def storable(value):
    """openpyxl refuses control characters in cells; a real file could not hold them."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch.isprintable())
    return value


def build_workbook(header, body):
    """An xlsx (bytes) with `header` and `body` rows on its only sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [header, *body]:
        sheet.append([storable(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build_zip(members):
    """A zip archive (bytes) of (name, data) members: an xlsx is one."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()
