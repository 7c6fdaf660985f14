"""The anti-cheating switches in Chromium, each as an official meets it: leaving the
page is counted and warned about until the server submits; copy, paste, selection
and the context menu are blocked; full screen is asked for and leaving it counts;
entry closes after the cut-off; a second browser takes the attempt over and the
first is locked, with no saved answer lost."""

import datetime

from django.utils import timezone

import pytest

from exams.models import Attempt, AttemptState, DeviceRule
from tests.factories import DEFAULT_PASSWORD

from .conftest import choose, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

HIDE = """() => {
    Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
    Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new Event("focus"));
}"""


def start(page, live_server, exam):
    sign_in(page, live_server, "sitter", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/exams/{exam.pk}/")
    page.get_by_role("button", name="开始考试").click()
    page.wait_for_selector("#attempt-form")
    return Attempt.objects.get(session=exam, state=AttemptState.IN_PROGRESS)


def wait_until_recorded(page, queryset):
    """Wait up to 10 s for a background report to reach the database."""
    for _ in range(100):
        if queryset.exists():
            return
        page.wait_for_timeout(100)


def saved(page, position, letter):
    choose(page, position, letter)
    page.locator(f"#q-{position} .save-state.saved").wait_for()


def test_leaving_the_page_is_warned_and_the_server_submits_at_the_limit(page, live_server, sitting):
    _official, exam = sitting
    exam.count_leaving, exam.leave_limit = True, 2
    exam.save()
    attempt = start(page, live_server, exam)
    assert "离开本页" in page.locator(".integrity-rules").inner_text()
    saved(page, 1, "A")

    page.evaluate(HIDE)
    notice = page.locator("#integrity-notice")
    notice.wait_for(state="visible")
    assert "1" in notice.inner_text() and "2" in notice.inner_text()
    page.evaluate(SHOW)
    # The departure is reported in the background: wait for the server to record it.
    wait_until_recorded(page, Attempt.objects.filter(pk=attempt.pk, departures=1))
    attempt.refresh_from_db()
    assert attempt.departures == 1 and attempt.state == AttemptState.IN_PROGRESS

    # Later (past the server's few seconds that make one departure), away again.
    Attempt.objects.filter(pk=attempt.pk).update(
        last_departure_at=timezone.now() - datetime.timedelta(seconds=10)
    )
    page.evaluate(HIDE)
    page.wait_for_url("**/result/")
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED and attempt.departures == 2
    assert attempt.answers.get(position=1).response != ""
    assert list(attempt.integrity_events.values_list("kind", flat=True)) == [
        "left_page",
        "left_page",
        "auto_submitted",
    ]


def test_copy_paste_selection_and_the_context_menu_are_blocked(page, live_server, sitting):
    _official, exam = sitting
    exam.block_copy = True
    exam.save()
    attempt = start(page, live_server, exam)
    stem = "#q-1 .stem"
    assert page.eval_on_selector(stem, "el => getComputedStyle(el).userSelect") == "none"
    for kind in ("copy", "paste", "cut", "contextmenu", "selectstart"):
        prevented = page.eval_on_selector(
            stem,
            """(el, kind) => {
                const event = new Event(kind, {bubbles: true, cancelable: true});
                el.dispatchEvent(event);
                return event.defaultPrevented;
            }""",
            kind,
        )
        assert prevented, kind
    page.click(stem, click_count=3)
    page.keyboard.press("Control+A")
    assert page.evaluate("window.getSelection().toString()") == ""
    page.locator("#integrity-notice").wait_for(state="visible")
    assert "复制" in page.locator("#integrity-notice").inner_text()
    logged = attempt.integrity_events.filter(kind="copy_blocked")
    wait_until_recorded(page, logged)  # the report is a background request
    assert logged.count() == 1
    # Answering still works.
    saved(page, 1, "A")


def test_full_screen_is_asked_for_and_leaving_it_counts(page, live_server, sitting):
    _official, exam = sitting
    exam.require_fullscreen, exam.leave_limit = True, 3
    exam.save()
    attempt = start(page, live_server, exam)
    gate = page.locator("#fullscreen-gate")
    gate.wait_for(state="visible")
    page.get_by_role("button", name="全屏继续").click()
    page.wait_for_function("() => document.fullscreenElement !== null")
    assert gate.is_hidden()
    saved(page, 1, "A")

    page.evaluate("() => document.exitFullscreen()")
    gate.wait_for(state="visible")
    page.locator("#integrity-notice").wait_for(state="visible")
    attempt.refresh_from_db()
    assert attempt.departures == 1
    assert list(attempt.integrity_events.values_list("kind", flat=True)) == ["left_fullscreen"]
    page.get_by_role("button", name="全屏继续").click()
    page.wait_for_function("() => document.fullscreenElement !== null")
    saved(page, 2, "A")


def test_entry_closes_after_the_cut_off(page, live_server, sitting):
    _official, exam = sitting
    exam.opens_at = timezone.now() - datetime.timedelta(minutes=45)
    exam.entry_cutoff_minutes = 30
    exam.save()
    sign_in(page, live_server, "sitter", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/exams/{exam.pk}/")
    start_button = page.get_by_role("button", name="开始考试")
    if start_button.count():
        start_button.click()
    assert "30" in page.locator("main").inner_text()
    assert "入场" in page.locator("main").inner_text()
    assert not Attempt.objects.filter(session=exam).exists()


def test_a_second_browser_takes_over_and_the_first_is_locked(browser, live_server, sitting):
    _official, exam = sitting
    exam.device_rule = DeviceRule.TAKE_OVER
    exam.save()
    options = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
    laptop = browser.new_context(**options).new_page()
    attempt = start(laptop, live_server, exam)
    saved(laptop, 1, "B")

    phone = browser.new_context(**options).new_page()
    sign_in(phone, live_server, "sitter", DEFAULT_PASSWORD)
    phone.wait_for_url(f"{live_server.url}/")
    phone.goto(f"{live_server.url}/exams/{exam.pk}/attempts/{attempt.pk}/")
    assert "另一个浏览器" in phone.locator("main").inner_text()
    phone.get_by_role("button", name="在此设备继续").click()
    phone.wait_for_selector("#attempt-form")
    assert phone.locator("#q-1 input[value='B']").is_checked()
    saved(phone, 2, "A")

    # The laptop's next save is refused: it says so and stops.
    choose(laptop, 3, "A")
    laptop.locator("#save-warning").wait_for(state="visible")
    assert "另一个浏览器" in laptop.locator("#save-warning").inner_text()
    laptop.wait_for_selector("form[action$='/take-over/']")
    attempt.refresh_from_db()
    assert attempt.answers.get(position=3).response == ""
    assert attempt.answers.get(position=1).response != ""
    assert attempt.answers.get(position=2).response != ""
    laptop.context.close()
    phone.context.close()
