"""What the exam page promises about time and about the server's word: the countdown
shows the server's time left and follows it when the page checks in; at zero the page
submits itself with what is on it, unsent answers included; a save the server turned
down is retried with back-off until it goes through; an attempt submitted in another
tab closes this one at its next save and takes the official to the result."""

import re
import time
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

import pytest

from exams import attempts as engine
from exams.models import Answer, Attempt, AttemptState
from tests.factories import DEFAULT_PASSWORD

from .conftest import choose, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

COUNTDOWN = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")


def open_attempt(page, live_server, sitting, seconds_left):
    """Sign in, start the attempt on the server with `seconds_left` to go, open its page."""
    official, exam = sitting
    sign_in(page, live_server, "sitter", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    attempt = engine.start_attempt(exam, official)
    move_deadline(attempt, seconds_left)
    page.goto(live_server.url + reverse("exams:attempt", args=[exam.pk, attempt.pk]))
    page.wait_for_selector("#attempt-form")
    return attempt


def move_deadline(attempt, seconds_left):
    deadline = timezone.now() + timedelta(seconds=seconds_left)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=deadline)
    return deadline


def server_remaining(attempt):
    return engine.remaining_seconds(Attempt.objects.get(pk=attempt.pk))


def shown_seconds(page):
    text = page.locator("#countdown").inner_text()
    match = COUNTDOWN.match(text)
    assert match, f"countdown shows {text!r}, not H:MM:SS"
    hours, minutes, seconds = map(int, match.groups())
    return hours * 3600 + minutes * 60 + seconds


def stored(attempt, position):
    return Answer.objects.get(attempt=attempt, position=position)


def shown(answer):
    """The saved response in the letters the page displays (it is stored in the bank's)."""
    return answer.display_letters(answer.response)


def test_the_countdown_shows_the_server_time_left_and_follows_it(page, live_server, sitting):
    attempt = open_attempt(page, live_server, sitting, 83 * 60)  # 1:23:00
    shown, server = shown_seconds(page), server_remaining(attempt)
    assert 83 * 60 - 10 <= server <= 83 * 60
    assert abs(shown - server) <= 2, (shown, server)
    assert page.locator("#countdown").inner_text().startswith("1:2")

    # The organizer shortens the sitting; the official comes back to the page. The
    # page has not heard from the server since it loaded (nothing was saved), so
    # the 5 s since the last reply that comeBack waits for have passed.
    move_deadline(attempt, 41 * 60 + 30)  # 0:41:30
    with page.expect_response(lambda r: r.url.endswith("/status/"), timeout=5_000) as reply:
        page.evaluate("window.dispatchEvent(new Event('focus'))")
    assert reply.value.status == 200
    expected = server_remaining(attempt)
    page.wait_for_function(
        """([low, high]) => {
            const m = document.getElementById("countdown").textContent
                .match(/^(\\d+):(\\d\\d):(\\d\\d)$/);
            if (!m) { return false; }
            const left = +m[1] * 3600 + +m[2] * 60 + +m[3];
            return left >= low && left <= high;
        }""",
        arg=[expected - 3, expected + 1],
        timeout=3_000,
    )
    assert page.locator("#countdown").inner_text().startswith("0:41:")


def test_at_zero_the_page_submits_itself_with_what_is_on_it(page, live_server, sitting):
    attempt = open_attempt(page, live_server, sitting, 8)
    deadline = Attempt.objects.get(pk=attempt.pk).deadline
    # Every key is the bank's A: the page shows it under the letter of its place.
    right = stored(attempt, 1).display_letters("A")
    wrong = next(c for c in "ABCD" if c != stored(attempt, 2).display_letters("A"))
    choose(page, 1, right)
    page.locator("#q-1 .save-state.saved").wait_for()
    page.route("**/answer/", lambda route: route.abort())  # the network drops
    choose(page, 2, wrong)
    page.locator("#q-2 .save-state.failed").wait_for()
    assert stored(attempt, 2).response == ""  # only on the page
    assert "urgent" in page.locator("#countdown").locator("..").get_attribute("class")

    page.wait_for_url("**/result/", timeout=15_000)  # nobody clicks anything
    attempt.refresh_from_db()
    # The form reached the server before deadline plus grace: a submit, with the
    # form's answers saved (an auto-submit would have kept only the saved ones).
    assert attempt.state == AttemptState.SUBMITTED
    assert deadline - timedelta(seconds=2) <= attempt.submitted_at <= deadline + engine.grace()
    first, second = stored(attempt, 1), stored(attempt, 2)
    assert (shown(first), first.is_correct, first.points_awarded) == (right, True, 10)
    assert (shown(second), second.is_correct, second.points_awarded) == (wrong, False, 0)
    assert attempt.score == 10


def test_a_refused_save_is_retried_with_back_off_until_it_goes_through(page, live_server, sitting):
    attempt = open_attempt(page, live_server, sitting, 3600)
    seen = []  # when each save request left the page; the first two are refused

    def busy_twice(route):
        seen.append(time.monotonic())
        if len(seen) <= 2:
            route.fulfill(status=503, body="Service Unavailable")
        else:
            route.continue_()

    page.route("**/answer/", busy_twice)
    choose(page, 3, "C")
    page.locator("#q-3 .save-state.failed").wait_for()
    warning = page.locator("#save-warning")
    assert warning.is_visible()
    assert stored(attempt, 3).response == ""

    page.locator("#q-3 .save-state.saved").wait_for(timeout=12_000)  # 2 s, then 4 s
    warning.wait_for(state="hidden", timeout=5_000)
    assert shown(stored(attempt, 3)) == "C"
    page.wait_for_timeout(500)
    assert len(seen) == 3, "one request reached the server and nothing followed it"
    assert seen[1] - seen[0] >= 1.5, seen
    assert seen[2] - seen[1] >= 3.5, seen


def test_an_attempt_submitted_in_another_tab_closes_this_one(page, live_server, sitting):
    attempt = open_attempt(page, live_server, sitting, 3600)
    choose(page, 1, "A")
    page.locator("#q-1 .save-state.saved").wait_for()

    other_tab = page.context.new_page()
    other_tab.goto(page.url)
    other_tab.once("dialog", lambda dialog: dialog.accept())
    other_tab.get_by_role("button", name="交卷").click()
    other_tab.wait_for_url("**/result/")
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.SUBMITTED

    with page.expect_response(lambda r: r.url.endswith("/answer/"), timeout=5_000) as reply:
        choose(page, 2, "B")
    assert reply.value.status == 409
    warning = page.locator("#save-warning")
    with translation.override("zh-hans"):
        closed = gettext("This attempt has been submitted; answers can no longer change.")
    warning.get_by_text(closed).wait_for(timeout=5_000)
    inputs = page.locator("#attempt-form input[type=radio]")
    assert inputs.count() == 16
    assert page.eval_on_selector_all(
        "#attempt-form input[type=radio]", "inputs => inputs.every(input => input.disabled)"
    )
    page.wait_for_url("**/result/", timeout=8_000)
    assert shown(stored(attempt, 1)) == "A"
    assert stored(attempt, 2).response == ""
