"""Serving lecture pages without Wagtail's walk down the page tree.

For /lectures/<series>/<lecture>/ Wagtail looks up the Site (a query with a
four-way CASE), the home page's specific page, the child with the first slug and its
specific page, and then asks the lecture index, which finds the lecture in one query
(LectureIndexPage.route). The home page routes like any Wagtail page, so the same
lecture is found directly by its url_path below the site's root: one query, the
same rule (live lectures only; anything not found takes Wagtail's usual route). The
Site itself is kept in the "pages" family per host name and port (a saved, moved or
deleted page or Site starts a new generation). The same query finds the signed-in
user's study state on the lecture. Wagtail's own checks (view restrictions,
before_serve_page hooks, the page's serve) still run on the page found: only the
lookup is shortened."""

from django.db import DEFAULT_DB_ALIAS, connection
from django.http.request import split_domain_port

from wagtail.models import Page, Site
from wagtail.url_routing import RouteResult

from ..models import LecturePage, Official, StudyRecord
from ..models.study import study_record_from_row
from . import keys, remember

FAMILY = "pages"


def _site_key(request):
    hostname = split_domain_port(request._get_raw_host())[0]
    return f"xuefa:fast:site:{hostname}:{request.get_port()}"


def site_keys(request):
    """The cache keys find_site reads, for read-ahead."""
    return keys(FAMILY, _site_key(request))


def find_site(request):
    """Site.find_for_request from the cache; it also sets what Wagtail keeps on the
    request, so Wagtail's own lookups in this request reuse it."""
    if hasattr(request, "_wagtail_site"):
        return request._wagtail_site
    site = remember(FAMILY, _site_key(request), lambda: Site._find_for_request(request))
    request._wagtail_site = site
    return site


def lecture_route(request, path):
    """A RouteResult for the live lecture at `path` below the request's site root,
    or None (then Wagtail routes as usual). The same query finds the signed-in
    user's study state there (LecturePage.study_state), which the page needs."""
    components = [component for component in path.split("/") if component]
    if len(components) < 2:  # the home page and the lecture index itself
        return None
    site = find_site(request)
    if site is None:
        return None
    user = request.user
    user_id = user.pk if user.is_authenticated else None
    row = _lecture_row(f"{site.root_page.url_path}{'/'.join(components)}/", user_id)
    if row is None:
        return None
    lecture = _lecture(row[: len(LECTURE_COLUMNS)])
    official_id, record_id, credited, completed = row[len(LECTURE_COLUMNS) :]
    record = None
    if record_id is not None:
        record = study_record_from_row(record_id, official_id, lecture.pk, credited, completed)
    lecture._study_state = (user_id, (official_id, record))
    return RouteResult(lecture)


# The page's columns the route reads: what Wagtail reads to serve the page and what
# the page shows outside its cached shell. Any other field loads on first use (one
# more query); a missing shell is rendered from the whole page, loaded once.
LECTURE_COLUMNS = (
    ("page", "id"),
    ("page", "path"),
    ("page", "depth"),
    ("page", "url_path"),
    ("page", "slug"),
    ("page", "title"),
    ("page", "content_type_id"),
    ("page", "locale_id"),
    ("page", "live_revision_id"),
    ("lecture", "credit_minutes"),
)


def _lecture_row(url_path, user_id):
    """The live lecture at `url_path` and the user's official id and study record
    there, in one statement. Plain SQL: the ORM spends several times longer building
    this than the database spends answering it, on every lecture page view."""
    tables = {"page": "p", "lecture": "l"}
    columns = ", ".join(f"{tables[table]}.{column}" for table, column in LECTURE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, o.id, r.id, r.credited_seconds, r.completed_at "  # noqa: S608
            f"FROM {Page._meta.db_table} p "
            f"JOIN {LecturePage._meta.db_table} l ON l.page_ptr_id = p.id "
            f"LEFT JOIN {Official._meta.db_table} o ON o.user_id = %s "
            f"LEFT JOIN {StudyRecord._meta.db_table} r "
            "ON r.official_id = o.id AND r.lecture_id = p.id "
            "WHERE p.url_path = %s AND p.live = %s",
            [user_id, url_path, True],
        )
        return cursor.fetchone()


def _lecture(values):
    """A LecturePage with the route's columns loaded and the others deferred."""
    found = dict(zip((column for _table, column in LECTURE_COLUMNS), values, strict=True))
    found["page_ptr_id"] = found["id"]
    found["live"] = True
    names = [f.attname for f in LecturePage._meta.concrete_fields if f.attname in found]
    return LecturePage.from_db(DEFAULT_DB_ALIAS, names, [found[name] for name in names])
