"""The lecture page shows study progress live (issue #20): the mm:ss clock ticks
every second while the page is visible, each heartbeat's answer puts it back on the
server's figure, and it stands still while the page is hidden (the server would not
count that time)."""

import time

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LECTURE = "/lectures/administrative-licensing-law/"
CLOCK = "[data-study-clock]"


def seconds_shown(page):
    minutes, seconds = page.locator(CLOCK).inner_text().split(":")
    return int(minutes) * 60 + int(seconds)


def is_beat(response):
    request = response.request
    return "/heartbeat/" in response.url and "event=beat" in (request.post_data or "")


def test_the_clock_ticks_and_follows_the_server(page, live_server, demo_data, settings):
    from learning.models import StudyRecord

    settings.XUEFA_HEARTBEAT_SECONDS = 3
    settings.XUEFA_HEARTBEAT_MARGIN_SECONDS = 1
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}{LECTURE}")
    clock = page.locator(CLOCK)
    required = int(clock.get_attribute("data-required-seconds"))
    start = int(clock.get_attribute("data-seconds"))
    assert clock.inner_text() == f"{start // 60:02d}:{start % 60:02d}"
    assert page.locator("[data-study-note]").is_visible()

    # It ticks within a few seconds, before any heartbeat has granted anything.
    deadline = time.monotonic() + 4
    while seconds_shown(page) == start and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert start < seconds_shown(page) <= min(required, start + 3)
    bar = page.locator("[data-study-bar]")
    assert int(bar.get_attribute("max")) == required
    assert abs(bar.evaluate("el => el.value") - seconds_shown(page)) <= 1

    # A heartbeat's answer puts the clock on the server's figure.
    with page.expect_response(is_beat, timeout=10_000) as answer:
        pass
    data = answer.value.json()
    page.wait_for_function(
        "seconds => document.querySelector('[data-study-clock]')"
        ".getAttribute('data-server-seconds') === String(seconds)",
        arg=data["credited_seconds"],
    )
    shown = seconds_shown(page)
    assert data["credited_seconds"] <= shown <= data["credited_seconds"] + 1
    record = StudyRecord.objects.get(
        official__user__username="official", lecture__slug="administrative-licensing-law"
    )
    assert record.credited_seconds >= data["credited_seconds"] > start

    # Hidden, the page stops counting: once the last beat is answered it stands still
    # on the server's figure.
    with page.expect_response(is_beat, timeout=10_000):
        page.evaluate(
            "() => { Object.defineProperty(document, 'visibilityState',"
            " { configurable: true, get: () => 'hidden' });"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
    page.wait_for_timeout(1000)  # any beat sent just before is answered too
    frozen = clock.inner_text()
    assert seconds_shown(page) == int(clock.get_attribute("data-server-seconds"))
    page.wait_for_timeout(2500)
    assert clock.inner_text() == frozen
