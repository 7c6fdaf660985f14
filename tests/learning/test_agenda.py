"""The meeting law-study agenda (会前学法): planning items, recording one as held
(idempotent), cancelling with a reason, attendance by ticks giving exactly the
collective-study credit, the overdue panel on the organizers' admin home, and who
may do what."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

import pytest

from learning import agenda
from learning.completion import completion_for
from learning.models import AgendaItem, AgendaStatus, CollectiveStudySession, SessionAttendance
from tests.factories import AgendaItemFactory, DepartmentFactory, OfficialFactory

from .factories import LawTopicFactory, SpeakerFactory, make_lecture, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def item():
    speaker = SpeakerFactory(name="陈耀东")
    item = AgendaItemFactory(
        date=datetime.date(2026, 9, 10),
        title="法律专家讲座：《民法典》",
        speaker=speaker,
        credit_minutes=90,
    )
    item.topics = [LawTopicFactory(name="民法典", slug="civil-code")]
    item.save()
    return item


def days_ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


# --- Services ---------------------------------------------------------------------------


def test_recording_an_item_as_held_makes_its_record_from_the_plan(item):
    recorded = agenda.record_held(item)
    assert recorded.created
    session = recorded.session
    assert (session.date, session.meeting, session.title, session.credit_minutes) == (
        item.date,
        "executive",
        "法律专家讲座：《民法典》",
        90,
    )
    assert session.lecturer == item.speaker
    assert [t.name for t in session.topics.all()] == ["民法典"]
    item.refresh_from_db()
    assert (item.status, item.session) == (AgendaStatus.HELD, session)


def test_what_went_otherwise_at_the_meeting_replaces_the_plan(item):
    session = agenda.record_held(
        item, {"date": datetime.date(2026, 9, 17), "credit_minutes": 45}
    ).session
    assert (session.date, session.credit_minutes, session.title) == (
        datetime.date(2026, 9, 17),
        45,
        item.title,
    )


def test_recording_twice_makes_one_record(item):
    first = agenda.record_held(item)
    stale = AgendaItem.objects.get(pk=item.pk)
    stale.status, stale.session = AgendaStatus.PLANNED, None  # a page loaded before
    second = agenda.record_held(stale, {"title": "另一个标题"})
    assert not second.created
    assert second.session == first.session
    assert CollectiveStudySession.objects.count() == 1


def test_a_cancelled_item_cannot_be_recorded_as_held(item):
    assert agenda.cancel(item, "会议延期")
    with pytest.raises(agenda.AgendaRefused):
        agenda.record_held(item)
    assert CollectiveStudySession.objects.count() == 0


def test_cancelling_keeps_the_reason_and_needs_one(item):
    with pytest.raises(agenda.AgendaRefused, match="Say why"):
        agenda.cancel(item, "  ")
    assert agenda.cancel(item, "会议延期至下月")
    item.refresh_from_db()
    assert (item.status, item.cancel_reason) == (AgendaStatus.CANCELLED, "会议延期至下月")
    assert agenda.cancel(item, "again") is False
    item.refresh_from_db()
    assert item.cancel_reason == "会议延期至下月"


def test_a_held_item_cannot_be_cancelled(item):
    agenda.record_held(item)
    with pytest.raises(agenda.AgendaRefused, match="held"):
        agenda.cancel(item, "会议取消")
    item.refresh_from_db()
    assert item.status == AgendaStatus.HELD


def test_overdue_items_are_planned_ones_past_their_date():
    late = AgendaItemFactory(date=days_ago(3))
    AgendaItemFactory(date=timezone.localdate())  # today: not late yet
    AgendaItemFactory(date=days_ago(-5))
    held = AgendaItemFactory(date=days_ago(10))
    agenda.record_held(held)
    cancelled = AgendaItemFactory(date=days_ago(10))
    agenda.cancel(cancelled, "取消")
    assert list(agenda.overdue()) == [late]
    assert late.is_overdue and not held.is_overdue


def test_ticked_attendance_gives_exactly_the_collective_study_credit(item):
    office = DepartmentFactory(name="区政府办公室")
    present, absent = OfficialFactory(department=office), OfficialFactory(department=office)
    session = agenda.record_held(item).session
    shown = [present.pk, absent.pk]
    assert agenda.set_attendance(session, shown, [present.pk]) == (1, 0)

    # The same credit as a collective-study record made by hand, by the same rule.
    by_hand = OfficialFactory()
    make_session(attendees=[by_hand], date=item.date, credit_minutes=90)
    assert completion_for(present, 2026).session_seconds == 90 * 60
    assert completion_for(present, 2026).session_seconds == (
        completion_for(by_hand, 2026).session_seconds
    )
    assert completion_for(absent, 2026).session_seconds == 0
    assert completion_for(present, 2027).session_seconds == 0


def test_unticking_removes_only_the_officials_shown(item):
    a, b, elsewhere = OfficialFactory(), OfficialFactory(), OfficialFactory()
    session = agenda.record_held(item).session
    agenda.set_attendance(session, [a.pk, b.pk, elsewhere.pk], [a.pk, b.pk, elsewhere.pk])
    assert agenda.set_attendance(session, [a.pk, b.pk], [a.pk]) == (0, 1)
    assert agenda.attending_ids(session) == {a.pk, elsewhere.pk}
    # Saving the record in the admin later keeps what the ticks recorded.
    CollectiveStudySession.objects.get(pk=session.pk).save()
    assert agenda.attending_ids(session) == {a.pk, elsewhere.pk}


def test_adding_attendees_twice_records_each_once(item):
    a, b = OfficialFactory(), OfficialFactory()
    session = agenda.record_held(item).session
    assert agenda.add_attendees(session, [a.pk]) == (1, 0)
    assert agenda.add_attendees(session, [a.pk, b.pk]) == (1, 1)
    assert SessionAttendance.objects.filter(session=session).count() == 2


# --- Screens ----------------------------------------------------------------------------


def test_organizer_records_a_planned_item_in_two_clicks(client, organizer, item):
    client.force_login(organizer)
    lecture = make_lecture("《民法典》专题讲座")
    url = reverse("agenda_admin:held", args=[item.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["title"] == item.title and form.initial["credit_minutes"] == 90
    data = {
        "date": "2026-09-10",
        "meeting": "executive",
        "title": item.title,
        "topics": [t.pk for t in item.topics.all()],
        "lecturer": item.speaker.pk,
        "lecture": lecture.pk,
        "credit_minutes": "90",
    }
    response = client.post(url, data)
    session = CollectiveStudySession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("agenda_admin:attendance", args=[session.pk])
    assert session.lecture_id == lecture.pk
    # A double submit leads to the same record.
    again = client.post(url, data)
    assert again["Location"] == response["Location"]
    assert CollectiveStudySession.objects.count() == 1
    assert client.get(url)["Location"] == response["Location"]


def test_organizer_ticks_attendees_of_a_chosen_department(client, organizer, item):
    office = DepartmentFactory(name="区政府办公室")
    section = DepartmentFactory(name="秘书科", parent=office)
    a, b = OfficialFactory(department=office), OfficialFactory(department=section)
    OfficialFactory()  # elsewhere: not listed
    session = agenda.record_held(item).session
    client.force_login(organizer)
    url = reverse("agenda_admin:attendance", args=[session.pk])
    page = client.get(url, {"department": office.pk})
    assert [o.pk for o in page.context["listed"]] == [a.pk, b.pk]
    response = client.post(url, {"department": office.pk, "official": [b.pk]})
    assert response.status_code == 302
    assert agenda.attending_ids(session) == {b.pk}
    client.post(url, {"department": office.pk, "all": "1"})
    assert agenda.attending_ids(session) == {a.pk, b.pk}


def test_organizer_cancels_an_item_with_a_reason(client, organizer, item):
    client.force_login(organizer)
    url = reverse("agenda_admin:cancel", args=[item.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 200  # the form again
    response = client.post(url, {"reason": "会议延期"})
    assert response["Location"] == reverse("wagtailsnippets_learning_agendaitem:list")
    item.refresh_from_db()
    assert (item.status, item.cancel_reason) == ("cancelled", "会议延期")


def test_organizer_plans_an_item_in_the_admin(client, organizer):
    client.force_login(organizer)
    speaker = SpeakerFactory(name="付士成")
    url = reverse("wagtailsnippets_learning_agendaitem:add")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "date": "2026-07-16",
            "meeting": "executive",
            "title": "法律专家讲座：重大行政决策程序",
            "speaker": speaker.pk,
            "credit_minutes": "60",
            "notes": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    item = AgendaItem.objects.get()
    assert (item.status, item.speaker) == ("planned", speaker)


def test_the_listing_filters_by_year_meeting_and_status(client, organizer):
    AgendaItemFactory(date=datetime.date(2025, 5, 1), title="去年")
    AgendaItemFactory(date=datetime.date(2026, 5, 1), title="今年常务会")
    AgendaItemFactory(date=datetime.date(2026, 6, 1), title="今年党组会", meeting="party_group")
    client.force_login(organizer)
    url = reverse("wagtailsnippets_learning_agendaitem:list")

    def titles(**query):
        return [i.title for i in client.get(url, query).context["object_list"]]

    assert titles(year="2026") == ["今年常务会", "今年党组会"]
    assert titles(year="2026", meeting="party_group") == ["今年党组会"]
    assert titles(status="planned", year="2025") == ["去年"]
    assert titles(status="held") == []


def test_the_listing_costs_the_same_queries_for_5_and_50_items(client, organizer):
    client.force_login(organizer)
    url = reverse("wagtailsnippets_learning_agendaitem:list")

    def cost(count):
        speaker = SpeakerFactory()
        for _ in range(count):
            item = AgendaItemFactory(speaker=speaker)
            if _ % 2:
                agenda.record_held(item)
        client.get(url)  # warm caches of the admin shell
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    small = cost(5)
    large = cost(45)
    assert large == small


# --- The organizers' admin home ---------------------------------------------------------


def test_overdue_items_show_on_the_organizer_home_with_their_links(client, organizer):
    late = AgendaItemFactory(date=days_ago(4), title="学习《保密法》")
    AgendaItemFactory(date=days_ago(-4), title="将来")
    client.force_login(organizer)
    page = client.get(reverse("wagtailadmin_home")).content.decode()
    assert 'id="overdue-agenda-section"' in page
    assert "学习《保密法》" in page and "将来" not in page
    assert reverse("agenda_admin:held", args=[late.pk]) in page
    assert reverse("agenda_admin:cancel", args=[late.pk]) in page


def test_hr_home_has_no_overdue_panel(client, hr_user):
    AgendaItemFactory(date=days_ago(4), title="学习《保密法》")
    client.force_login(hr_user)
    page = client.get(reverse("wagtailadmin_home"))
    assert page.status_code == 200
    assert 'id="overdue-agenda-section"' not in page.content.decode()


def test_the_panel_lists_eight_and_counts_the_rest(client, organizer):
    for days in range(1, 12):
        AgendaItemFactory(date=days_ago(days))
    client.force_login(organizer)
    page = client.get(reverse("wagtailadmin_home")).content.decode()
    assert page.count("data-item=") == 8
    assert 'data-more="3"' in page


# --- Who may do what --------------------------------------------------------------------


def organizer_urls(item, session):
    return [
        reverse("agenda_admin:held", args=[item.pk]),
        reverse("agenda_admin:cancel", args=[item.pk]),
        reverse("agenda_admin:attendance", args=[session.pk]),
        reverse("agenda_admin:attendance_template"),
        reverse("agenda_attendance:upload", args=[session.pk]),
    ]


def test_hr_is_refused_the_organizer_actions_to_the_dashboard(client, hr_user, item):
    session = make_session()
    client.force_login(hr_user)
    for url in organizer_urls(item, session):
        for response in (client.get(url), client.post(url, {"reason": "x"})):
            assert response.status_code == 302, url
            assert response["Location"] == reverse("wagtailadmin_home"), url
    item.refresh_from_db()
    assert item.status == AgendaStatus.PLANNED


def test_officials_are_refused_with_403(official_client, item):
    session = make_session()
    for url in organizer_urls(item, session):
        assert official_client.get(url).status_code == 403, url
        assert official_client.post(url, {"reason": "x"}).status_code == 403, url
    listing = reverse("wagtailsnippets_learning_agendaitem:list")
    assert official_client.get(listing).status_code == 403
    item.refresh_from_db()
    assert item.status == AgendaStatus.PLANNED


def test_hr_may_read_the_agenda_but_not_change_it(client, hr_user, item):
    client.force_login(hr_user)
    page = client.get(reverse("wagtailsnippets_learning_agendaitem:list"))
    assert page.status_code == 200
    assert item.title in page.content.decode()
    assert reverse("agenda_admin:held", args=[item.pk]) not in page.content.decode()
    edit = client.get(reverse("wagtailsnippets_learning_agendaitem:edit", args=[item.pk]))
    assert edit.status_code == 302 and edit["Location"] == reverse("wagtailadmin_home")


def test_made_up_ids_are_404_for_organizers(client, organizer):
    client.force_login(organizer)
    for name in ("agenda_admin:held", "agenda_admin:cancel", "agenda_admin:attendance"):
        url = reverse(name, args=[999999])
        assert client.get(url).status_code == 404
        assert client.post(url, {}).status_code == 404


def test_what_people_type_is_escaped_on_every_agenda_screen(client, organizer):
    hostile = "<script>alert(1)</script>"
    late = AgendaItemFactory(date=days_ago(2), title=hostile)
    client.force_login(organizer)
    pages = [
        reverse("wagtailsnippets_learning_agendaitem:list"),
        reverse("wagtailadmin_home"),
        reverse("agenda_admin:held", args=[late.pk]),
        reverse("agenda_admin:cancel", args=[late.pk]),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert hostile not in page, url
        assert "&lt;script&gt;" in page, url
    response = client.post(
        reverse("agenda_admin:held", args=[late.pk]),
        {"date": "2026-09-10", "meeting": "executive", "title": hostile, "credit_minutes": "60"},
        follow=True,
    )
    assert hostile not in response.content.decode()
    assert "&lt;script&gt;" in response.content.decode()


def test_the_listing_offers_record_and_cancel_on_planned_items_only(client, organizer, item):
    held = AgendaItemFactory(title="已举行")
    agenda.record_held(held)
    client.force_login(organizer)
    page = client.get(reverse("wagtailsnippets_learning_agendaitem:list")).content.decode()
    assert reverse("agenda_admin:held", args=[item.pk]) in page
    assert reverse("agenda_admin:held", args=[held.pk]) not in page
    assert reverse("agenda_admin:attendance", args=[held.session_id]) in page


def test_an_item_whose_record_was_deleted_can_be_recorded_again(item):
    agenda.record_held(item).session.delete()
    item.refresh_from_db()
    assert (item.status, item.session) == (AgendaStatus.HELD, None)
    again = agenda.record_held(item)
    assert again.created
    item.refresh_from_db()
    assert item.session == again.session
