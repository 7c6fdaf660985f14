"""What an official's exam page does when the connection or the session fails them:
an answer that could not be sent survives a reload; a signed-out official is told,
signs in again in another tab and the page sends what it kept; an official who reads
without clicking for longer than the session's idle limit stays signed in."""

from django.urls import reverse

import pytest

from exams.models import Answer
from tests.factories import DEFAULT_PASSWORD

from .conftest import choose, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def start(page, live_server, exam):
    sign_in(page, live_server, "sitter", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(live_server.url + reverse("exams:session", args=[exam.pk]))
    page.get_by_role("button", name="开始考试").click()
    page.wait_for_selector("#attempt-form")


def saved_response(official, position):
    """The saved response in the letters the page displays (it is stored in the bank's)."""
    answer = Answer.objects.get(attempt__official=official, position=position)
    return answer.display_letters(answer.response)


def test_an_answer_that_could_not_be_sent_survives_a_reload(page, live_server, sitting):
    official, exam = sitting
    start(page, live_server, exam)
    page.route("**/answer/", lambda route: route.abort())  # the network is down
    choose(page, 2, "B")
    page.locator("#q-2 .save-state.failed").wait_for()
    assert page.locator("#save-warning").is_visible()
    assert saved_response(official, 2) == ""

    page.unroute("**/answer/")  # back online, and the official reloads
    page.on("dialog", lambda dialog: dialog.accept())  # "leave with unsaved changes?"
    page.reload()
    page.wait_for_selector("#attempt-form")
    assert page.locator("#q-2 input[value='B']").is_checked()
    page.locator("#q-2 .save-state.saved").wait_for()
    assert saved_response(official, 2) == "B"


def test_a_signed_out_official_signs_in_again_and_the_page_sends_what_it_kept(
    page, live_server, sitting
):
    from django.contrib.sessions.models import Session

    official, exam = sitting
    start(page, live_server, exam)
    choose(page, 1, "A")
    page.locator("#q-1 .save-state.saved").wait_for()

    Session.objects.all().delete()  # signed out on the server (a password change, a purge)
    choose(page, 3, "C")
    warning = page.locator("#save-warning")
    warning.get_by_role("link", name="重新登录").wait_for()
    assert "已退出登录" in warning.inner_text()
    assert saved_response(official, 3) == ""

    other_tab = page.context.new_page()  # where the warning's link opens
    sign_in(other_tab, live_server, "sitter", DEFAULT_PASSWORD)
    other_tab.wait_for_url(f"{live_server.url}/**")
    other_tab.close()
    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # the official comes back
    page.locator("#q-3 .save-state.saved").wait_for()
    assert saved_response(official, 3) == "C"
    assert saved_response(official, 1) == "A"
    warning.wait_for(state="hidden")


def test_reading_without_clicking_past_the_idle_limit_keeps_the_official_signed_in(
    page, live_server, sitting, settings
):
    official, exam = sitting
    settings.XUEFA_SESSION_IDLE_SECONDS = 8
    settings.XUEFA_SESSION_TOUCH_SECONDS = 1
    start(page, live_server, exam)
    page.wait_for_timeout(14_000)  # reads for well over the idle limit
    choose(page, 4, "D")
    page.locator("#q-4 .save-state.saved").wait_for()
    assert saved_response(official, 4) == "D"
    assert not page.locator("#save-warning").is_visible()
