"""Sittings that earn (or do not earn) certificates, and reading a certificate PDF back:
its lines, its labelled values (wrapped values joined), its link and its QR code."""

import datetime
from io import BytesIO

from django.utils import translation

from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.graphics.barcode import qrencoder

from exams import attempts as engine
from exams.models import Attempt, QuestionType

from .factories import QuestionFactory

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def sit(session, official, right, now=None, submitted=None):
    """Start, answer the first `right` positions with their key, submit (10 points a
    question in the fixed papers of these tests). `now` and `submitted` place the
    sitting in time (the engine's clock)."""
    attempt = engine.start_attempt(session, official, now=now)
    later = None if now is None else now + datetime.timedelta(minutes=5)
    for answer in attempt.answers.filter(position__lte=right):
        engine.save_answer(attempt.pk, official, answer.position, answer.snapshot["answer"], later)
    engine.submit_attempt(attempt, now=submitted)
    return Attempt.objects.get(pk=attempt.pk)


def short_answer_question(topic):
    """A short-answer question, marked by a person (no score until it is)."""
    return QuestionFactory(
        type=QuestionType.SHORT_ANSWER,
        topic=topic,
        stem="简述行政处罚的种类。",
        option_a="",
        option_b="",
        option_c="",
        option_d="",
        answer="",
        rubric=[],
    )


def label(text):
    """A label as the zh-hans PDF prints it, whether or not it is translated yet."""
    with translation.override("zh-hans"):
        return translation.gettext(text)


def pdf_page(content):
    assert content.startswith(b"%PDF")
    reader = PdfReader(BytesIO(content))
    assert len(reader.pages) == 1
    return reader, reader.pages[0]


def pdf_lines(content):
    return pdf_page(content)[1].extract_text().splitlines()


def pdf_fields(content, labels, wrapped=()):
    """{label: value} of a certificate: the line after each label ("姓名："); for the
    labels in `wrapped` (a long title), every line up to the next label, joined."""
    lines = pdf_lines(content)
    fields = {}
    for index, line in enumerate(lines):
        name = line.removesuffix("：")
        if line.endswith("：") and name in labels:
            value = lines[index + 1]
            if name in wrapped:
                for more in lines[index + 2 :]:
                    if more.endswith("："):
                        break
                    value += more
            fields[name] = value
    return fields


def has_links_or_objects(content):
    """Whether the page carries annotations (links) or drawn objects (images, forms)."""
    _reader, page = pdf_page(content)
    resources = page.get("/Resources") or {}
    return "/Annots" in page or bool(resources.get("/XObject"))


def drawn_qr(content):
    """The QR code's modules as drawn on the page (rows of booleans), read from its
    filled squares (the page's only filled shapes: the frame is stroked)."""
    reader, page = pdf_page(content)
    operations = ContentStream(page.get_contents(), reader).operations
    rects = [
        [float(v) for v in operands]
        for (operands, op), (_next, follows) in zip(operations, operations[1:], strict=False)
        if op == b"re" and follows in (b"f", b"f*")
    ]
    assert rects, "no QR code"
    box = min(h for _x, _y, _w, h in rects)
    left = min(x for x, _y, _w, _h in rects)
    top = max(y + h for _x, y, _w, h in rects)
    size = round((top - min(y for _x, y, _w, _h in rects)) / box)
    grid = [[False] * size for _ in range(size)]
    for x, y, w, h in rects:
        row = round((top - y - h) / box)
        first = round((x - left) / box)
        for column in range(first, first + round(w / box)):
            grid[row][column] = True
    return grid


def qr_modules(text, level="M"):
    """The modules of a QR code of `text` as reportlab encodes it."""
    code = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    code.addData(text)
    code.make()
    return [[bool(module) for module in row] for row in code.modules]
