"""Server-side SVG charts for reports: no JavaScript, crisp on screen and on paper,
and the numbers are written beside the bars so a grey-scale print still reads."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

BAR_HEIGHT = 22
LABEL_WIDTH = 220
BAR_WIDTH = 360
VALUE_WIDTH = 70
COLOUR = "#b5221b"
TRACK = "#eee"


def _text(value, limit=16):
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def horizontal_bars(rows, *, title):
    """rows: [(label, share between 0 and 1 or None)]. A bar per row, with the share
    as a percentage at its end ("—" when there is none)."""
    height = BAR_HEIGHT * len(rows) + 8
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    bars = []
    for index, (label, share) in enumerate(rows):
        y = 4 + index * BAR_HEIGHT
        filled = 0 if share is None else round(BAR_WIDTH * max(0, min(1, share)))
        value = "—" if share is None else f"{100 * share:.1f}%"
        bars.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
                '<text x="{}" y="{}">{}</text>',
                LABEL_WIDTH - 8,
                y + 15,
                _text(label),
                LABEL_WIDTH,
                y + 3,
                BAR_WIDTH,
                BAR_HEIGHT - 6,
                TRACK,
                LABEL_WIDTH,
                y + 3,
                filled,
                BAR_HEIGHT - 6,
                COLOUR,
                LABEL_WIDTH + BAR_WIDTH + 6,
                y + 15,
                value,
            )
        )
    return _svg(width, height, title, mark_safe("".join(bars)))  # noqa: S308 (escaped above)


def histogram(bins, *, title):
    """bins: [(label, count)]. Vertical columns with the count above each."""
    column, gap, chart_height, label_height = 44, 8, 160, 36
    width = len(bins) * (column + gap) + gap
    height = chart_height + label_height
    top = max((count for _label, count in bins), default=0) or 1
    columns = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (
                gap + i * (column + gap),
                chart_height - round((chart_height - 20) * count / top),
                column,
                round((chart_height - 20) * count / top),
                COLOUR,
                gap + i * (column + gap) + column // 2,
                chart_height - round((chart_height - 20) * count / top) - 4,
                count,
                gap + i * (column + gap) + column // 2,
                chart_height + 18,
                label,
            )
            for i, (label, count) in enumerate(bins)
        ),
    )
    baseline = format_html(
        '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="#333"/>', chart_height, width, chart_height
    )
    return _svg(width, height, title, columns + baseline)


def _svg(width, height, title, body):
    return format_html(
        '<svg class="report-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'viewBox="0 0 {} {}" width="{}" height="{}" font-size="12" '
        'font-family="sans-serif"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        title,
        body,
    )
