"""The lecture page's study clock (issue #20): time as mm:ss, the figure study.js
ticks on from and resyncs to the server's on every heartbeat."""

from django import template

register = template.Library()


@register.filter
def clock(seconds):
    """Seconds as minutes:seconds ("07:05", "95:00"), the minutes not wrapped into
    hours: a lecture's required time reads the same way. Anything else reads 00:00."""
    try:
        seconds = max(0, int(seconds or 0))
    except (TypeError, ValueError):
        seconds = 0
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes:02d}:{seconds:02d}"
