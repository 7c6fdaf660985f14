"""Text in the PDFs the project writes (the study record, the certificate). reportlab
reads a Paragraph's text as markup: a title holding <a href> would put a live link
into the file, and <img src> would make reportlab open that path on the server. So
every Paragraph is built here, from text that is escaped first and never contributes
markup, and text drawn directly has its control characters removed.

The font is reportlab's built-in CID font STSong-Light, so no font file is shipped and
the text stays extractable."""

from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph

from learning.text import printable

FONT = "STSong-Light"
# reportlab writes the text as UTF-16 but names the UCS-2 CMap, which maps only the
# BMP: a name with a character beyond it (𠮷, 𡈼) would show as blanks. The UTF-16
# CMap reads the same bytes and maps those characters too.
ENCODING = "UniGB-UTF16-H"


def font():
    """The registered font's name."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        cid_font = UnicodeCIDFont(FONT)
        cid_font.encodingName = ENCODING
        pdfmetrics.registerFont(cid_font)
    return FONT


def text(value):
    """`value` as a line of text for the canvas (drawString takes no markup)."""
    return printable(value)


def paragraph(value, style):
    """A Paragraph showing `value` (any object, as its text) literally."""
    return Paragraph(escape(printable(value)), style)
