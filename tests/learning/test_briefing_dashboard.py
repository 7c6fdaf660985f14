"""The 明白纸 panel on the kept dashboard (learning.fast.dashboard) changes at once:
a sheet published or unpublished, the official's own confirmation, and the day a
sheet's validity starts or ends (by the clock alone, through changes_at)."""

import datetime
from unittest import mock

from django.urls import reverse
from django.utils import timezone

import pytest

from learning.briefings import receipts
from tests.factories import OfficialFactory

from .briefing_factories import make_sheet, right_answers
from .test_dashboard_cache import assert_kept_equals_plain

pytestmark = [pytest.mark.django_db, pytest.mark.fast_paths]

PANEL = 'id="briefing-panel"'


def dashboard(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def reader(client):
    official = OfficialFactory()
    client.force_login(official.user)
    return official


def test_a_published_sheet_shows_at_once_and_leaves_when_unpublished(client, reader, settings):
    assert PANEL not in dashboard(client)
    sheet = make_sheet("保密明白纸")
    html = dashboard(client)
    assert PANEL in html and f'href="{sheet.url}"' in html
    assert_kept_equals_plain(client, settings)
    sheet.unpublish()
    assert PANEL not in dashboard(client)


def test_my_confirmation_removes_the_sheet_at_once(client, reader, settings):
    sheet = make_sheet("保密明白纸")
    other = make_sheet("另一张明白纸")
    assert "保密明白纸" in dashboard(client)
    client.post(reverse("briefings:confirm", args=[sheet.pk]), right_answers(sheet))
    html = dashboard(client)
    assert f'href="{sheet.url}"' not in html and f'href="{other.url}"' in html
    assert_kept_equals_plain(client, settings)


def test_someone_elses_confirmation_leaves_my_panel(client, reader):
    sheet = make_sheet()
    dashboard(client)
    receipts.confirm(sheet, OfficialFactory().user, {})
    assert f'href="{sheet.url}"' in dashboard(client)


def test_a_sheet_shows_the_day_its_validity_starts_and_leaves_after_it_ends(client, reader):
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    starting = make_sheet("明天生效", valid_from=tomorrow, valid_to=tomorrow)
    assert starting.url not in dashboard(client)
    start = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(8)))
    with mock.patch("django.utils.timezone.now", lambda: start):
        client.force_login(reader.user)  # a day later: a new session
        assert f'href="{starting.url}"' in dashboard(client)
    after = start + datetime.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", lambda: after):
        client.force_login(reader.user)
        assert PANEL not in dashboard(client)


def test_the_panel_reports_when_the_clock_changes_it(rf, reader):
    from learning.briefings.dashboard import BriefingPanel

    today = timezone.localdate()
    make_sheet(
        valid_from=today - datetime.timedelta(days=3), valid_to=today + datetime.timedelta(days=5)
    )
    make_sheet(valid_from=today + datetime.timedelta(days=2))
    request = rf.get("/")
    request.user = reader.user
    panel = BriefingPanel(request)
    assert panel.is_shown()
    expected = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=2), datetime.time.min)
    )
    assert panel.changes_at == expected
