"""Whether any Wagtail view restriction exists at all, from the cache.

Before serving a page Wagtail looks up the view restrictions of the page and all its
ancestors (two queries). Study pages are signed-in only by their own rule
(SignedInPageMixin) and view restrictions are rare, so whether there is any
restriction anywhere is kept in the cache: while there is none, the lookup is
skipped; as soon as one exists, every page takes Wagtail's full check. Saving or
deleting a restriction (also when its page is deleted) drops the cached answer,
now and again when the transaction commits, so a new restriction is never missed."""

from django.core.cache import cache
from django.db import transaction

from . import read_ahead

KEY = "xuefa:any-view-restriction"
# A backstop only: changes drop the answer at once.
SECONDS = 600


def any_exist():
    from wagtail.models import PageViewRestriction

    answer = read_ahead.get(KEY)
    if answer is None:
        answer = PageViewRestriction.objects.exists()
        cache.set(KEY, answer, SECONDS)
    return answer


def restrictions_changed(**kwargs):
    def drop():
        cache.delete(KEY)
        read_ahead.forget(KEY)

    drop()
    transaction.on_commit(drop)


def connect_signals():
    from django.db.models.signals import post_delete, post_save

    from wagtail.models import PageViewRestriction

    for signal in (post_save, post_delete):
        signal.connect(
            restrictions_changed, sender=PageViewRestriction, dispatch_uid=f"vr-{signal}"
        )
