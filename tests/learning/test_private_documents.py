"""Uploaded documents and images are private (learning/media.py): a lecture's files
go to those who may open the lecture, every file to back-office users, and nothing
is served from the media folder by its storage address.

Outcomes: signed out → the sign-in page, with the file as `next`; an official the
file is not for → 403; Word files download as attachments, PDFs (and text, video)
open in the browser (WAGTAILDOCS_INLINE_CONTENT_TYPES)."""

import io
import re
from urllib.parse import quote

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from django.views import static

from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import PageViewRestriction

import pytest
from PIL import Image as PILImage

from learning import media
from tests.factories import OfficialFactory, UserFactory

from .factories import make_lecture, make_series

pytestmark = pytest.mark.django_db

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def media_on_disk(settings, tmp_path):
    """Files on disk under MEDIA_ROOT, as in development and on a shared volume
    (the test settings otherwise keep media in memory)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def make_document(name="讲义.docx", content=b"PK\x03\x04 handout"):
    document = get_document_model()(title=name)
    document.file.save(name, ContentFile(content), save=False)
    document.save()
    return document


def make_image(title="示意图"):
    buffer = io.BytesIO()
    PILImage.new("RGB", (800, 450), (30, 90, 200)).save(buffer, format="PNG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(buffer.getvalue()), name="diagram.png")
    )


def restrict_to(page, group_name):
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.set([Group.objects.get_or_create(name=group_name)[0]])
    return restriction


def sign_in_url(url):
    return f"{reverse('account_login')}?next={quote(url, safe='/')}"


def content_of(response):
    return b"".join(response.streaming_content)


@pytest.fixture
def handout():
    return make_document()


@pytest.fixture
def lecture_with_handout(index, handout):
    return make_lecture("保密法讲座", parent=index, body=[("document", {"document": handout})])


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


# --- documents ------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client, lecture_with_handout, handout):
    response = client.get(handout.url)
    assert response.status_code == 302
    assert response["Location"] == sign_in_url(handout.url)


def test_an_official_of_the_audience_downloads_a_word_file_as_an_attachment(
    official_client, lecture_with_handout, handout
):
    response = official_client.get(handout.url)
    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    assert response["Content-Disposition"].startswith("attachment;")
    assert content_of(response) == b"PK\x03\x04 handout"
    # Checked per person: no shared cache may keep it.
    assert "private" in response["Cache-Control"]


def test_a_pdf_opens_in_the_browser(official_client, index):
    slides = make_document("课件.pdf", b"%PDF-1.4\n")
    make_lecture("民法典讲座", parent=index, body=[("document", {"document": slides})])
    response = official_client.get(slides.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_an_official_outside_a_restricted_lecture_gets_403(client, index, handout):
    lecture = make_lecture("领导干部专题", parent=index, body=[("document", {"document": handout})])
    restrict_to(lecture, "领导干部")
    outsider = OfficialFactory().user
    client.force_login(outsider)
    assert client.get(handout.url).status_code == 403
    outsider.groups.add(Group.objects.get(name="领导干部"))
    assert client.get(handout.url).status_code == 200


def test_a_restriction_on_the_series_covers_its_lectures_documents(
    official_client, official, index, handout
):
    series = make_series("领导干部专题", parent=index)
    make_lecture("党内法规", parent=series, body=[("document", {"document": handout})])
    assert official_client.get(handout.url).status_code == 200
    restrict_to(series, "领导干部")
    assert official_client.get(handout.url).status_code == 403


def test_any_lecture_the_official_may_open_is_enough(official_client, index, handout):
    restricted = make_lecture("限定讲座", parent=index, body=[("document", {"document": handout})])
    restrict_to(restricted, "领导干部")
    assert official_client.get(handout.url).status_code == 403
    make_lecture("公开讲座", parent=index, body=[("document", {"document": handout})])
    assert official_client.get(handout.url).status_code == 200


def test_a_password_lecture_opens_its_documents_once_the_password_was_given(
    official_client, index, handout
):
    lecture = make_lecture("内部讲座", parent=index, body=[("document", {"document": handout})])
    restriction = PageViewRestriction.objects.create(
        page=lecture, restriction_type=PageViewRestriction.PASSWORD, password="neibu"
    )
    assert official_client.get(handout.url).status_code == 403
    response = official_client.post(
        reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, lecture.pk]),
        {"password": "neibu", "return_url": lecture.url},
    )
    assert response.status_code == 302
    assert official_client.get(handout.url).status_code == 200


def test_back_office_users_have_every_document(client, organizer, hr_user, index, handout):
    lecture = make_lecture("领导干部专题", parent=index, body=[("document", {"document": handout})])
    restrict_to(lecture, "领导干部")
    unused = make_document("通知.docx")
    for user in (organizer, hr_user, UserFactory(is_superuser=True)):
        client.force_login(user)
        assert client.get(handout.url).status_code == 200
        assert client.get(unused.url).status_code == 200


def test_a_document_no_lecture_uses_is_for_back_office_users_only(official_client, organizer):
    """A publicity video, a file uploaded and not yet placed: officials get 403."""
    unused = make_document("宣传片.docx")
    assert official_client.get(unused.url).status_code == 403
    back_office = Client()
    back_office.force_login(organizer)
    assert back_office.get(unused.url).status_code == 200
    assert Client().get(unused.url)["Location"] == sign_in_url(unused.url)


def test_only_the_published_lecture_counts(official_client, index, handout):
    draft = make_lecture("草稿讲座", parent=index, live=False)
    draft.body = [("document", {"document": handout})]
    draft.save_revision()
    assert official_client.get(handout.url).status_code == 403
    lecture = make_lecture("讲座", parent=index, body=[("document", {"document": handout})])
    assert official_client.get(handout.url).status_code == 200
    lecture.body = []  # a new revision without the handout, published
    lecture.save_revision().publish()
    assert official_client.get(handout.url).status_code == 403


def test_an_unpublished_lecture_no_longer_opens_its_documents(
    official_client, lecture_with_handout, handout
):
    assert official_client.get(handout.url).status_code == 200
    lecture_with_handout.unpublish()
    assert official_client.get(handout.url).status_code == 403


def test_a_document_linked_from_the_text_counts_as_used(official_client, index, handout):
    link = f'<p>请下载<a linktype="document" id="{handout.pk}">讲义</a>。</p>'
    make_lecture("讲座", parent=index, body=[("paragraph", link)])
    assert official_client.get(handout.url).status_code == 200


def test_a_wrong_file_name_or_id_is_404_for_everyone(client, organizer, lecture_with_handout):
    handout = get_document_model().objects.get()
    for url in (f"/documents/{handout.pk}/other.docx", f"/documents/{handout.pk + 1}/x.docx"):
        assert client.get(url).status_code == 404
        client.force_login(organizer)
        assert client.get(url).status_code == 404
        client.logout()


# --- images ---------------------------------------------------------------------------


@pytest.fixture
def diagram():
    return make_image()


@pytest.fixture
def lecture_with_diagram(index, diagram):
    return make_lecture("图解民法典", parent=index, body=[("image", {"image": diagram})])


def image_urls(page_html):
    """The rendition addresses of a page's <img> tags (src and srcset)."""
    found = re.findall(r'(?:src|srcset)="([^"]+)"', page_html)
    return {part.split()[0] for value in found for part in value.split(",")} - {""}


@pytest.mark.fast_paths
def test_a_lectures_images_are_shown_to_its_readers(
    official_client, lecture_with_diagram, django_assert_max_num_queries
):
    urls = {u for u in image_urls(official_client.get(lecture_with_diagram.url).text)}
    urls = {u for u in urls if u.startswith("/media/images/")}
    assert len(urls) == 3  # 360, 720 and 1080 wide
    for url in urls:
        # Session and user, the rendition, the lectures using its image; no restriction
        # exists anywhere, which the cache knows.
        with django_assert_max_num_queries(4):
            response = official_client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == "inline"
        assert response["Cache-Control"] == f"private, max-age={media.MAX_AGE}"
        assert content_of(response).startswith(b"\x89PNG")


def test_a_video_poster_is_shown_to_the_lectures_readers(official_client, index, diagram):
    lecture = make_lecture(
        "保密警示教育片",
        parent=index,
        body=[("video", {"url": "https://v.cn/b.mp4", "poster": diagram})],
    )
    html = official_client.get(lecture.url).text
    poster = re.search(r'poster="([^"]+)"', html).group(1)
    assert official_client.get(poster).status_code == 200


def test_image_refusals(client, lecture_with_diagram, diagram):
    url = diagram.get_rendition("width-720").url
    assert client.get(url)["Location"] == sign_in_url(url)
    restrict_to(lecture_with_diagram, "领导干部")
    client.force_login(OfficialFactory().user)
    assert client.get(url).status_code == 403
    poster = make_image("宪法挂图")  # a publicity poster: no lecture uses it
    assert client.get(poster.get_rendition("width-720").url).status_code == 403


def test_back_office_users_see_every_image(organizer_client, diagram):
    assert organizer_client.get(diagram.get_rendition("max-165x165").url).status_code == 200


def test_an_unknown_rendition_is_404(official_client, lecture_with_diagram):
    assert official_client.get("/media/images/nothing.width-360.png").status_code == 404


# --- nothing by its storage address --------------------------------------------------


def test_documents_and_originals_are_not_served_from_the_media_folder(
    client, superuser, media_on_disk, lecture_with_handout, handout, diagram
):
    """Even when the file is on disk under MEDIA_ROOT, as in development."""
    assert (media_on_disk / handout.file.name).is_file()
    assert (media_on_disk / diagram.file.name).is_file()
    urls = [
        handout.file.url,  # /media/documents/讲义.docx
        diagram.file.url,  # /media/original_images/diagram.png
        "/media/../db.sqlite3",
    ]
    assert handout.file.url.startswith("/media/documents/")
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.force_login(superuser)
    for url in [*urls, f"/media/images/../{handout.file.name}"]:
        assert client.get(url).status_code == 404, url


def test_no_route_serves_a_folder_of_files():
    """django.views.static.serve (what `static(MEDIA_URL, …)` adds in development)
    is never routed: every file passes a view that checks who asks."""

    def callbacks(resolver):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLPattern):
                yield pattern.callback
            else:
                yield from callbacks(pattern)

    assert static.serve not in set(callbacks(get_resolver()))


def test_documents_are_served_through_the_app():
    from django.conf import settings

    assert settings.WAGTAILDOCS_SERVE_METHOD == "serve_view"


def test_the_demo_officials_download_the_secrecy_leaflet(client):
    """The demo's lectures, made as `load_demo_data` makes them, are found through the
    reference index: the 明白纸 of 学习贯彻《保密法》 downloads for the demo official."""
    from learning import demo, demo_lectures

    demo.load_departments()
    demo.load_people()
    demo_lectures.load_topics_and_speakers()
    demo_lectures.load_lectures()
    leaflet = get_document_model().objects.get(title="保密相关规定明白纸")
    client.force_login(UserFactory._meta.model.objects.get(username="official"))
    response = client.get(leaflet.url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")  # text/plain
