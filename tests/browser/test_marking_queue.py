"""An official's case analysis waits for marking; an organizer opens the marking queue,
marks it by its rubric without learning who wrote it, and the official's result page
then shows the final result and the certificate of the pass."""

from decimal import Decimal

from django.urls import reverse

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def written(transactional_db):
    """The official "sitter" has submitted an annual exam of a choice question (10
    points, answered right) and a case analysis (20 points) that waits for marking;
    "marker" is an organizer."""
    from exams.models import Attempt
    from learning import roles
    from tests.exams.factories import QuestionFactory
    from tests.exams.marking_factories import case_question, marking_exam, sit
    from tests.factories import OfficialFactory, UserFactory

    official = OfficialFactory(user=UserFactory(username="sitter", name="李四海"))
    OfficialFactory(user=UserFactory(username="marker", roles=[roles.OFFICIAL, roles.ORGANIZER]))
    choice, case = QuestionFactory(), case_question()
    exam = marking_exam([(choice, 10), (case, 20)])
    attempt = sit(exam, official, {choice: "A", case: "许可决定超期。\n<b>应当</b>责令改正。"})
    assert Attempt.objects.get(pk=attempt.pk).marking_pending
    return exam, attempt


def result_url(live_server, attempt):
    return live_server.url + reverse("exams:result", args=[attempt.session_id, attempt.pk])


def test_an_organizer_marks_a_case_analysis_and_the_official_sees_the_result(
    page, live_server, written
):
    from exams import marking
    from exams.models import Attempt, Marking
    from tests.factories import DEFAULT_PASSWORD

    exam, attempt = written
    sign_in(page, live_server, "sitter", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(result_url(live_server, attempt))
    assert page.locator("#score[data-marking-pending]").count() == 1
    page.context.clear_cookies()

    sign_in(page, live_server, "marker", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(live_server.url + reverse("exams_marking:queue"))
    row = page.locator("#marking-queue tbody tr")
    assert row.count() == 1
    assert row.locator("[data-round='1']").inner_text() == "1"
    row.locator("a.button").click()

    page.wait_for_selector("#marking-form")
    assert marking.pseudonym(attempt) in page.locator("#candidate").inner_text()
    assert "李四海" not in page.content()
    response = page.locator("#response")
    assert response.locator("b").count() == 0 and "<b>应当</b>" in response.inner_text()
    assert page.locator("#rubric [data-max]").all_inner_texts() == ["4", "3", "3"]
    page.fill("input[name=element_0]", "4")
    page.fill("input[name=element_1]", "2.5")
    page.fill("input[name=element_2]", "3")
    page.fill("textarea[name=comment]", "法条引用不够完整。")
    page.locator("#marking-form button[type=submit]").click()
    page.wait_for_selector("#marking-done")
    assert Marking.objects.get().points == Decimal("19.00")
    page.context.clear_cookies()

    sign_in(page, live_server, "sitter", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(result_url(live_server, attempt))
    assert page.locator("#score").inner_text() == "29 / 30"
    assert "合格" in page.locator(".facts").inner_text()
    assert page.locator("#certificate-link").count() == 1
    final = Attempt.objects.get(pk=attempt.pk)
    assert final.marking_pending is False and final.passed is True and final.band == "excellent"
