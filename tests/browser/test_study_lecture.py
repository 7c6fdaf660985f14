"""The demo official opens a lecture, stays on it, and the server-measured credit
shows up in their study record."""

import re
import time

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LECTURE = "/lectures/administrative-licensing-law/"


def test_official_studies_a_lecture_and_sees_credit(page, live_server, demo_data, settings):
    from learning.models import StudyRecord

    settings.XUEFA_HEARTBEAT_SECONDS = 1
    settings.XUEFA_HEARTBEAT_MARGIN_SECONDS = 1
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}{LECTURE}")
    assert page.locator("h1").inner_text() == "行政许可法专题学习"
    deadline = time.monotonic() + 20
    record = None
    while time.monotonic() < deadline:
        record = StudyRecord.objects.filter(
            official__user__username="official", lecture__slug="administrative-licensing-law"
        ).first()
        if record and record.credited_seconds >= 3:
            break
        page.wait_for_timeout(500)
    assert record is not None and record.credited_seconds >= 3
    # The page itself shows the progress the server reported.
    assert page.locator("[data-study-bar]").evaluate("el => el.value") >= 1
    # Credit never exceeds the time actually spent on the page.
    assert (
        record.credited_seconds
        <= (record.last_heartbeat_at - record.started_at).total_seconds() + 1
    )

    page.goto(f"{live_server.url}/me/record/")
    row = page.locator("tr", has_text="行政许可法专题学习")
    seconds = int(row.locator("[data-credited-seconds]").get_attribute("data-credited-seconds"))
    assert seconds >= 3
    assert re.search(r"0分0[3-9]秒|0分[1-5]\d秒", row.inner_text())
