"""Lecture page and study heartbeat throughput against a bare Django view.

Serves the app with gunicorn (one configuration for every target) on a free
loopback port, signs in the demo official, and for each target runs concurrent
keep-alive clients for a fixed time:

  bare       a view returning "ok" through the full middleware stack
  lecture    a lecture page (Wagtail routing, StreamField, study record)
  heartbeat  POST to the study heartbeat (credits time, compare-and-set UPDATE)

It prints requests per second, latency percentiles and the ratios to the bare view
(targets: lecture >= 0.5, heartbeat >= 0.7). The bare view only exists in a bench
URLconf written to a temporary folder, so the site itself has no bench-only code.

    .venv/bin/python bench/lecture_throughput.py [--seconds 10] [--clients 8] [--workers 2]

Uses DATABASE_URL when set (PostgreSQL recommended); otherwise a temporary SQLite
database is created, migrated and loaded with the demo data.
"""

import argparse
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
USERNAME = "official"
PASSWORD = "xuefa-demo"  # noqa: S105 - the documented demo password
LECTURE_PATH = "/lectures/constitution/"

BENCH_SETTINGS = """
import os
from xuefa.settings.base import *  # noqa

SECRET_KEY = "bench-only-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench_urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Many requests per second from one client address: keep allauth's login limits
# out of the way of the single sign-in the bench makes.
ACCOUNT_RATE_LIMITS = False
"""

BENCH_URLS = """
from django.http import HttpResponse
from django.urls import path

from xuefa.urls import urlpatterns as site_urlpatterns


def bare(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *site_urlpatterns]
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
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
        other = Session(self.port)
        other.cookies = dict(self.cookies)
        return other


def sign_in(port):
    session = Session(port)
    status, page = session.request("GET", "/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    status, _ = session.request(
        "POST",
        "/accounts/login/",
        {"login": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
        {"Referer": f"http://127.0.0.1:{port}/accounts/login/"},
    )
    if status != 302:
        raise SystemExit(f"Sign-in failed with status {status}")
    return session


def measure(session, method, path, seconds, clients, body=None, headers=None):
    """Requests per second and latencies (ms) of `clients` concurrent keep-alive loops."""
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop():
        own = session.clone()
        mine = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status, _ = own.request(method, path, body, headers)
            mine.append((time.perf_counter() - start) * 1000)
            if status != 200:
                errors.append(status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{path}: {len(errors)} non-200 responses, e.g. {errors[:5]}")
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p95": latencies[int(len(latencies) * 0.95) - 1],
        "count": len(latencies),
    }


def run(args):
    workdir = Path(tempfile.mkdtemp(prefix="xuefa-bench-"))
    (workdir / "bench_settings.py").write_text(BENCH_SETTINGS)
    (workdir / "bench_urls.py").write_text(BENCH_URLS)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(ROOT), env.get("PYTHONPATH", "")])
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["GUNICORN_ACCESS_LOG"] = os.devnull  # the project's gunicorn.conf.py, minus access logs
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    manage = [PYTHON, str(ROOT / "manage.py")]
    print(f"Database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    quiet = {"env": env, "cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*manage, "migrate", "--noinput"], check=True, **quiet)
    subprocess.run([*manage, "load_demo_data"], check=True, **quiet)

    port = free_port()
    gunicorn = [
        str(Path(PYTHON).parent / "gunicorn"),
        "xuefa.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(gunicorn, env=env, cwd=ROOT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        session = sign_in(port)
        status, _ = session.request("GET", LECTURE_PATH)
        if status != 200:
            raise SystemExit(f"{LECTURE_PATH} answered {status}")
        lecture_id = _lecture_id(env)
        heartbeat = f"/study/{lecture_id}/heartbeat/"
        csrf = {"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": "http://127.0.0.1"}
        warm = min(2, args.seconds)
        measure(session, "GET", "/bench/bare/", warm, args.clients)
        measure(session, "GET", LECTURE_PATH, warm, args.clients)
        results = {
            "bare": measure(session, "GET", "/bench/bare/", args.seconds, args.clients),
            "lecture": measure(session, "GET", LECTURE_PATH, args.seconds, args.clients),
            "heartbeat": measure(
                session, "POST", heartbeat, args.seconds, args.clients, {"event": "beat"}, csrf
            ),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\ngunicorn: {args.workers} sync workers; {args.clients} clients; {args.seconds}s each")
    print(f"{'target':<10} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>7} {'target':>7}")
    bare = results["bare"]["rps"]
    targets = {"bare": None, "lecture": 0.5, "heartbeat": 0.7}
    ok = True
    for name, result in results.items():
        ratio = result["rps"] / bare
        goal = targets[name]
        mark = "" if goal is None else ("ok" if ratio >= goal else "BELOW")
        ok = ok and (goal is None or ratio >= goal)
        print(
            f"{name:<10} {result['rps']:>9.1f} {result['p50']:>8.1f} {result['p95']:>8.1f} "
            f"{ratio:>7.2f} {'' if goal is None else goal:>7} {mark}"
        )
    return 0 if ok else 1


def _lecture_id(env):
    code = (
        "import django; django.setup(); from learning.models import LecturePage; "
        f"print(LecturePage.objects.get(url_path__endswith='{LECTURE_PATH[9:]}').pk)"
    )
    out = subprocess.run(
        [PYTHON, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
