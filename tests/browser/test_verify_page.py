"""A stranger scans a certificate's QR code with a phone: the verification page opens
without signing in, in Chinese, and shows the certificate as valid with the holder's
name partly masked, fitting the screen. Typing the printed code (lower case, with
spaces) into the form finds the same certificate; a revoked one says so."""

from django.urls import reverse

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def certificate(transactional_db):
    """王小明 passed 2026年度法律知识考试 with 90 points."""
    from exams import certificates
    from tests.exams.certificate_helpers import sit
    from tests.exams.factories import ExamSessionFactory, QuestionFactory, fixed_paper
    from tests.factories import OfficialFactory, UserFactory

    official = OfficialFactory(user=UserFactory(name="王小明"), staff_number="ZF2026")
    session = ExamSessionFactory(
        title="2026年度法律知识考试", paper=fixed_paper(QuestionFactory.create_batch(10))
    )
    return certificates.issue_for_attempt(sit(session, official, right=9))


def test_a_stranger_checks_a_certificate_on_a_phone(page, live_server, certificate):
    page.set_viewport_size(PHONE)
    # As the QR code leads: the absolute address of the code's page.
    page.goto(live_server.url + reverse("verify:certificate", args=[certificate.code]))
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    result = page.locator("[data-certificate]")
    assert result.is_visible()
    assert page.locator("[data-status='valid']").is_visible()
    assert page.locator("[data-field='holder']").inner_text() == "王*明"
    assert page.locator("[data-field='title']").inner_text() == "2026年度法律知识考试"
    assert page.locator("[data-field='band']").inner_text() == "优秀"
    body = page.locator("body").inner_text()
    assert "王小明" not in body and "ZF2026" not in body
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = result.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # Not signed in, and not sent to sign in.
    assert page.url.endswith(f"/verify/{certificate.code}/")


def test_typing_the_printed_code_finds_it_and_a_revoked_one_says_so(page, live_server, certificate):
    from exams import certificates, results
    from tests.factories import UserFactory

    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("verify:form"))
    typed = certificates.grouped_code(certificate.code).lower().replace("-", " ")
    page.fill("input[name=code]", typed)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/verify/{certificate.code}/")
    assert page.locator("[data-field='holder']").inner_text() == "王*明"

    results.void_result(certificate.attempt, "经查系他人代考", UserFactory(is_superuser=True))
    page.reload()
    assert page.locator("[data-status='revoked']").is_visible()
    assert "经查系他人代考" not in page.locator("body").inner_text()

    page.goto(live_server.url + reverse("verify:certificate", args=["Z" * 20]))
    assert page.locator("[data-unknown]").is_visible()
