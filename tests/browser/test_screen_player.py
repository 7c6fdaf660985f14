"""The publicity screen player in Chromium: it advances through its playlist, keeps
playing from its cache when the server is taken away (even across a reload), and
reports what it played once the server is back.

The browser reaches the live server through a relay on a port of its own, so the
test can really take the server away (connections refused and cut, as when a
screen loses its network) and bring it back on the same address."""

import contextlib
import select
import socket
import socketserver
import threading
import time

from django.utils import timezone

import pytest

from content import screens
from content.models import PlayLog, Screen
from tests.content.factories import (
    PlaylistEntryFactory,
    PublicityItemFactory,
    ScreenFactory,
    ScreenPlaylistFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TITLES = ["宪法卡片", "民法典卡片", "保密法卡片"]


class Outage:
    """A TCP relay between the browser and the live server. Stopping it refuses new
    connections and cuts open ones, as when a screen's network or server goes away;
    starting it again on the same port brings the server back."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.port = free_port()
        self.server = None
        self.connections = set()
        self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        outage = self

        class Relay(socketserver.BaseRequestHandler):
            def handle(self):
                upstream = socket.create_connection(("127.0.0.1", outage.target_port))
                outage.connections.update({self.request, upstream})
                sockets = [self.request, upstream]
                try:
                    while True:
                        readable, _, _ = select.select(sockets, [], [], 1)
                        for sock in readable:
                            data = sock.recv(65536)
                            if not data:
                                return
                            (upstream if sock is self.request else self.request).sendall(data)
                except OSError:
                    return
                finally:
                    upstream.close()
                    outage.connections.difference_update({self.request, upstream})

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Relay)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        for sock in list(self.connections):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.server = None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def current_title(page):
    return page.evaluate(
        "() => { const s = document.querySelector('.slide.is-shown[data-title]');"
        " return s ? s.dataset.title : null; }"
    )


def watch_titles(page, count, timeout=30):
    """Titles shown, in order of first appearance, until `count` distinct ones."""
    seen = []
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        title = current_title(page)
        if title and title not in seen:
            seen.append(title)
        time.sleep(0.2)
    return seen


@pytest.fixture
def screen(settings):
    settings.XUEFA_SCREEN_POLL_SECONDS = 1
    screen = ScreenFactory(name="大厅")
    assignment = ScreenPlaylistFactory(screen=screen)
    for title in TITLES:
        item = PublicityItemFactory(title=title, headline=title, points="要点一\n要点二")
        PlaylistEntryFactory(playlist=assignment.playlist, item=item, duration=2)
    quote = PublicityItemFactory(
        title="宪法第五条",
        kind="quotation",
        headline="中华人民共和国宪法",
        quote="中华人民共和国实行依法治国，建设社会主义法治国家。",
        citation="《中华人民共和国宪法》第五条",
    )
    PlaylistEntryFactory(playlist=assignment.playlist, item=quote, duration=2)
    return screen


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1080, 1920)])
def test_player_keeps_playing_offline_and_reports_on_return(
    page, live_server, screen, width, height
):
    if height > width:
        Screen.objects.filter(pk=screen.pk).update(orientation="portrait")
    server = Outage(live_server.thread.port)
    url = f"{server.url}{screen.get_player_url()}"
    page.set_viewport_size({"width": width, "height": height})
    try:
        page.goto(url)
        assert len(watch_titles(page, 3)) == 3
        page.wait_for_function(
            "() => navigator.serviceWorker && navigator.serviceWorker.controller"
        )
        # Nothing overflows the screen and there is nothing to navigate to.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.locator("a, nav").count() == 0
        if height > width:
            assert "screen-portrait" in page.evaluate("document.documentElement.className")

        server.stop()
        page.wait_for_function(
            "() => document.documentElement.dataset.online === 'no'", timeout=15000
        )
        assert len(watch_titles(page, 3)) == 3

        page.reload()
        assert page.locator("#stage").count() == 1
        assert len(watch_titles(page, 3)) == 3
        backlog = page.evaluate(
            "() => JSON.parse(localStorage.getItem("
            "JSON.parse(document.getElementById('screen-config').textContent).storageKey"
            " + ':plays') || '[]')"
        )
        assert backlog, "plays made offline are kept to report later"
        stopped_at = timezone.now()

        server.start()
        page.wait_for_function(
            "() => document.documentElement.dataset.playsReported", timeout=20000
        )
        page.wait_for_function("() => document.documentElement.dataset.online === 'yes'")
        screen.refresh_from_db()
        screens.apply_cached_status([screen])  # as the admin reads it: cache first
        assert screen.last_seen_at >= stopped_at
        assert PlayLog.objects.filter(screen=screen, started_at__lt=stopped_at).exists()
        assert screen.last_item is not None
        assert screen.last_item.title in [*TITLES, "宪法第五条"]
        assert len(watch_titles(page, 2)) == 2
    finally:
        # Stop the player before the database is reset under the live server.
        page.goto("about:blank")
        server.stop()


def test_revoked_screen_forgets_its_playlist(page, live_server, screen):
    server = Outage(live_server.thread.port)
    try:
        page.goto(f"{server.url}{screen.get_player_url()}")
        assert len(watch_titles(page, 2)) == 2
        page.wait_for_function(
            "() => navigator.serviceWorker && navigator.serviceWorker.controller"
        )
        screen.rotate_token()
        # The next poll gets 404: the player wipes its caches and reloads to the 404.
        page.wait_for_function(
            "() => !document.getElementById('stage')", timeout=20000, polling=500
        )
        assert "Not Found" in page.content()
    finally:
        # Stop the player before the database is reset under the live server.
        page.goto("about:blank")
        server.stop()


def test_lecture_highlight_slide_shows_the_lecture_and_its_qr_code(page, live_server, settings):
    from tests.learning.factories import SpeakerFactory, make_lecture

    settings.XUEFA_SCREEN_POLL_SECONDS = 1
    lecture = make_lecture(
        title="民法典与政府工作", speakers=[SpeakerFactory(name="王教授")], summary="依法行政"
    )
    assignment = ScreenPlaylistFactory(screen=ScreenFactory(name="大厅"))
    highlight = PublicityItemFactory(kind="lecture", lecture=lecture, title="课堂推荐")
    PlaylistEntryFactory(playlist=assignment.playlist, item=highlight, duration=30)
    try:
        page.goto(f"{live_server.url}{assignment.screen.get_player_url()}")
        slide = page.locator(".slide.is-shown .slide-lecture")
        slide.wait_for(timeout=15000)
        assert "民法典与政府工作" in slide.inner_text()
        assert "王教授" in slide.inner_text()
        page.wait_for_function(
            "document.querySelector('.slide.is-shown .slide-lecture img').naturalWidth > 0"
        )
        assert lecture.url in slide.locator("figcaption").inner_text()
    finally:
        page.goto("about:blank")
