"""Whether a user may open the back office (the Wagtail admin), cheaply enough for
the navigation of every page.

Django answers `has_perm` with two queries (the user's own and their groups'
permissions) on every request; the navigation only needs one yes/no. The answer is
kept in the cache per user under a permissions version, and any change that could
alter it (a user's groups or permissions, a group's permissions, a deleted group or
permission) starts a new version, so a revoked permission is never answered from
the cache. Active and superuser flags come from the user loaded for the request,
so deactivating a user takes effect at once. The admin itself still checks
`has_perm` on every request (AdminAccessMiddleware, Wagtail's own checks)."""

import uuid

from django.core.cache import cache
from django.db import transaction

PERMISSION = "wagtailadmin.access_admin"
VERSION_KEY = "xuefa:permissions-version"
# A backstop only: changes are picked up at once through the version.
ANSWER_SECONDS = 600


def _version():
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(VERSION_KEY, version, None)
        version = cache.get(VERSION_KEY, version)
    return version


def can_open_back_office(user):
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    if hasattr(user, "_perm_cache"):
        # Already loaded for this request: no reason to ask the cache.
        return user.has_perm(PERMISSION)
    key = f"xuefa:back-office:{_version()}:{user.pk}"
    allowed = cache.get(key)
    if allowed is None:
        allowed = user.has_perm(PERMISSION)
        cache.set(key, allowed, ANSWER_SECONDS)
    return allowed


def permissions_changed(**kwargs):
    """Start a new permissions version now, and again once the transaction that made
    the change commits, so a request that read the old permissions in between cannot
    leave its answer under the new version."""

    def bump():
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)

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
