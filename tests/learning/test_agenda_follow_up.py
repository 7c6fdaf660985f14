"""Follow-up questions of an agenda item (会后测试), learning's side: switching them on
needs a lecture page (model, admin form, the "Record as held" form and the service),
recording carries them to the item, the providers hear of attendance once the
transaction commits; and the sign-in list preview says who is already recorded."""

import datetime

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from wagtail import hooks

import pytest

from learning import agenda, agenda_attendance
from learning.models import AgendaItem, SessionAttendance
from tests.factories import AgendaItemFactory, DepartmentFactory, OfficialFactory, UserFactory

from .factories import make_lecture
from .test_agenda_attendance_import import sign_in_list, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def item():
    return AgendaItemFactory(date=datetime.date(2026, 9, 10), title="法律专家讲座：《民法典》")


class Heard:
    """A follow-up provider that writes down what it is told."""

    def __init__(self):
        self.told = []

    def summaries(self, items):
        return {item.pk: agenda.FollowUpSummary(quiz_url="/q", attended=9) for item in items}

    def attendance_recorded(self, item):
        self.told.append(item.pk)


@pytest.fixture
def heard():
    provider = Heard()
    with hooks.register_temporarily(agenda.FOLLOW_UP_HOOK, lambda: provider):
        yield provider


# --- The switch ---------------------------------------------------------------------------


def test_follow_up_without_a_lecture_page_is_refused(item):
    item.follow_up_questions = True
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    assert refused.value.message_dict == {
        "follow_up_questions": ["Follow-up questions need a lecture page: choose one."]
    }
    item.lecture = make_lecture("《民法典》专题讲座")
    item.full_clean()


def test_the_due_date_counts_from_the_meeting(item):
    assert item.follow_up_due() is None
    item.follow_up_days = 7
    assert item.follow_up_due() == datetime.date(2026, 9, 17)
    assert item.follow_up_due(datetime.date(2026, 9, 12)) == datetime.date(2026, 9, 19)


def test_the_admin_form_refuses_follow_up_without_a_lecture(client, organizer):
    client.force_login(organizer)
    url = reverse("wagtailsnippets_learning_agendaitem:add")
    data = {
        "date": "2026-07-16",
        "meeting": "executive",
        "title": "法律专家讲座：重大行政决策程序",
        "credit_minutes": "60",
        "follow_up_questions": "on",
        "follow_up_days": "14",
        "notes": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["follow_up_questions"] == [
        "Follow-up questions need a lecture page: choose one."
    ]
    assert not AgendaItem.objects.exists()
    lecture = make_lecture("重大行政决策程序")
    assert client.post(url, {**data, "lecture": lecture.pk}).status_code == 302
    item = AgendaItem.objects.get()
    assert (item.follow_up_questions, item.follow_up_days, item.lecture) == (True, 14, lecture)


def test_the_service_refuses_follow_up_without_a_lecture(item):
    with pytest.raises(agenda.AgendaRefused):
        agenda.record_held(item, {"follow_up_questions": True, "lecture": None})
    item.refresh_from_db()
    assert (item.status, item.session) == ("planned", None)


def held_data(item, **extra):
    return {
        "date": "2026-09-12",
        "meeting": "executive",
        "title": item.title,
        "credit_minutes": "60",
        **extra,
    }


def test_recording_as_held_switches_follow_up_on_with_the_lecture_studied(
    client, organizer, item, heard, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    url = reverse("agenda_admin:held", args=[item.pk])
    page = client.get(url)
    assert page.context["form"].initial["follow_up_questions"] is False
    refused = client.post(url, held_data(item, follow_up_questions="on"))
    assert refused.status_code == 200
    assert refused.context["form"].errors["lecture"] == [
        "Follow-up questions need a lecture page: choose one."
    ]
    lecture = make_lecture("《民法典》专题讲座")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, held_data(item, follow_up_questions="on", follow_up_days="10", lecture=lecture.pk)
        )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.follow_up_questions, item.follow_up_days, item.lecture) == (
        "held",
        True,
        10,
        lecture,
    )
    assert item.follow_up_due(item.session.date) == datetime.date(2026, 9, 22)
    assert heard.told == [item.pk]


def test_providers_hear_of_attendance_only_after_the_commit_and_only_when_on(
    item, heard, django_capture_on_commit_callbacks
):
    item.lecture = make_lecture("讲座")
    item.save()
    session = agenda.record_held(item).session  # follow-up off: nothing to tell
    official = OfficialFactory()
    with django_capture_on_commit_callbacks(execute=True):
        agenda.add_attendees(session, [official.pk])
    assert heard.told == []
    AgendaItem.objects.filter(pk=item.pk).update(follow_up_questions=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        agenda.add_attendees(session, [OfficialFactory().pk])
    assert heard.told == []  # not before the commit
    for callback in callbacks:
        callback()
    assert heard.told == [item.pk]
    with django_capture_on_commit_callbacks(execute=True):
        agenda.add_attendees(session, [official.pk])  # nobody new
    assert heard.told == [item.pk]


def test_the_listing_shows_the_providers_figures(client, organizer, item, heard):
    item.lecture = make_lecture("讲座")
    item.follow_up_questions = True
    item.save()
    agenda.record_held(item)
    AgendaItemFactory(title="不问")
    client.force_login(organizer)
    page = client.get(reverse("wagtailsnippets_learning_agendaitem:list")).content.decode()
    assert f'data-follow-up="{item.pk}"' in page
    assert 'data-attended="9"' in page  # the fake provider's figure


# --- The sign-in list preview -------------------------------------------------------------


def test_the_preview_says_who_is_already_recorded(client, organizer, item):
    office = DepartmentFactory(name="区政府办公室")
    recorded = OfficialFactory(
        department=office,
        staff_number="BH0101",
        user=UserFactory(name="王晓明", roles=["Official"]),
    )
    OfficialFactory(
        department=office,
        staff_number="BH0102",
        user=UserFactory(name="李建国", roles=["Official"]),
    )
    session = agenda.record_held(item).session
    agenda.add_attendees(session, [recorded.pk])
    data = sign_in_list([["1", "王晓明", "BH0101", "", ""], ["2", "李建国", "BH0102", "", ""]])

    preview, plan = agenda_attendance.plan_file(data, "签到表.xlsx", session.pk)
    assert [c.label for c in preview.created] == ["李建国 (BH0102)"]
    assert [(c.label, c.fields[0][2]) for c in preview.skipped] == [
        ("王晓明 (BH0101)", "Already recorded as attending.")
    ]
    assert (preview.counts["created"], preview.unchanged) == (1, 1)
    # The plan, and so the confirmation, is the same as without the record.
    assert preview.fingerprint == agenda_attendance.plan_file(data, "签到表.xlsx")[0].fingerprint

    client.force_login(organizer)
    url = reverse("agenda_attendance:upload", args=[session.pk])
    response = client.post(url, {"file": upload(data)})
    job_page = client.get(response["Location"]).content.decode()
    assert "Already recorded as attending." in job_page
    assert "李建国 (BH0102)" in job_page
    assert SessionAttendance.objects.filter(session=session).count() == 1
