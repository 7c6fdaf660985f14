"""Private uploads in Chromium: a signed-in official's lecture shows its images and
downloads its handout through the checked views, a lobby screen shows its poster
through its token, and neither needs a public media folder or a wider policy."""

import io

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile

import pytest

from tests.factories import DEFAULT_PASSWORD

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def media_on_disk(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path


def make_image(title, colour):
    from wagtail.images import get_image_model

    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (640, 360), colour).save(buffer, format="PNG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(buffer.getvalue()), name=f"{title}.png")
    )


def loaded_images(page, selector):
    return page.locator(selector).evaluate_all(
        "images => images.filter(i => i.complete && i.naturalWidth > 0).length"
    )


def test_an_official_sees_a_lectures_images_and_downloads_its_handout(
    page, live_server, media_on_disk
):
    from wagtail.documents import get_document_model

    from tests.factories import OfficialFactory
    from tests.learning.factories import make_lecture

    OfficialFactory(user__username="reader")
    handout = get_document_model()(title="讲义")
    handout.file.save("handout.docx", ContentFile(b"PK\x03\x04 handout"), save=False)
    handout.save()
    lecture = make_lecture(
        "图解民法典",
        slug="illustrated",
        body=[
            ("image", {"image": make_image("diagram", (30, 90, 200))}),
            ("document", {"document": handout, "title": "下载讲义"}),
        ],
    )
    sign_in(page, live_server, "reader", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}{lecture.url}")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.lecture-image img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert loaded_images(page, ".lecture-image img") == 1
    with page.expect_download() as download:
        page.click("text=下载讲义")
    assert download.value.suggested_filename == "handout.docx"


def test_a_screen_shows_its_poster_through_its_token(page, live_server, media_on_disk, settings):
    from tests.content.factories import (
        PlaylistEntryFactory,
        PublicityItemFactory,
        ScreenPlaylistFactory,
    )

    settings.XUEFA_SCREEN_POLL_SECONDS = 1
    assignment = ScreenPlaylistFactory()
    poster = PublicityItemFactory(
        kind="poster", image=make_image("poster", (200, 30, 30)), title="宪法挂图"
    )
    PlaylistEntryFactory(playlist=assignment.playlist, item=poster, duration=30)
    page.goto(f"{live_server.url}{assignment.screen.get_player_url()}")
    page.wait_for_function(
        "() => { const i = document.querySelector('.slide.is-shown img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    src = page.locator(".slide.is-shown img").get_attribute("src")
    assert src.startswith(f"/screens/{assignment.screen.token}/media/images/")
