"""Offline alerts: a screen unseen for its alert time is reported to the organizers
through the notice channels once per outage; a screen back online and gone again is
a new outage; a screen never seen is not reported."""

from datetime import timedelta

from django.utils import timezone, translation

import pytest

from content import offline
from content.models import Screen
from content.tasks import screen_housekeeping_task
from learning.notices import Delivery, NoticeKind
from tests.factories import OfficialFactory, UserFactory

from .factories import ScreenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.XUEFA_NOTICE_CHANNELS = ["email"]
    settings.XUEFA_SCREEN_OFFLINE_ALERT_MINUTES = 15
    with translation.override("en"):
        yield


@pytest.fixture
def organizers():
    return [
        OfficialFactory(user=UserFactory(roles=["Official", "Organizer"])).user for _ in range(2)
    ]


def seen(screen, minutes_ago, now):
    Screen.objects.filter(pk=screen.pk).update(last_seen_at=now - timedelta(minutes=minutes_ago))
    screen.refresh_from_db()


def offline_notices(user):
    """What `user` was sent about offline screens, from the notices' delivery log (one
    delivery per notice with e-mail the only channel)."""
    return list(Delivery.objects.filter(kind=NoticeKind.SCREEN_OFFLINE, user=user).order_by("pk"))


def test_a_screen_unseen_for_its_alert_time_is_reported_once_per_outage(organizers):
    now = timezone.now()
    lobby = ScreenFactory(name="大厅电子屏", location="一楼")
    seen(lobby, 20, now)
    assert offline.alert_offline_screens(now) == [lobby]
    for organizer in organizers:
        [notice] = offline_notices(organizer)
        assert "大厅电子屏" in notice.subject and "一楼" in notice.body
        assert notice.url.endswith("/admin/snippets/content/screen/")
    # Still offline later: the same outage, nothing more.
    assert offline.alert_offline_screens(now + timedelta(hours=3)) == []
    # It comes back, then goes away again: a new outage, a new alert.
    seen(lobby, 0, now + timedelta(hours=4))
    assert offline.alert_offline_screens(now + timedelta(hours=4, minutes=5)) == []
    assert offline.alert_offline_screens(now + timedelta(hours=4, minutes=16)) == [lobby]
    assert len(offline_notices(organizers[0])) == 2


def test_the_alert_time_is_the_screens_own_or_the_sites(organizers, settings):
    now = timezone.now()
    patient = ScreenFactory(name="食堂", offline_alert_minutes=60)
    default = ScreenFactory(name="大厅")
    never = ScreenFactory(name="新装")
    seen(patient, 30, now)
    seen(default, 30, now)
    assert offline.alert_offline_screens(now) == [default]
    assert offline.alert_offline_screens(now + timedelta(minutes=31)) == [patient]
    never.refresh_from_db()
    assert never.offline_alerted_at is None  # never seen: not yet set up, not reported


def test_screens_offline_together_make_one_notice(organizers):
    now = timezone.now()
    screens = [ScreenFactory(name=f"屏{n}") for n in range(3)]
    for screen in screens:
        seen(screen, 40, now)
    assert len(offline.alert_offline_screens(now)) == 3
    [notice] = offline_notices(organizers[0])
    assert notice.subject.startswith("3 screens are offline")


def test_a_screen_still_polling_is_not_reported(organizers):
    now = timezone.now()
    seen(ScreenFactory(), 2, now)
    assert offline.alert_offline_screens(now) == []
    assert not offline_notices(organizers[0])


def test_the_housekeeping_task_runs_the_check(organizers):
    screen = ScreenFactory()
    seen(screen, 30, timezone.now())
    result = screen_housekeeping_task.enqueue()
    assert result.return_value[2] == 1
    assert screen_housekeeping_task.enqueue().return_value[2] == 0
    assert len(offline_notices(organizers[0])) == 1


def test_names_are_sent_as_text(organizers):
    now = timezone.now()
    seen(ScreenFactory(name="<b>屏</b>", location="<i>x</i>"), 30, now)
    offline.alert_offline_screens(now)
    [notice] = offline_notices(organizers[0])
    assert "<b>屏</b>" in notice.subject  # plain text: e-mail and robots send text
