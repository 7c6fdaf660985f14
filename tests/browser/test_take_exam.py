"""The demo official takes the annual exam on a phone-sized screen: answers save as
they are chosen, a reload midway loses nothing, submitting shows the result."""

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def answer(page, position, value):
    question = page.locator(f"#q-{position}")
    question.locator(f"input[value='{value}']").first.check()
    question.locator(".save-state.saved").wait_for()


def choose_any(page, position):
    """Pick the first option of the question and return its value."""
    value = page.locator(f"#q-{position} input").first.get_attribute("value")
    answer(page, position, value)
    return value


def test_official_takes_the_annual_exam(page, live_server, demo_data):
    from django.utils import timezone

    from exams.models import Attempt

    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/exams/")
    year = timezone.localdate().year
    page.get_by_role("link", name=f"{year}年度学法用法考试").click()
    page.get_by_role("button", name="开始考试").click()
    page.wait_for_selector("#attempt-form")
    assert page.locator("fieldset.question").count() == 50
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    chosen = {position: choose_any(page, position) for position in range(1, 6)}

    page.reload()
    page.wait_for_selector("#attempt-form")
    for position, value in chosen.items():
        checked = page.locator(f"#q-{position} input[value='{value}']").first
        assert checked.is_checked(), position
    assert "已答 5 / 50" in page.locator("#progress").inner_text()
    for position in range(6, 11):
        choose_any(page, position)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    assert page.locator("h1").inner_text() == "结果"
    assert "/ 100" in page.locator("#score").inner_text()
    attempt = Attempt.objects.get(official__user__username="official", session__kind="annual")
    assert attempt.state == "submitted"
    assert attempt.answers.exclude(response="").count() == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
