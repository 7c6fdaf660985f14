"""Demo publicity content: posters drawn with Pillow, idempotent loaders."""

import io

import pytest
from PIL import Image

from content import demo
from content.models import Playlist, PublicityItem, Screen

pytestmark = pytest.mark.django_db


def test_demo_screens_are_created_once():
    assert demo.load_publicity_items() == 8
    assert demo.load_screens() == 4
    assert demo.load_publicity_items() == 0
    assert demo.load_screens() == 0
    assert PublicityItem.objects.filter(live=True).count() == 8
    assert set(PublicityItem.objects.values_list("kind", flat=True)) == {
        "poster",
        "text_card",
        "quotation",
        "data_screen",
    }
    lobby = Screen.objects.get(name="大厅电子屏")
    canteen = Screen.objects.get(name="食堂电子屏")
    assert lobby.orientation == "landscape" and canteen.orientation == "portrait"
    default = Playlist.objects.get(is_default=True)
    assert default.entries.count() == 7
    assert default.ticker_lines == demo.TICKER
    lunch = canteen.playlist_assignments.order_by("-priority").first()
    assert lunch.playlist.name == "食堂午餐时段" and lunch.starts_at is not None


def test_demo_items_validate():
    demo.load_publicity_items()
    for item in PublicityItem.objects.all():
        item.full_clean()


def test_demo_screens_play(client):
    demo.load_publicity_items()
    demo.load_screens()
    for screen in Screen.objects.all():
        data = client.get(f"/screens/{screen.token}/playlist.json").json()
        assert data["items"]


@pytest.mark.parametrize("has_font", [True, False])
def test_poster_is_drawn_with_or_without_a_cjk_font(monkeypatch, has_font):
    if not has_font:
        monkeypatch.setattr(demo, "cjk_font_path", lambda: None)
    elif demo.cjk_font_path() is None:
        pytest.skip("no CJK font installed")
    data = demo.draw_poster(((150, 20, 20), (200, 40, 30)), "宪法", ["宪法是国家的根本法"])
    image = Image.open(io.BytesIO(data))
    assert image.size == (1200, 1700)
