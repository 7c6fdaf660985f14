"""The demo organizer finds the overdue Civil Code lecture on the admin home, records
it as held from the item's plan, and ticks who attended among the district government
office's officials: a collective-study record with its attendance in a few clicks."""

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_organizer_records_an_overdue_item_as_held_and_ticks_attendees(
    page, live_server, demo_data
):
    from learning import agenda
    from learning.models import AgendaItem

    item = AgendaItem.objects.get(title="法律专家讲座：《民法典》")
    assert item.is_overdue
    sign_in(page, live_server, "organizer")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/admin/")

    panel = page.locator("#overdue-agenda-section")
    panel.locator(f"[data-item='{item.pk}'] a[href$='/held/']").click()
    form = page.locator("#record-held")
    assert form.locator("input[name=title]").input_value() == "法律专家讲座：《民法典》"
    form.locator("button[type=submit]").click()

    page.wait_for_url(f"{live_server.url}/admin/agenda/sessions/*/attendance/")
    page.locator("#choose-departments label", has_text="区政府办公室").locator("input").check()
    page.locator("#choose-departments button[type=submit]").click()
    ticks = page.locator("#attendance-ticks input[name=official]")
    page.wait_for_selector("#attendance-ticks")
    assert ticks.count() > 2
    chosen = [int(ticks.nth(i).get_attribute("value")) for i in (0, 1)]
    ticks.nth(0).check()
    ticks.nth(1).check()
    page.locator("#attendance-ticks button[type=submit]:not([name])").click()
    page.wait_for_selector("[data-attending='2']")

    item.refresh_from_db()
    assert item.status == "held"
    assert agenda.attending_ids(item.session) == set(chosen)
    assert item.session.lecturer.name == "陈耀东"


def test_organizer_switches_follow_up_on_and_an_attendee_answers_it(page, live_server, demo_data):
    """Recording the Civil Code lecture with follow-up questions on: the demo official,
    ticked as attending, finds the to-do on the dashboard, answers, and it is gone."""
    from exams.models import CHOICE_TYPES, LectureQuiz, LectureQuizQuestion, Question
    from learning.models import AgendaItem

    item = AgendaItem.objects.get(title="法律专家讲座：《民法典》")
    quiz = LectureQuiz.objects.create(lecture=item.lecture, pass_mark=60)
    questions = Question.objects.filter(
        key__startswith="DEMO-", topic__name="民法典", type__in=CHOICE_TYPES
    ).order_by("key")[:2]
    for order, question in enumerate(questions):
        LectureQuizQuestion.objects.create(quiz=quiz, question=question, sort_order=order)

    sign_in(page, live_server, "organizer")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/admin/agenda/{item.pk}/held/")
    form = page.locator("#record-held")
    form.locator("input[name=follow_up_questions]").check()
    form.locator("input[name=follow_up_days]").fill("7")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/agenda/sessions/*/attendance/")
    page.locator("#choose-departments label", has_text="秘书科").locator("input").check()
    page.locator("#choose-departments button[type=submit]").click()
    page.wait_for_selector("#attendance-ticks")
    page.locator("#attendance-ticks label", has_text="王晓明").click()
    page.locator("#attendance-ticks button[type=submit]:not([name])").click()
    page.wait_for_selector("[data-attending='1']")
    page.goto(f"{live_server.url}/admin/snippets/learning/agendaitem/")
    assert (
        page.locator(f"[data-follow-up='{item.pk}'] [data-summary]").get_attribute("data-attended")
        == "1"
    )

    page.context.clear_cookies()
    sign_in(page, live_server, "official")
    page.wait_for_url(f"{live_server.url}/")
    todo = page.locator(f"[data-follow-ups] [data-follow-up='{item.pk}'] a")
    todo.click()
    page.wait_for_url(f"{live_server.url}/exams/quiz/{item.lecture_id}/")
    for question in page.locator("#quiz-form fieldset.question").all():
        question.locator("input").first.check()
    page.locator("#submit-quiz").click()
    page.wait_for_url(f"{live_server.url}/exams/quiz/{item.lecture_id}/tries/*/")
    page.goto(f"{live_server.url}/")
    assert page.locator(f"[data-follow-up='{item.pk}']").count() == 0
