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


def positions(page, selector):
    """The numbers of the questions holding `selector`, in page order."""
    ids = page.locator(f"fieldset.question:has({selector})").evaluate_all(
        "nodes => nodes.map(n => n.id)"
    )
    return [int(i.removeprefix("q-")) for i in ids]


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
    # 20 single, 10 multiple, 10 true-or-false, 5 fill-in-the-blank, 1 case analysis.
    assert page.locator("fieldset.question").count() == 46
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    choices = positions(page, "input[type=radio], input[type=checkbox]")
    [blanks_at, *_] = positions(page, "input.blank")
    [written_at] = positions(page, "textarea")
    assert len(choices) == 40
    chosen = {position: choose_any(page, position) for position in choices[:5]}
    blank = page.locator(f"#q-{blanks_at} input.blank").first
    blank.fill("依法行政")
    blank.press("Tab")
    page.locator(f"#q-{blanks_at} .save-state.saved").wait_for()
    text = "当事人有权陈述和申辩。\n行政机关应当听取意见。"
    page.locator(f"#q-{written_at} textarea").fill(text)
    page.locator(f"#q-{written_at} textarea").press("Tab")
    page.locator(f"#q-{written_at} .save-state.saved").wait_for()

    page.reload()
    page.wait_for_selector("#attempt-form")
    for position, value in chosen.items():
        checked = page.locator(f"#q-{position} input[value='{value}']").first
        assert checked.is_checked(), position
    assert page.locator(f"#q-{blanks_at} input.blank").first.input_value() == "依法行政"
    assert page.locator(f"#q-{written_at} textarea").input_value() == text
    assert "已答 7 / 46" in page.locator("#progress").inner_text()
    for position in choices[5:10]:
        choose_any(page, position)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    assert page.locator("h1").inner_text() == "结果"
    # The case answer waits for a marker: no score until it is marked.
    assert page.locator("#score").inner_text() == "待阅卷"
    assert page.locator("#marking-pending").is_visible()
    attempt = Attempt.objects.get(official__user__username="official", session__kind="annual")
    assert attempt.state == "submitted" and attempt.marking_pending
    assert attempt.score is None
    assert attempt.answers.exclude(response="").count() == 12
    assert attempt.answers.get(position=written_at).response == text
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
