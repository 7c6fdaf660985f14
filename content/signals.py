"""Any change to what screens show moves the schedule stamp, which invalidates every
cached playlist document in every app process at once."""

from django.db.models.signals import post_delete, post_save

from wagtail.documents import get_document_model
from wagtail.images import get_image_model


def bump_schedule_stamp(sender, **kwargs):
    from .models import ScheduleStamp

    if kwargs.get("raw"):
        return
    ScheduleStamp.bump()


def connect():
    from learning.models import LecturePage, Speaker

    from .models import Playlist, PlaylistEntry, PublicityItem, Screen, ScreenPlaylist

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
