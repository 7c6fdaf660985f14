"""Content's signal receivers, connected by ContentConfig.ready() (`connect`): after
migrations, organizers are granted the publicity items' publishing permissions. (What
moves the screens' schedule stamp is registered in wagtail_hooks.py, as a fast-path
invalidation.)"""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import post_migrate

from wagtail.snippets.models import create_extra_permissions

from learning import roles


def grant_publicity_publishing(app_config, using="default", **kwargs):
    """Organizers publish, lock and unlock publicity items.

    Wagtail creates those snippet permissions in a post_migrate handler of its own
    that runs after the role sync (learning comes first in INSTALLED_APPS), so they
    cannot be declared through register_role_permissions: they are created here,
    idempotently, and granted to the organizer role."""
    create_extra_permissions(app_config, using=using)
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="content",
        codename__in=["publish_publicityitem", "lock_publicityitem", "unlock_publicityitem"],
    )
    group, _ = Group.objects.using(using).get_or_create(name=roles.ORGANIZER)
    group.permissions.add(*permissions)


def connect(app_config):
    post_migrate.connect(grant_publicity_publishing, sender=app_config)
