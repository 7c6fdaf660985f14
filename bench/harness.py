"""What the gunicorn benchmarks share: a throwaway database with the demo data, the
app under gunicorn on a free loopback port with a bench-only URLconf that adds a
bare view, keep-alive HTTP sessions with cookies, and a timed concurrent load."""

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEMO_PASSWORD = "xuefa-demo"  # noqa: S105 - the documented demo-only password

# Production settings, as deployed: Redis cache, database sessions, whitenoise,
# the cached template loader. Only what a loopback bench cannot have differs: plain
# HTTP (no secure cookies or SSL redirect, set through the environment in
# bench_env) and unhashed static names (no collectstatic in a throwaway folder).
BENCH_SETTINGS = """
from xuefa.settings.production import *  # noqa

ROOT_URLCONF = "bench_urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Many requests per second from one client address: keep allauth's login limits
# out of the way of the sign-ins the bench makes.
ACCOUNT_RATE_LIMITS = False
if REDIS_URL:
    # A key prefix of its own, so a run never sees another run's cached pages.
    CACHES["default"]["KEY_PREFIX"] = "xuefa-bench-{run}"
"""

# The bare view only exists in this URLconf, written to a temporary folder, so the
# site itself carries no bench-only code.
BENCH_URLS = """
from django.http import HttpResponse
from django.urls import path

from xuefa.urls import urlpatterns as site_urlpatterns


def bare(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *site_urlpatterns]
"""
BARE_PATH = "/bench/bare/"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HttpSession:
    """A keep-alive HTTP connection with cookies, enough for Django forms."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def clone(self):
        """Another connection carrying the same cookies (the same signed-in user)."""
        other = HttpSession(self.port)
        other.cookies = dict(self.cookies)
        return other

    def csrf_headers(self):
        return {
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Referer": f"http://127.0.0.1:{self.port}/",
        }


def form_token(page):
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()


def sign_in(port, username, password=DEMO_PASSWORD):
    session = HttpSession(port)
    _status, page = session.request("GET", "/accounts/login/")
    status, _ = session.request(
        "POST",
        "/accounts/login/",
        {"login": username, "password": password, "csrfmiddlewaretoken": form_token(page)},
        {"Referer": f"http://127.0.0.1:{port}/accounts/login/"},
    )
    if status != 302:
        raise SystemExit(f"Sign-in of {username} failed with status {status}")
    return session


def run_in_django(env, code):
    """Run Python code with Django set up against the bench database; its stdout."""
    out = subprocess.run(
        [PYTHON, "-c", "import django; django.setup()\n" + code],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def bench_env(workdir):
    """The environment for the bench's Django processes: the bench settings and
    URLconf written to `workdir`, production settings' required variables, Redis
    (REDIS_URL, default the local server; REDIS_URL="" for local memory and database
    sessions) and DATABASE_URL (default a temporary SQLite database)."""
    workdir = Path(workdir)
    (workdir / "bench_settings.py").write_text(BENCH_SETTINGS.replace("{run}", workdir.name))
    (workdir / "bench_urls.py").write_text(BENCH_URLS)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(ROOT), env.get("PYTHONPATH", "")])
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["GUNICORN_ACCESS_LOG"] = os.devnull  # the project's gunicorn.conf.py, minus access logs
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.setdefault("SECRET_KEY", "bench-only-secret")
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    env["SECURE_SSL_REDIRECT"] = "false"
    env["SECURE_COOKIES"] = "false"
    return env


def describe(env):
    redis = env.get("REDIS_URL") or "none (local memory cache, database sessions)"
    print(f"Database: {env['DATABASE_URL'].split('@')[-1]}; Redis: {redis}", flush=True)


@contextmanager
def served_app(workers):
    """Yield (port, env) of the app under gunicorn with the demo data loaded.
    Uses DATABASE_URL when set, otherwise a temporary SQLite database."""
    workdir = Path(tempfile.mkdtemp(prefix="xuefa-bench-"))
    env = bench_env(workdir)
    describe(env)
    manage = [PYTHON, str(ROOT / "manage.py")]
    quiet = {"env": env, "cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = None
    try:
        subprocess.run([*manage, "migrate", "--noinput"], check=True, **quiet)
        subprocess.run([*manage, "load_demo_data"], check=True, **quiet)
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "xuefa.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port, env
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


def measure(loops, seconds, label=""):
    """Run each loop (a callable making one request and returning its status) in its
    own thread for `seconds`; requests per second and latency percentiles in ms."""
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run(one_request):
        mine = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status = one_request()
            mine.append((time.perf_counter() - start) * 1000)
            if status != 200:
                errors.append(status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(loop,)) for loop in loops]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{label}: {len(errors)} non-200 responses, e.g. {errors[:5]}")
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)],
        "count": len(latencies),
    }
