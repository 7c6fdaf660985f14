"""明白纸 cards on the screens: the sheet's title, key points and a QR code to its page,
left out while the sheet is not live or not in force."""

import base64
import datetime
from unittest import mock

from django.core.exceptions import ValidationError
from django.utils import timezone

import pytest

from content.models import PublicityItem
from tests.learning.briefing_factories import make_sheet

from .factories import PlaylistEntryFactory, PublicityItemFactory, ScreenPlaylistFactory

pytestmark = pytest.mark.django_db


def playlist_url(screen):
    return f"/screens/{screen.token}/playlist.json"


def titles(client, screen):
    return [item["title"] for item in client.get(playlist_url(screen)).json()["items"]]


@pytest.fixture
def sheet(db):
    today = timezone.localdate()
    return make_sheet(
        "保密工作明白纸",
        points="涉密文件不得私自复制\n不得用微信传递涉密信息\n涉密计算机不得上网",
        valid_from=today - datetime.timedelta(days=1),
        valid_to=today + datetime.timedelta(days=1),
    )


@pytest.fixture
def card_screen(sheet):
    assignment = ScreenPlaylistFactory()
    card = PublicityItemFactory(kind="briefing", briefing=sheet, title="明白纸卡片", headline="")
    PlaylistEntryFactory(playlist=assignment.playlist, item=card)
    PlaylistEntryFactory(playlist=assignment.playlist, item__title="文字卡")
    return assignment.screen


def test_the_card_shows_the_points_and_a_qr_code_to_the_sheet(client, card_screen, sheet):
    card = client.get(playlist_url(card_screen)).json()["items"][0]
    assert card["kind"] == "briefing"
    assert card["headline"] == "保密工作明白纸"
    assert card["points"] == [
        "涉密文件不得私自复制",
        "不得用微信传递涉密信息",
        "涉密计算机不得上网",
    ]
    assert card["url"].endswith(sheet.url)
    prefix = "data:image/svg+xml;base64,"
    assert card["qr"].startswith(prefix)
    assert b"<svg" in base64.b64decode(card["qr"][len(prefix) :])
    assert card["label"] and card["scan"]


def test_an_unpublished_sheet_leaves_the_playlist_and_comes_back(client, card_screen, sheet):
    assert titles(client, card_screen) == ["明白纸卡片", "文字卡"]
    sheet.unpublish()
    assert titles(client, card_screen) == ["文字卡"]
    sheet.save_revision().publish()
    assert titles(client, card_screen) == ["明白纸卡片", "文字卡"]


@pytest.mark.parametrize("days", [-2, 2])
def test_a_sheet_out_of_force_leaves_the_playlist(client, card_screen, days):
    moment = timezone.now() + datetime.timedelta(days=days)
    with mock.patch("django.utils.timezone.now", lambda: moment):
        assert titles(client, card_screen) == ["文字卡"]


def test_a_briefing_card_needs_a_sheet():
    item = PublicityItem(title="卡片", kind=PublicityItem.Kind.BRIEFING)
    with pytest.raises(ValidationError) as error:
        item.clean()
    assert "briefing" in error.value.message_dict
