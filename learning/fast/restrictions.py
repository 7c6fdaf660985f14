"""Whether any Wagtail view restriction exists at all.

Before serving a page Wagtail looks up the view restrictions of the page and all its
ancestors (two queries). Study pages are signed-in only by their own rule
(SignedInPageMixin) and view restrictions are rare, so whether there is any
restriction anywhere is kept in the "pages" family (saving or deleting a restriction
starts a new generation): while there is none the lookup is skipped, and as soon as
one exists every page takes Wagtail's full check."""

from wagtail.models import PageViewRestriction

from . import remember

FAMILY = "pages"
KEY = "xuefa:fast:any-view-restriction"


def any_exist():
    """True when some view restriction may exist (always, with the fast paths off)."""
    return remember(FAMILY, KEY, lambda: PageViewRestriction.objects.exists())
