"""Text that people typed (names, titles, courts) made fit for outputs that cannot
carry every character: a PDF's text and an e-mail. Control characters show there as
boxes or act on a terminal (ESC), NUL is not allowed in a mail body, a lone surrogate
cannot be encoded at all, and a line or paragraph separator would break a line that
a single-line field never had."""

import re

# C0 and C1 controls and DEL, the line and paragraph separators, lone surrogates, and
# the noncharacters U+FFFE and U+FFFF. Characters beyond the BMP (𠮷) are text.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def _replacement(match):
    return " " if match.group().isspace() else ""


def printable(value):
    """`value` as one line of text: tabs, line breaks and separators as spaces, other
    control characters dropped. None is the empty string."""
    if value is None:
        return ""
    return _UNPRINTABLE.sub(_replacement, str(value))
