"""The shell on a phone (375 × 812): a header no taller than 64 px whose menu button
opens the navigation, sign-out included, without inline script (the CSP refuses
it); and no page of the official's daily round scrolls sideways."""

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 375, "height": 812}
PAGES = ("/", "/lectures/", "/exams/", "/me/record/")


def test_the_phone_header_is_short_and_its_menu_holds_sign_out(page, live_server, demo_data):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")

    header = page.locator("header.site-header")
    assert header.bounding_box()["height"] <= 64
    nav = header.locator("nav.site-nav")
    sign_out = nav.get_by_role("button", name="退出登录")
    assert not nav.is_visible()

    header.locator("summary.menu-button").click()
    assert nav.is_visible()
    assert nav.get_by_role("link", name="学法档案").is_visible()
    assert sign_out.is_visible()
    # The open menu drops over the page; the header itself stays as tall as it was.
    assert header.bounding_box()["height"] <= 64

    sign_out.click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/me/record/")
    assert "/accounts/login/" in page.url


def test_wide_screens_show_the_navigation_without_the_menu_button(page, live_server, demo_data):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")
    header = page.locator("header.site-header")
    assert not header.locator("summary.menu-button").is_visible()
    assert header.get_by_role("link", name="考试").is_visible()
    assert header.get_by_role("button", name="退出登录").is_visible()
    header.get_by_role("link", name="考试").click()
    page.wait_for_url(f"{live_server.url}/exams/")


def test_no_page_of_the_daily_round_scrolls_sideways_on_a_phone(page, live_server, demo_data):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        page.locator("summary.menu-button").click()  # the open menu does not widen it either
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
