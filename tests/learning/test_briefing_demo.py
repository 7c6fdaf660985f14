"""The demo 保密明白纸: from the seed, for all staff, three check questions, a dozen
generated officials confirmed (the demo accounts not), a card in the default
playlist; loading the demo again changes nothing."""

import io

from django.core.management import call_command

import pytest

from content.models import Playlist, PublicityItem
from learning.briefings.models import BriefingReceipt, BriefingSheetPage
from learning.briefings.report import sheet_report
from learning.models.study import Audience
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(BriefingSheetPage.objects.values_list("pk", "title", "live")),
        list(BriefingReceipt.objects.order_by("pk").values_list("official_id", "correct")),
        list(PublicityItem.objects.filter(kind="briefing").values_list("pk", "briefing_id")),
        list(Playlist.objects.get(is_default=True).entries.values_list("item_id", "sort_order")),
    )


def test_the_demo_sheet_is_read_by_some_and_on_the_default_playlist():
    call_command("load_demo_data", stdout=io.StringIO())
    first = snapshot()
    call_command("load_demo_data", stdout=io.StringIO())
    assert snapshot() == first

    sheet = BriefingSheetPage.objects.get(slug="secrecy")
    assert sheet.live and sheet.audience == Audience.ALL and sheet.notified_at is not None
    assert "不得用微信" in sheet.points and sheet.questions.count() == 3
    readers = BriefingReceipt.objects.filter(sheet=sheet)
    assert readers.count() == 12
    assert not readers.filter(official__user__username__in=["official", "leader"]).exists()
    card = PublicityItem.objects.get(kind="briefing", briefing=sheet)
    assert card.live
    assert Playlist.objects.get(is_default=True).entries.filter(item=card).exists()
    totals = sheet_report(sheet, UserFactory(roles=["HR"])).totals
    assert totals.confirmed == 12 and 0 < totals.share < 100
