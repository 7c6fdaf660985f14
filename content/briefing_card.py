"""The demo's 明白纸 card (a publicity item of kind `briefing`) in the default
playlist, after the 保密明白纸 and the playlists exist. Idempotent by the sheet."""

from django.db.models import Max

from learning.briefings.demo import secrecy_sheet

from .models import Playlist, PlaylistEntry, PublicityItem

CARD_SECONDS = 20


def load_demo_card():
    """The card for the demo sheet, published and last in the default playlist."""
    sheet, _created = secrecy_sheet()
    item = PublicityItem.objects.filter(kind=PublicityItem.Kind.BRIEFING, briefing=sheet).first()
    made = 0
    if item is None:
        item = PublicityItem(
            title=sheet.title,
            kind=PublicityItem.Kind.BRIEFING,
            briefing=sheet,
            duration=CARD_SECONDS,
            live=False,
        )
        item.save()
        item.save_revision().publish()
        made += 1
    playlist = Playlist.objects.filter(is_default=True).first()
    if playlist is not None and not playlist.entries.filter(item=item).exists():
        last = playlist.entries.aggregate(n=Max("sort_order"))["n"]
        PlaylistEntry.objects.create(
            playlist=playlist, item=item, sort_order=0 if last is None else last + 1
        )
        made += 1
    return made
