"""Lecture pages: hierarchy, who sees what, listing filters and rendering."""

import datetime

from django.urls import reverse

from wagtail.models import Page
from wagtail.test.utils import WagtailTestUtils  # noqa: F401 - documents the page-rule helpers

import pytest

from learning.models import LectureIndexPage, LecturePage, LectureSeriesPage

from .factories import LawTopicFactory, SpeakerFactory, make_lecture, make_series

pytestmark = pytest.mark.django_db


def test_page_hierarchy_rules():
    assert LectureIndexPage.allowed_parent_page_models() == [
        Page.objects.get(depth=2).specific_class
    ]
    # observations.CasePage (以案释法) is a lecture the index and series also take.
    assert {m._meta.label for m in LectureIndexPage.allowed_subpage_models()} == {
        "learning.LecturePage",
        "learning.LectureSeriesPage",
        "observations.CasePage",
    }
    assert set(LectureSeriesPage.allowed_parent_page_models()) == {LectureIndexPage}
    assert {m._meta.label for m in LectureSeriesPage.allowed_subpage_models()} == {
        "learning.LecturePage",
        "observations.CasePage",
    }
    assert set(LecturePage.allowed_parent_page_models()) == {LectureIndexPage, LectureSeriesPage}
    assert LecturePage.allowed_subpage_models() == []


def test_lecture_cannot_be_created_under_home(index):
    home = index.get_parent().specific
    assert not LecturePage.can_create_at(home)
    assert LecturePage.can_create_at(index)


def test_index_is_served_at_lectures(official_client, index):
    response = official_client.get("/lectures/")
    assert response.status_code == 200
    assert response.context["page"].pk == index.pk


def test_anonymous_is_sent_to_sign_in(client, lecture):
    response = client.get(lecture.url)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_official_sees_live_lecture(official_client, lecture):
    response = official_client.get(lecture.url)
    assert response.status_code == 200
    assert "保密法专题讲座" in response.text
    assert reverse("learning:heartbeat", args=[lecture.pk]) in response.text


def test_official_cannot_see_draft(official_client, index):
    draft = make_lecture("尚未发布的讲座", parent=index, live=False)
    assert official_client.get(draft.url or f"/lectures/{draft.slug}/").status_code == 404
    listing = official_client.get("/lectures/")
    assert "尚未发布的讲座" not in listing.text


def test_official_cannot_see_unpublished_lecture(official_client, lecture):
    lecture.unpublish()
    assert official_client.get(f"/lectures/{lecture.slug}/").status_code == 404


def test_official_cannot_preview(official_client, index):
    draft = make_lecture("草稿", parent=index, live=False)
    response = official_client.get(f"/admin/pages/{draft.pk}/edit/preview/")
    assert response.status_code == 403


def test_scheduled_lecture_is_not_live_until_published(official_client, index):
    from django.utils import timezone

    draft = make_lecture("定时发布的讲座", parent=index, live=False)
    draft.go_live_at = timezone.now() + datetime.timedelta(days=1)
    draft.save_revision().publish()
    draft.refresh_from_db()
    assert not draft.live
    assert draft.latest_revision.approved_go_live_at is not None
    assert official_client.get(f"/lectures/{draft.slug}/").status_code == 404


def test_listing_filters_by_topic_and_year(official_client, index):
    civil = LawTopicFactory(name="民法典", slug="civil-code")
    secrecy = LawTopicFactory(name="保密法", slug="secrecy")
    make_lecture("民法典总则", parent=index, topics=[civil], date=datetime.date(2020, 6, 1))
    make_lecture("保密法要点", parent=index, topics=[secrecy], date=datetime.date(2026, 2, 1))
    by_topic = official_client.get("/lectures/", {"topic": "civil-code"})
    assert "民法典总则" in by_topic.text and "保密法要点" not in by_topic.text
    by_year = official_client.get("/lectures/", {"year": "2026"})
    assert "保密法要点" in by_year.text and "民法典总则" not in by_year.text
    nonsense = official_client.get("/lectures/", {"year": "abc", "topic": "nope", "page": "x"})
    assert nonsense.status_code == 200
    assert "民法典总则" in nonsense.text and "保密法要点" in nonsense.text


def test_listing_paginates(official_client, index, settings):
    settings.XUEFA_LECTURES_PER_PAGE = 2
    for n in range(5):
        make_lecture(f"讲座{n}", parent=index, date=datetime.date(2026, 1, n + 1))
    first = official_client.get("/lectures/")
    assert len(first.context["lectures"]) == 2
    last = official_client.get("/lectures/", {"page": "3"})
    assert [lec.title for lec in last.context["lectures"]] == ["讲座0"]


def test_series_lists_its_lectures(official_client, index):
    series = make_series("民法典专题", parent=index, slug="civil-code-series")
    make_lecture("民法典物权编", parent=series)
    make_lecture("行政处罚法", parent=index)
    response = official_client.get(series.url)
    assert "民法典物权编" in response.text and "行政处罚法" not in response.text
    assert "民法典专题" in official_client.get("/lectures/").text


def test_lecture_body_blocks_render(official_client, index):
    speaker = SpeakerFactory(name="付士成")
    lecture = make_lecture(
        "重大行政决策程序",
        parent=index,
        speakers=[speaker],
        occasion="区政府常务会",
        body=[
            ("heading", "一、决策程序"),
            ("paragraph", "<p>公众参与、专家论证。</p>"),
            (
                "law_article",
                {"text": "作出重大行政决策应当遵循科学决策原则。", "citation": "条例第三条"},
            ),
            ("video", {"url": "https://video.example.cn/a.mp4", "caption": "讲座视频"}),
        ],
    )
    response = official_client.get(lecture.url)
    assert response.status_code == 200
    text = response.text
    assert '<h2 class="lecture-heading">一、决策程序</h2>' in text
    assert "<cite>条例第三条</cite>" in text
    assert 'src="https://video.example.cn/a.mp4"' in text
    assert "data-study-video" in text
    assert "付士成" in text and "区政府常务会" in text


def test_video_block_needs_exactly_one_source():
    from django.core.exceptions import ValidationError

    from learning.blocks import VideoBlock

    block = VideoBlock()
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"caption": "无来源"}))
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"url": "https://a.cn/a.mp4", "embed": "https://v.cn/x"}))
    assert block.clean(block.to_python({"url": "https://a.cn/a.mp4"}))["url"]


def test_image_block_uses_phone_sized_renditions(official_client, index):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    image = Image.objects.create(title="挂图", file=get_test_image_file(size=(1600, 900)))
    lecture = make_lecture("挂图讲座", parent=index, body=[("image", {"image": image})])
    text = official_client.get(lecture.url).text
    assert (
        "srcset=" in text and "360w" in text and 'sizes="(max-width: 760px) 100vw, 720px"' in text
    )


def test_organizer_can_edit_lecture_in_admin(client, organizer, lecture):
    client.force_login(organizer)
    assert client.get(f"/admin/pages/{lecture.pk}/edit/").status_code == 200
    assert (
        client.get(f"/admin/pages/add/learning/lecturepage/{lecture.get_parent().pk}/").status_code
        == 200
    )


def test_officials_never_reach_the_admin(official_client, lecture):
    assert official_client.get(f"/admin/pages/{lecture.pk}/edit/").status_code == 403


def test_uploaded_video_and_slides_are_served_with_their_content_types(
    official_client, settings, tmp_path, index
):
    from django.core.files.base import ContentFile

    # Documents are served from files on disk (the test settings keep media in memory).
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = str(tmp_path)

    from wagtail.documents.models import Document

    video = Document(title="保密警示教育片")
    video.file.save("film.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"), save=False)
    video.save()
    slides = Document(title="课件")
    slides.file.save("slides.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    slides.save()
    # Documents are private: an official has those of the lectures they may open.
    make_lecture(
        "保密法讲座",
        parent=index,
        body=[("video", {"document": video}), ("document", {"document": slides})],
    )
    response = official_client.get(video.url)
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"].startswith("inline")
    assert official_client.get(slides.url)["Content-Type"] == "application/pdf"


def test_lectures_in_a_series_are_routed_and_drafts_are_not(official_client, index):
    series = make_series("民法典专题", parent=index, slug="civil-code-series")
    lecture = make_lecture("民法典合同编", parent=series, slug="contracts")
    make_lecture("民法典草稿", parent=series, live=False, slug="draft")
    response = official_client.get("/lectures/civil-code-series/contracts/")
    assert response.status_code == 200 and response.context["page"].pk == lecture.pk
    assert "民法典专题" in response.text  # breadcrumb back to the series
    assert official_client.get("/lectures/civil-code-series/draft/").status_code == 404
    assert official_client.get("/lectures/civil-code-series/nothing/").status_code == 404
