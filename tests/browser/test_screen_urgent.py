"""The screen player in Chromium with the office's extras: an urgent notice covers
the playlist within one poll and leaves when ended; the ticker scrolls along the
bottom (still and one text at a time for reduced motion); the data screen fills
1920×1080."""

from datetime import timedelta

from django.utils import timezone

import pytest

from content import urgent
from content.models import PublicityItem
from tests.content.factories import (
    PlaylistEntryFactory,
    PublicityItemFactory,
    ScreenFactory,
    ScreenPlaylistFactory,
)
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

POLL_SECONDS = 2
TICKER = ["职能科学、权责法定、执法严明", "公开公正、廉洁高效、守法诚信"]


@pytest.fixture
def screen(settings):
    settings.XUEFA_SCREEN_POLL_SECONDS = POLL_SECONDS
    screen = ScreenFactory(name="大厅")
    assignment = ScreenPlaylistFactory(screen=screen, playlist__ticker="\n".join(TICKER))
    for title in ("宪法卡片", "民法典卡片"):
        item = PublicityItemFactory(title=title, headline=title, points="要点一\n要点二")
        PlaylistEntryFactory(playlist=assignment.playlist, item=item, duration=3)
    data = PublicityItemFactory(
        title="学法数据大屏", kind=PublicityItem.Kind.DATA_SCREEN, headline="", points=""
    )
    PlaylistEntryFactory(playlist=assignment.playlist, item=data, duration=3)
    return screen


def test_an_urgent_notice_takes_over_within_one_poll_over_the_ticker(page, live_server, screen):
    organizer = UserFactory(roles=["Organizer"])
    page.set_viewport_size({"width": 1920, "height": 1080})
    try:
        page.goto(f"{live_server.url}{screen.get_player_url()}")
        page.locator(".slide.is-shown[data-title]").wait_for(timeout=15000)
        ticker = page.locator("#ticker")
        ticker.wait_for(state="visible", timeout=5000)
        texts = ticker.locator(".ticker-group").first.locator(".ticker-line").all_inner_texts()
        assert texts == TICKER
        assert page.evaluate("document.documentElement.dataset.ticker") == "moving"
        assert page.locator("#notice").is_hidden()

        notice = urgent.start_notice(
            user=organizer,
            title="紧急通知",
            text="今天下午三点停电，<b>请保存工作</b>。",
            ends_at=timezone.now() + timedelta(hours=1),
        )
        # Within one poll interval (and a second for the stamp to be read).
        box = page.locator("#notice")
        box.wait_for(state="visible", timeout=(POLL_SECONDS + 2) * 1000)
        assert "紧急通知" in box.inner_text()
        assert "<b>请保存工作</b>" in box.locator(".notice-text").inner_text()  # text, not markup
        assert page.locator("#notice b").count() == 0
        covered = page.evaluate(
            "(() => { const r = document.getElementById('notice').getBoundingClientRect();"
            " return [r.width, r.height]; })()"
        )
        assert covered == [1920, 1080]

        urgent.end_notice(notice, user=organizer)
        box.wait_for(state="hidden", timeout=(POLL_SECONDS + 2) * 1000)
        # The playlist went on underneath all along.
        page.locator(".slide.is-shown[data-title]").wait_for(timeout=5000)
    finally:
        page.goto("about:blank")


def test_the_data_screen_fills_the_screen(page, live_server, screen):
    page.set_viewport_size({"width": 1920, "height": 1080})
    try:
        page.goto(f"{live_server.url}{screen.get_player_url()}")
        slide = page.locator(".slide.is-shown .slide-data")
        slide.wait_for(timeout=20000)
        assert slide.locator("[data-panel]").count() == 4
        assert slide.locator("[data-panel=studying] strong").inner_text() == "0"
        assert page.evaluate("document.documentElement.scrollWidth") <= 1920
        box = slide.bounding_box()
        assert box["width"] == 1920 and box["height"] < 1080  # the ticker keeps its line
    finally:
        page.goto("about:blank")


def test_the_ticker_stands_still_for_reduced_motion(page, live_server, screen):
    page.emulate_media(reduced_motion="reduce")
    try:
        page.goto(f"{live_server.url}{screen.get_player_url()}")
        page.locator("#ticker").wait_for(state="visible", timeout=15000)
        assert page.evaluate("document.documentElement.dataset.ticker") == "still"
        line = page.locator("#ticker .ticker-line")
        assert line.count() == 1 and line.inner_text() == TICKER[0]
        animation = page.evaluate(
            "getComputedStyle(document.querySelector('#ticker .ticker-track')).animationName"
        )
        assert animation == "none"
        page.wait_for_function(
            f"() => document.querySelector('#ticker .ticker-line').textContent === {TICKER[1]!r}",
            timeout=10000,
        )
    finally:
        page.goto("about:blank")
