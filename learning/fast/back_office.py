"""Whether a user may open the back office (the Wagtail admin), cheaply enough for
the navigation of every page.

Django answers `has_perm` with two queries (the user's own and their groups'
permissions) on every request; the navigation only needs one yes/no. The answer is
kept per user in the "permissions" family, which any change that could alter it
starts anew (a user's groups or permissions, a group's permissions, a deleted group
or permission), so a revoked permission is never answered from the cache. Active and
superuser flags come from the user loaded for the request, so deactivating a user
takes effect at once. The admin itself still checks `has_perm` on every request
(AdminAccessMiddleware, Wagtail's own checks)."""

from django.contrib.auth import get_backends
from django.contrib.auth.models import Permission
from django.db.models import Q

from . import enabled, keys, remember

FAMILY = "permissions"
PERMISSION = "wagtailadmin.access_admin"


def _key(user):
    return f"xuefa:fast:back-office:{user.pk}"


def cache_keys(user):
    """The cache keys can_open_back_office reads for a user, for read-ahead."""
    return keys(FAMILY, _key(user))


def can_open_back_office(user):
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    if not enabled() or hasattr(user, "_perm_cache"):
        # Plain Django, or already loaded for this request.
        return user.has_perm(PERMISSION)
    # Kept as a 1-tuple: remember() keeps no None, and False must be kept too.
    return remember(FAMILY, _key(user), lambda: (_has_permission(user),))[0]


def _has_permission(user):
    """user.has_perm(PERMISSION) for an active user. Under Django's ModelBackend
    (which allauth's backend extends) that is one EXISTS query over the user's own
    and their groups' permissions, where has_perm would load every permission the
    user holds in two queries to look up one; any other backend is asked as usual."""
    # Not at the top: auth's backends load the user model, and lecture pages (in the
    # same app's models) import this module through the shells.
    from django.contrib.auth.backends import ModelBackend

    if not all(isinstance(backend, ModelBackend) for backend in get_backends()):
        return user.has_perm(PERMISSION)
    app_label, codename = PERMISSION.split(".")
    return (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )
