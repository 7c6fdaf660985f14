"""Serving lecture pages without Wagtail's walk down the page tree.

For /lectures/<series>/<lecture>/ Wagtail looks up the Site (a query with a
four-way CASE), the home page's specific page, the child with the first slug and its
specific page, and then asks the lecture index, which finds the lecture in one query
(LectureIndexPage.route). The home page routes like any Wagtail page, so the same
lecture is found directly by its url_path below the site's root: one query, the
same rule (live lectures only; anything not found takes Wagtail's usual route). The
Site itself is kept in the cache per host name and port, dropped whenever a Site is
saved or deleted and whenever a page that is some site's root is saved or moved.
The same query finds the signed-in user's study state on the lecture.
Wagtail's own checks (view restrictions, before_serve_page hooks, the page's serve)
still run on the page found: only the lookup is shortened."""

import uuid

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.http.request import split_domain_port

from . import read_ahead

SITE_SECONDS = 600
SITES_VERSION_KEY = "xuefa:sites-version"


def site_keys(request):
    """The cache keys find_site reads: the sites version and this host's Site."""
    hostname = split_domain_port(request._get_raw_host())[0]
    return [SITES_VERSION_KEY, f"xuefa:site:{hostname}:{request.get_port()}"]


def find_site(request):
    """Site.find_for_request from the cache; it also sets what Wagtail keeps on the
    request, so Wagtail's own lookups in this request reuse it. The cached Site is
    kept with the sites version it was found under and used only under that one."""
    from wagtail.models import Site

    if hasattr(request, "_wagtail_site"):
        return request._wagtail_site
    version_key, key = site_keys(request)
    found = read_ahead.get_many([version_key, key])
    version, entry = found.get(version_key), found.get(key)
    if version is not None and entry is not None and entry[0] == version:
        site = entry[1]
    else:
        if version is None:
            cache.add(SITES_VERSION_KEY, uuid.uuid4().hex, None)
            version = cache.get(SITES_VERSION_KEY)
        site = Site._find_for_request(request)
        if site is not None and version is not None:
            cache.set(key, (version, site), SITE_SECONDS)
    request._wagtail_site = site
    return site


def sites_changed(**kwargs):
    """Forget every cached Site, now and when the change commits."""

    def bump():
        cache.set(SITES_VERSION_KEY, uuid.uuid4().hex, None)
        read_ahead.forget(SITES_VERSION_KEY)

    bump()
    transaction.on_commit(bump)


def _page_saved(sender, instance, **kwargs):
    from wagtail.models import Page, Site

    if isinstance(instance, Page) and Site.objects.filter(root_page_id=instance.pk).exists():
        sites_changed()


def lecture_route(request, path):
    """A RouteResult for the live lecture at `path` below the request's site root,
    or None (then Wagtail routes as usual). The same query finds the signed-in
    user's study state there (LecturePage.study_state), which the page needs."""
    from wagtail.url_routing import RouteResult

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
        record = _study_record(record_id, official_id, lecture.pk, credited, completed)
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
    from django.db import connection

    from wagtail.models import Page

    from .models import LecturePage, Official, StudyRecord

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
    from .models import LecturePage

    found = dict(zip((column for _table, column in LECTURE_COLUMNS), values, strict=True))
    found["page_ptr_id"] = found["id"]
    found["live"] = True
    names = [f.attname for f in LecturePage._meta.concrete_fields if f.attname in found]
    return LecturePage.from_db(DEFAULT_DB_ALIAS, names, [found[name] for name in names])


def _study_record(record_id, official_id, lecture_id, credited, completed):
    from django.db import connection
    from django.utils import timezone

    from .models import StudyRecord

    if completed is not None and (isinstance(completed, str) or timezone.is_naive(completed)):
        completed = connection.ops.convert_datetimefield_value(completed, None, connection)
    return StudyRecord(
        pk=record_id,
        official_id=official_id,
        lecture_id=lecture_id,
        credited_seconds=credited,
        completed_at=completed,
    )


def connect_signals():
    from django.db.models.signals import post_delete, post_save

    from wagtail.models import Site
    from wagtail.signals import post_page_move

    for signal in (post_save, post_delete):
        signal.connect(sites_changed, sender=Site, dispatch_uid=f"sites-{signal}")
    post_save.connect(_page_saved, dispatch_uid="sites-root-page-saved")
    post_page_move.connect(sites_changed, dispatch_uid="sites-page-moved")
