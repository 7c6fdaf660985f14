"""明白纸 end to end: the demo official opens the 保密明白纸 from the dashboard on a
phone, answers its check questions (one wrong), confirms 已读, sees the right answers,
and the dashboard no longer lists it; and its card on a lobby screen at 1920×1080.
With XUEFA_SHOTS_DIR set, both are photographed there."""

import os
from pathlib import Path

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = os.environ.get("XUEFA_SHOTS_DIR")


def shoot(page, name, full_page=True):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=full_page)


def test_official_confirms_the_secrecy_sheet_on_a_phone(page, live_server, demo_data):
    from learning.briefings.models import BriefingReceipt, BriefingSheetPage

    sheet = BriefingSheetPage.objects.get(slug="secrecy")
    questions = list(sheet.questions.order_by("sort_order"))
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")
    page.locator(f"#briefing-panel a[data-briefing='{sheet.pk}']").click()
    page.wait_for_selector("#briefing-form")
    for n, question in enumerate(questions):
        letter = question.correct
        if n == 0:
            letter = next(x for x, _text in question.options if x != question.correct)
        page.locator(f"input[name='q{question.pk}'][value='{letter}']").check()
    page.locator("#confirm-read").click()
    page.wait_for_selector("#answers")
    assert page.locator("#answers .is-wrong").count() == 1
    assert page.locator("#answers .is-right").count() == len(questions) - 1
    assert questions[0].explanation in page.locator("#answers").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shoot(page, "briefing-phone.png")

    page.locator("#back-to-dashboard").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(f"a[data-briefing='{sheet.pk}']").count() == 0
    receipt = BriefingReceipt.objects.get(sheet=sheet, official__user__username="official")
    assert receipt.correct == len(questions) - 1


def test_the_sheet_card_on_a_lobby_screen(page, live_server, demo_data, settings):
    from content.models import PublicityItem
    from tests.content.factories import (
        PlaylistEntryFactory,
        ScreenFactory,
        ScreenPlaylistFactory,
    )

    settings.XUEFA_SCREEN_POLL_SECONDS = 1
    card = PublicityItem.objects.get(kind=PublicityItem.Kind.BRIEFING)
    assignment = ScreenPlaylistFactory(screen=ScreenFactory(name="明白纸屏"))
    PlaylistEntryFactory(playlist=assignment.playlist, item=card, duration=60)
    page.set_viewport_size({"width": 1920, "height": 1080})
    try:
        page.goto(f"{live_server.url}{assignment.screen.get_player_url()}")
        slide = page.locator(".slide.is-shown .slide-briefing")
        slide.wait_for(timeout=15000)
        assert "保密工作明白纸" in slide.inner_text()
        assert "不得用微信" in slide.inner_text()
        page.wait_for_function(
            "document.querySelector('.slide.is-shown .slide-briefing img').naturalWidth > 0"
        )
        assert "/briefings/secrecy/" in slide.locator("figcaption").inner_text()
        shoot(page, "briefing-screen.png", full_page=False)
    finally:
        page.goto("about:blank")
