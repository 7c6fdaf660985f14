import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_demo_official_signs_in_and_sees_dashboard(page, live_server, demo_data):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "您好，王晓明"
    assert "秘书科" in page.content()
    # Nothing overflows a phone-width screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
