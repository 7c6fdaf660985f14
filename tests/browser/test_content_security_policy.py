"""The Content-Security-Policy in a real browser: injected inline code does not run
on the site, and the Wagtail admin's own editing screens work under its policy
(the conftest fails any test whose pages log a violation)."""

import pytest

from learning.models import LecturePage

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_injected_inline_script_and_handler_do_not_run(page, live_server, demo_data):
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = 'script'";
            document.body.append(script);
            document.body.insertAdjacentHTML(
                "beforeend", '<img src="/missing.png" onerror="window.injected = \\'handler\\'">'
            );
        }"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.injected === undefined")
    violations = page.context.csp_violations
    assert any("inline script" in v for v in violations), violations
    assert any("inline event handler" in v for v in violations), violations
    violations.clear()  # expected here; any other page logging one fails its test


def test_wagtail_admin_page_editor_works_under_the_admin_policy(page, live_server, demo_data):
    lecture = LecturePage.objects.live().first()
    sign_in(page, live_server, "admin")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("#wagtail-sidebar").count() == 1
    page.goto(f"{live_server.url}/admin/pages/{lecture.pk}/edit/")
    page.wait_for_selector("[data-streamfield-stream-container], .w-panel", timeout=15_000)
    # The date picker is set up by an inline script Wagtail renders with the widget.
    page.click("input[name=date]")
    page.wait_for_selector(".xdsoft_datetimepicker >> visible=true", timeout=5_000)
    assert page.locator(".xdsoft_datetimepicker >> visible=true").count() == 1
