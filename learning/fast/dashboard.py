"""The official's dashboard panels rendered once and kept per official.

The dashboard (`/`) is the page every official opens first. Its panels (profile,
the year's study and what it still requires, exams, court observations) cost tens
of queries and milliseconds to compute, and change only when something is recorded:
credit, an attempt or its result, attendance, a plan, an exam session, a page.

So the panels' HTML is kept in the cache per official, language and template
version, and used while three generations are current (learning.fast's one idiom):
- "pages": any page published, moved or changed (lecture titles and addresses);
- "dashboard": anything the panels show that is shared (plans and what they
  require, exam sessions, court observations, departments, quizzes), bumped by the
  apps' `register_fast_path_invalidations` hooks and by their bulk writes;
- `person_family(user_id)`: what is this official's own (credit, collective-study
  attendance, attempts and results, observation attendance and reflections, quiz
  attempts, exemptions, profile), bumped by signals and, where a service writes with
  `update()`, by `touch(official_id)` in that service. Keyed by the user, whom the
  request knows without a query.

Time changes what the panels say too (an exam opens at nine): each panel reports the
next moment its content changes by the clock alone (`DashboardPanel.changes_at`),
and the kept HTML is used only before the earliest of them. Panels must hold nothing
per request (no CSRF token, no messages): they are links and figures.
"""

import datetime

from django.utils import timezone, translation
from django.utils.safestring import SafeString

from . import bump, enabled, keys, remember
from .shells import fingerprint

SHARED_FAMILY = "dashboard"
# A backstop only: a change starts a new generation at once.
SECONDS = 600


def person_family(user_id):
    return f"person:{user_id}"


def user_id_of(official_id):
    """The user of an official (a write path asks; none of the reads)."""
    from ..models import Official

    return Official.objects.filter(pk=official_id).values_list("user_id", flat=True).first()


def touch(official_id, user_id=None):
    """Something of this official's that the dashboard shows changed (`user_id`, when
    the caller has it, spares looking it up)."""
    user_id = user_id or user_id_of(official_id)
    if user_id is not None:
        bump(person_family(user_id))


def touch_everyone():
    """Something shown on many officials' dashboards changed (a bulk write)."""
    bump(SHARED_FAMILY)


def family_of_official(instance):
    """For Invalidation: the family of the official a changed row belongs to (a row
    with `official_id`, or an Official itself). The official the row was made with,
    when it is at hand, spares the query for their user."""
    official_id = getattr(instance, "official_id", None)
    if official_id is None and instance.__class__.__name__ == "Official":
        return person_family(instance.user_id)
    if official_id is None:
        return None
    descriptor = getattr(type(instance), "official", None)
    if descriptor is not None and descriptor.is_cached(instance):
        return person_family(instance.official.user_id)
    user_id = user_id_of(official_id)
    return person_family(user_id) if user_id is not None else None


def family_of_user(instance):
    """For Invalidation: the family of a changed user (their name)."""
    return person_family(instance.pk)


def cache_key(user_id):
    language = translation.get_language() or ""
    zone = timezone.get_current_timezone_name()
    return f"xuefa:fast:dashboard:{user_id}:{language}:{zone}:{fingerprint()}"


def families(user_id):
    return ("pages", SHARED_FAMILY, person_family(user_id))


def prefetch_keys(user_id):
    """The cache keys `panels_html` reads, for read_ahead.prefetch."""
    return keys(families(user_id), cache_key(user_id))


def panels_html(user_id, render):
    """The panels' HTML for this user: kept, or `render()` -> (html, changes_at),
    where `changes_at` (aware datetime or None) is when the clock alone changes it."""
    if not enabled():
        return render()[0]

    def compute():
        html, changes_at = render()
        return (str(html), changes_at.timestamp() if changes_at else None)

    def still_true(value):
        changes_at = value[1]
        return changes_at is None or timezone.now().timestamp() < changes_at

    html = remember(families(user_id), cache_key(user_id), compute, SECONDS, valid=still_true)[0]
    # Kept as the panels' own rendered (escaped) output.
    return SafeString(html)


def next_local_midnight(now=None):
    """The next midnight in the current time zone (the year and "today" change)."""
    local = timezone.localtime(now)
    tomorrow = local.date() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))
