"""Lecture pages served from their cached shell (learning/fast/shells.py): nobody's
data reaches anybody else's page, every change to what a page shows is seen at once,
refusals still refuse, and the page works the same with the cache down."""

import datetime
import re
import socket

from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.files.base import ContentFile
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from wagtail.documents.models import Document
from wagtail.models import PageViewRestriction

import pytest

from learning import roles
from learning.models import StudyRecord
from tests.factories import OfficialFactory, UserFactory
from xuefa import cache as failsafe

from .factories import LawTopicFactory, SpeakerFactory, make_lecture, make_series

pytestmark = pytest.mark.django_db

ADMIN_LINK = f'href="{reverse("wagtailadmin_home")}"'
FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def reader(user, message=None, language=None):
    """A signed-in client; with a message waiting for the next page and a language."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    client.force_login(user)
    if message:
        storage = CookieStorage(None)
        client.cookies["messages"] = storage._encode([Message(constants.INFO, message)])
    return client


def form_secrets(client, text):
    """The CSRF secrets behind a page's form tokens, and the client's own secret."""
    tokens = {_unmask_cipher_token(token) for token in FORM_TOKEN.findall(text)}
    return tokens, client.cookies["csrftoken"].value


@pytest.fixture
def two_readers(index):
    """HR staff member who completed the lecture and has a message waiting, and an
    official who has not started it."""
    lecture = make_lecture("保密法讲座", parent=index, credit_minutes=20)
    staff = OfficialFactory(user=UserFactory(roles=[roles.OFFICIAL, roles.HR]))
    StudyRecord.objects.create(
        official=staff,
        lecture=lecture,
        credited_seconds=17 * 60,
        started_at=datetime.datetime(2026, 5, 1, 9, tzinfo=datetime.UTC),
        last_heartbeat_at=datetime.datetime(2026, 5, 1, 10, tzinfo=datetime.UTC),
        completed_at=datetime.datetime(2026, 5, 1, 10, tzinfo=datetime.UTC),
    )
    official = OfficialFactory()
    return lecture, staff, official


@pytest.mark.parametrize("staff_first", [True, False])
def test_no_reader_sees_another_readers_parts(two_readers, staff_first):
    lecture, staff, official = two_readers
    clients = {
        "staff": reader(staff.user, message="给人事的私人消息"),
        "official": reader(official.user),
    }
    order = ["staff", "official"] if staff_first else ["official", "staff"]
    pages = {}
    for name in order + order:  # the first of all renders the shell, the rest use it
        response = clients[name].get(lecture.url)
        assert response.status_code == 200
        pages.setdefault(name, []).append(response.text)
        secrets, own = form_secrets(clients[name], response.text)
        assert secrets == {own}, "forms carry the reader's own token"

    staff_first_page, staff_again = pages["staff"]
    assert "给人事的私人消息" in staff_first_page
    assert "给人事的私人消息" not in staff_again  # a message is shown once
    for text in pages["staff"]:
        assert ADMIN_LINK in text
        assert "data-study-minutes>17</span>" in text
        assert 'value="1020"' in text
    for text in pages["official"]:
        assert "给人事的私人消息" not in text
        assert ADMIN_LINK not in text
        assert "data-study-minutes>0</span>" in text
        assert "data-study-minutes>17</span>" not in text
        assert 'value="1020"' not in text
    # Both see the same lecture and the heartbeat wiring.
    for text in pages["staff"] + pages["official"]:
        assert "保密法讲座" in text
        assert f'data-heartbeat-url="{reverse("learning:heartbeat", args=[lecture.pk])}"' in text
        assert 'data-heartbeat-seconds="' in text
        assert "learning/study.js" in text


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("who", ["staff", "official"])
def test_a_page_from_its_shell_is_the_page_rendered_whole(two_readers, who, language, monkeypatch):
    """The holes filled per request (some without their templates) give exactly what
    rendering the whole page gives: CSRF tokens aside, which differ on every page."""
    from learning.models import LecturePage

    lecture, staff, official = two_readers
    user = {"staff": staff, "official": official}[who].user
    address = lecture.url + '?from=dashboard&x=%3Cb%3E"'
    reader(user, language=language).get(address)  # renders and keeps the shell
    from_shell = reader(user, "一条消息 <b>", language).get(address).text
    monkeypatch.setattr(LecturePage, "serve_shell", lambda self, request: None)
    whole = reader(user, "一条消息 <b>", language).get(address).text
    token = re.compile(r"\b[A-Za-z0-9]{64}\b")
    assert "一条消息 &lt;b&gt;" in from_shell and "dashboard&amp;x=%3Cb%3E%22" in from_shell
    credited = "minutes credited" if language == "en" else "分钟"
    assert credited in from_shell and "data-study-minutes" in from_shell
    assert token.sub("TOKEN", from_shell) == token.sub("TOKEN", whole)


def test_the_return_address_is_the_readers_own(official_client, lecture):
    official_client.get(lecture.url)
    text = official_client.get(lecture.url + "?from=dashboard&x=%3Cb%3E").text
    assert 'name="next" type="hidden" value="' + lecture.url + "?from=dashboard&amp;x=%3Cb%3E" in (
        text
    )
    assert 'value="' + lecture.url + '"' in official_client.get(lecture.url).text


def test_a_reader_who_does_not_study_gets_no_heartbeat(client, superuser, official, lecture):
    official_client = reader(official.user)
    assert "data-heartbeat-url" in official_client.get(lecture.url).text
    client.force_login(superuser)  # no official profile: nothing to credit
    for _ in range(2):
        text = client.get(lecture.url).text
        assert "data-heartbeat-url" not in text
        assert "study.js" not in text and "data-study-minutes" not in text
        assert ADMIN_LINK in text
    assert "data-heartbeat-url" in official_client.get(lecture.url).text


def test_each_language_has_its_own_page(official, lecture):
    chinese = reader(official.user, language="zh-hans")
    english = reader(official.user, language="en")
    for _ in range(2):
        zh = chinese.get(lecture.url).text
        en = english.get(lecture.url).text
        assert "<dt>日期</dt>" in zh and "<dt>Date</dt>" not in zh
        assert "<dt>Date</dt>" in en and "<dt>日期</dt>" not in en
        assert '<html lang="zh-hans">' in zh and '<html lang="en">' in en


def test_edits_to_the_lecture_its_topics_speakers_and_series_show_at_once(official_client, index):
    series = make_series("保密专题", parent=index, slug="secrecy")
    topic = LawTopicFactory(name="保密法")
    speaker = SpeakerFactory(name="张老师", title="教授", affiliation="政法大学")
    lecture = make_lecture("保密讲座", parent=series, topics=[topic], speakers=[speaker])
    text = official_client.get(lecture.url).text
    assert "保密专题" in text and "保密法" in text and "张老师" in text

    topic.name = "中华人民共和国保守国家秘密法"
    topic.save()
    assert "中华人民共和国保守国家秘密法" in official_client.get(lecture.url).text

    speaker.name = "李老师"
    speaker.save()
    text = official_client.get(lecture.url).text
    assert "李老师" in text and "张老师" not in text

    series.title = "保密工作专题"
    series.save_revision().publish()
    assert "保密工作专题" in official_client.get(lecture.url).text

    other = LawTopicFactory(name="宪法")
    lecture.topics.set([other])
    lecture.summary = "新的摘要"
    lecture.save_revision().publish()
    text = official_client.get(lecture.url).text
    assert "新的摘要" in text and "宪法" in text and "中华人民共和国保守国家秘密法" not in text

    lecture.occasion = "党组会"  # saved without a revision (an import, a script)
    lecture.save()
    assert "党组会" in official_client.get(lecture.url).text


def test_a_replaced_document_shows_at_once(official_client, index):
    slides = Document(title="第一版课件")
    slides.file.save("slides.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    slides.save()
    lecture = make_lecture("课件讲座", parent=index, body=[("document", {"document": slides})])
    assert "第一版课件" in official_client.get(lecture.url).text
    slides.title = "第二版课件"
    slides.save()
    assert "第二版课件" in official_client.get(lecture.url).text


def test_a_draft_never_reaches_readers(official_client, lecture):
    assert official_client.get(lecture.url).status_code == 200
    lecture.title = "尚未发布的标题"
    lecture.save_revision()  # a draft: the live page is unchanged
    assert "尚未发布的标题" not in official_client.get(lecture.url).text


def test_unpublished_and_restricted_lectures_still_refuse(official_client, index):
    lecture = make_lecture("监察法讲座", parent=index)
    for _ in range(2):  # the shell is cached
        assert official_client.get(lecture.url).status_code == 200
    restriction = PageViewRestriction.objects.create(
        page=lecture, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    response = official_client.get(lecture.url)
    assert response.status_code == 200 and "监察法讲座" not in response.text
    assert 'name="password"' in response.text
    restriction.delete()
    assert "监察法讲座" in official_client.get(lecture.url).text
    lecture.unpublish()
    assert official_client.get(lecture.url).status_code == 404


def test_signed_out_readers_are_sent_to_sign_in(official_client, lecture):
    official_client.get(lecture.url)
    response = Client().get(lecture.url)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


@pytest.fixture
def cache_down(settings, monkeypatch):
    """The site's cache pointed at a Redis nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(failsafe, "_down_until", 0.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "xuefa.cache.FailSafeRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }


def test_the_page_is_the_same_with_the_cache_down(two_readers, cache_down):
    lecture, staff, official = two_readers
    staff_client = reader(staff.user, message="缓存不可用时的消息")
    for _ in range(2):
        text = staff_client.get(lecture.url).text
        assert "保密法讲座" in text and ADMIN_LINK in text
        assert "data-study-minutes>17</span>" in text
    assert "缓存不可用时的消息" not in text
    text = reader(official.user).get(lecture.url).text
    assert "data-study-minutes>0</span>" in text and ADMIN_LINK not in text
    lecture.title = "缓存不可用时改的标题"
    lecture.save_revision().publish()
    assert "缓存不可用时改的标题" in staff_client.get(lecture.url).text


def test_lecture_pages_have_no_inline_code(official_client, index):
    lecture = make_lecture(
        "视频讲座",
        parent=index,
        body=[("video", {"url": "https://video.example.cn/a.mp4", "caption": "视频"})],
    )
    for _ in range(2):
        response = official_client.get(lecture.url)
        assert "script-src 'self'" in response["Content-Security-Policy"]
        text = response.text
        assert re.findall(r"<script(?![^>]*\bsrc=)", text) == []
        assert " style=" not in text and "<style" not in text and " on" + "load=" not in text
        assert 'src="https://video.example.cn/a.mp4"' in text and "data-study-video" in text


@pytest.mark.fast_paths
def test_a_cached_lecture_page_costs_three_queries_and_one_cache_read(
    official_client, lecture, django_assert_max_num_queries, monkeypatch
):
    """Session, user, and the lecture with the reader's study state; the Site, the
    view-restriction answer, the back-office answer and the shell in one cache read."""
    from django.core.cache import cache

    official_client.get(lecture.url)
    official_client.get(lecture.url)
    reads, inside = [], []
    get, get_many = cache.get, cache.get_many

    def counted_get(*args, **kwargs):
        if not inside:  # the in-memory cache's get_many calls get for each key
            reads.append(args)
        return get(*args, **kwargs)

    def counted_get_many(keys, *args, **kwargs):
        reads.append(keys)
        inside.append(True)
        try:
            return get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(cache, "get", counted_get)
    monkeypatch.setattr(cache, "get_many", counted_get_many)
    with django_assert_max_num_queries(3):
        response = official_client.get(lecture.url)
    assert response.status_code == 200 and "保密法专题讲座" in response.text
    assert len(reads) == 1, reads
