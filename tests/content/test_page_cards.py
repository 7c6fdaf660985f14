""" "Show on screens" for lecture pages (content/page_cards.py): a live lecture, a case
page (以案释法) included, becomes one lecture-highlight draft; a second click reopens
it; only organizers may, and only for live lectures."""

from django.test import Client
from django.urls import reverse

import pytest

from content import page_cards
from content.models import PublicityItem
from exams.observations.models import CasePage
from tests.learning.factories import lecture_index, make_lecture

pytestmark = pytest.mark.django_db


def card_url(page):
    return reverse("content_page_card", args=[page.pk])


@pytest.fixture
def lecture(db):
    return make_lecture("民法典与政府工作")


@pytest.fixture
def organizer_client(organizer):
    client = Client()
    client.force_login(organizer)
    return client


def test_get_asks_first_and_makes_nothing(organizer_client, lecture):
    response = organizer_client.get(card_url(lecture))
    assert response.status_code == 200 and "data-page-card-form" in response.content.decode()
    assert not PublicityItem.objects.exists()


def test_post_drafts_one_highlight_and_opens_its_editor(organizer_client, lecture):
    response = organizer_client.post(card_url(lecture))
    item = PublicityItem.objects.get()
    assert (item.kind, item.lecture_id, item.live) == ("lecture", lecture.pk, False)
    assert item.latest_revision is not None
    edit = reverse("wagtailsnippets_content_publicityitem:edit", args=[item.pk])
    assert response.status_code == 302 and response["Location"] == edit
    # Again, by POST or GET: the same item reopens, no duplicate.
    for again in (
        organizer_client.post(card_url(lecture)),
        organizer_client.get(card_url(lecture)),
    ):
        assert again.status_code == 302 and again["Location"] == edit
    assert PublicityItem.objects.count() == 1


def test_a_case_page_is_a_lecture_for_the_screens(organizer_client):
    case = CasePage(title="以案释法：政府信息公开答复案", slug="case-1", facts="事实")
    lecture_index().add_child(instance=case)
    case.save_revision().publish()
    organizer_client.post(card_url(case))
    assert PublicityItem.objects.get().lecture_id == case.pk


def test_a_draft_lecture_or_another_page_is_a_404(organizer_client):
    draft = make_lecture("草稿讲座", live=False)
    assert organizer_client.post(card_url(draft)).status_code == 404
    assert organizer_client.get(card_url(lecture_index())).status_code == 404
    assert not PublicityItem.objects.exists()


def test_officials_and_hr_are_refused(client, official, hr_user, lecture):
    url = card_url(lecture)
    assert "/login/" in client.get(url)["Location"]
    client.force_login(official.user)
    assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    client.force_login(hr_user)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    assert not PublicityItem.objects.exists()


def test_the_button_shows_on_live_lectures_for_organizers_only(organizer, hr_user, lecture):
    draft = make_lecture("草稿讲座", live=False)
    buttons = list(page_cards.header_buttons(lecture, organizer, "edit"))
    assert [b.url for b in buttons] == [card_url(lecture)]
    assert list(page_cards.listing_buttons(lecture, organizer)) != []
    assert list(page_cards.header_buttons(draft, organizer, "edit")) == []
    assert list(page_cards.header_buttons(lecture_index(), organizer, "edit")) == []
    assert list(page_cards.header_buttons(lecture, hr_user, "edit")) == []


def test_the_page_editor_shows_the_button(organizer_client, lecture):
    page = organizer_client.get(reverse("wagtailadmin_pages:edit", args=[lecture.pk]))
    assert f'data-page-card="{lecture.pk}"' in page.content.decode()
