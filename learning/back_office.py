"""Whether a user may open the back office (the Wagtail admin), cheaply enough for
the navigation of every page.

Django answers `has_perm` with two queries (the user's own and their groups'
permissions) on every request; the navigation only needs one yes/no. The answer is
kept in the cache per user with the permissions version it was given under, and any
change that could alter it (a user's groups or permissions, a group's permissions, a
deleted group or permission) starts a new version, so a revoked permission is never
answered from the cache. Active and superuser flags come from the user loaded for the request,
so deactivating a user takes effect at once. The admin itself still checks
`has_perm` on every request (AdminAccessMiddleware, Wagtail's own checks)."""

import uuid

from django.core.cache import cache
from django.db import transaction

from . import read_ahead

PERMISSION = "wagtailadmin.access_admin"
VERSION_KEY = "xuefa:permissions-version"
# A backstop only: changes are picked up at once through the version.
ANSWER_SECONDS = 600


def cache_keys(user):
    """The cache keys can_open_back_office reads for a user: the permissions
    version and the user's answer (kept with the version it was given under)."""
    return [VERSION_KEY, f"xuefa:back-office:{user.pk}"]


def can_open_back_office(user):
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    if hasattr(user, "_perm_cache"):
        # Already loaded for this request: no reason to ask the cache.
        return user.has_perm(PERMISSION)
    version_key, key = cache_keys(user)
    found = read_ahead.get_many([version_key, key])
    version, entry = found.get(version_key), found.get(key)
    if version is not None and entry is not None and entry[0] == version:
        return entry[1]
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    allowed = _has_permission(user)
    if version is not None:
        cache.set(key, (version, allowed), ANSWER_SECONDS)
    return allowed


def _has_permission(user):
    """user.has_perm(PERMISSION) for an active user. Under Django's ModelBackend
    (which allauth's backend extends) that is one EXISTS query over the user's own
    and their groups' permissions, where has_perm would load every permission the
    user holds in two queries to look up one; any other backend is asked as usual."""
    from django.contrib.auth import get_backends
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    if not all(isinstance(backend, ModelBackend) for backend in get_backends()):
        return user.has_perm(PERMISSION)
    app_label, codename = PERMISSION.split(".")
    return (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )


def permissions_changed(**kwargs):
    """Start a new permissions version now, and again once the transaction that made
    the change commits, so a request that read the old permissions in between cannot
    leave its answer under the new version."""

    def bump():
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
        read_ahead.forget(VERSION_KEY)

    bump()
    transaction.on_commit(bump)


def connect_signals():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete

    User = get_user_model()
    for through in (
        User.groups.through,
        User.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(permissions_changed, sender=through, dispatch_uid=f"bo-{through}")
    for model in (Group, Permission):
        post_delete.connect(permissions_changed, sender=model, dispatch_uid=f"bo-del-{model}")
