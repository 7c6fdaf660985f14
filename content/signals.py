"""Content's signal receivers, connected by ContentConfig.ready() (`connect`).

Any change to what screens show moves the schedule stamp, which invalidates every
cached playlist document in every app process at once; this process forgets its copy
of the stamp when it publishes a new one. After migrations, organizers are granted
the publicity items' publishing permissions."""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import post_delete, post_migrate, post_save

from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.snippets.models import create_extra_permissions

from learning import roles
from learning.models import LecturePage, Speaker

from . import screens
from .models import (
    Playlist,
    PlaylistEntry,
    PublicityItem,
    ScheduleStamp,
    Screen,
    ScreenPlaylist,
    stamp_published,
)


def bump_schedule_stamp(sender, **kwargs):
    if kwargs.get("raw"):
        return
    ScheduleStamp.bump()


def forget_stamp(sender, **kwargs):
    """Read the new stamp from the cache on this process's next poll."""
    screens.forget_stamp()


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
    # Lectures and speakers appear in lecture highlights; publishing and unpublishing
    # a lecture saves the page, so post_save covers them.
    for model in (
        LecturePage,
        Speaker,
        PublicityItem,
        Playlist,
        PlaylistEntry,
        Screen,
        ScreenPlaylist,
        get_image_model(),
        get_document_model(),
    ):
        post_save.connect(bump_schedule_stamp, sender=model, dispatch_uid=f"screens-{model}")
        post_delete.connect(bump_schedule_stamp, sender=model, dispatch_uid=f"screens-del-{model}")
    stamp_published.connect(forget_stamp, sender=ScheduleStamp, dispatch_uid="screens-stamp")
    post_migrate.connect(grant_publicity_publishing, sender=app_config)
