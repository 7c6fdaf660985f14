"""Serving lecture pages without Wagtail's walk down the page tree.

For /lectures/<series>/<lecture>/ Wagtail looks up the Site (a query with a
four-way CASE), the home page's specific page, the child with the first slug and its
specific page, and then asks the lecture index, which finds the lecture in one query
(LectureIndexPage.route). The home page routes like any Wagtail page, so the same
lecture is found directly by its url_path below the site's root: one query, the
same rule (live lectures only; anything not found takes Wagtail's usual route). The
Site itself is kept in the cache per host name and port, dropped whenever a Site is
saved or deleted and whenever a page that is some site's root is saved or moved.
Wagtail's own checks (view restrictions, before_serve_page hooks, the page's serve)
still run on the page found: only the lookup is shortened."""

from django.core.cache import cache
from django.db import transaction
from django.http.request import split_domain_port

SITE_SECONDS = 600
SITES_VERSION_KEY = "xuefa:sites-version"


def _site_key(hostname, port):
    version = cache.get(SITES_VERSION_KEY)
    if version is None:
        cache.add(SITES_VERSION_KEY, 0, None)
        version = cache.get(SITES_VERSION_KEY, 0)
    return f"xuefa:site:{version}:{hostname}:{port}"


def find_site(request):
    """Site.find_for_request from the cache; it also sets what Wagtail keeps on the
    request, so Wagtail's own lookups in this request reuse it."""
    from wagtail.models import Site

    if hasattr(request, "_wagtail_site"):
        return request._wagtail_site
    hostname = split_domain_port(request._get_raw_host())[0]
    key = _site_key(hostname, request.get_port())
    site = cache.get(key)
    if site is None:
        site = Site._find_for_request(request)
        if site is not None:
            cache.set(key, site, SITE_SECONDS)
    request._wagtail_site = site
    return site


def sites_changed(**kwargs):
    """Forget every cached Site, now and when the change commits."""

    def bump():
        try:
            cache.incr(SITES_VERSION_KEY)
        except ValueError:
            cache.set(SITES_VERSION_KEY, 1, None)

    bump()
    transaction.on_commit(bump)


def _page_saved(sender, instance, **kwargs):
    from wagtail.models import Page, Site

    if isinstance(instance, Page) and Site.objects.filter(root_page_id=instance.pk).exists():
        sites_changed()


def lecture_route(request, path):
    """A RouteResult for the live lecture at `path` below the request's site root,
    or None (then Wagtail routes as usual)."""
    from wagtail.url_routing import RouteResult

    from .models import LecturePage

    components = [component for component in path.split("/") if component]
    if len(components) < 2:  # the home page and the lecture index itself
        return None
    site = find_site(request)
    if site is None:
        return None
    # Only the columns the page shows outside its cached fragments, and what Wagtail
    # reads to serve it: building the SELECT of all thirty-odd page columns costs more
    # CPU than running it. Any other field loads on first use (one more query).
    lecture = next(
        iter(
            LecturePage.objects.live()
            .filter(url_path=f"{site.root_page.url_path}{'/'.join(components)}/")
            .only(*LECTURE_FIELDS)
            .order_by()[:1]
        ),
        None,
    )
    return None if lecture is None else RouteResult(lecture)


LECTURE_FIELDS = (
    "path",
    "depth",
    "url_path",
    "slug",
    "title",
    "seo_title",
    "live",
    "content_type_id",
    "locale_id",
    "last_published_at",
    "date",
    "credit_minutes",
    "video_minutes",
)


def connect_signals():
    from django.db.models.signals import post_delete, post_save

    from wagtail.models import Site
    from wagtail.signals import post_page_move

    for signal in (post_save, post_delete):
        signal.connect(sites_changed, sender=Site, dispatch_uid=f"sites-{signal}")
    post_save.connect(_page_saved, dispatch_uid="sites-root-page-saved")
    post_page_move.connect(sites_changed, dispatch_uid="sites-page-moved")
