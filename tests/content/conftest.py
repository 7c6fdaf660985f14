import io

from django.core.files.images import ImageFile

import pytest

from .factories import PlaylistEntryFactory, ScreenFactory, ScreenPlaylistFactory


def make_image(title="挂图", size=(60, 80)):
    from wagtail.images import get_image_model

    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(buffer.getvalue()), name="poster.png")
    )


@pytest.fixture(autouse=True)
def _forget_playlist_documents():
    """Built playlist documents are kept per process; tests start without them."""
    from content import screens

    screens.forget_documents()
    yield
    screens.forget_documents()


@pytest.fixture
def screen(db):
    """A screen with one playlist of two text cards."""
    screen = ScreenFactory()
    assignment = ScreenPlaylistFactory(screen=screen)
    PlaylistEntryFactory(playlist=assignment.playlist, item__title="第一张")
    PlaylistEntryFactory(playlist=assignment.playlist, item__title="第二张")
    return screen
