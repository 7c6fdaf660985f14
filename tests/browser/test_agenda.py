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
