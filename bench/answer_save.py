"""Answer-save throughput against a bare Django view, both served by one gunicorn.

Starts the app under gunicorn on a free loopback port, signs in several demo
officials (each client has its own account and its own attempt at the annual exam,
as in a real sitting), and for each target runs concurrent keep-alive clients for a
fixed time:

  bare   POST to a view returning "ok" through the full middleware stack (sessions,
         authentication, CSRF), the same stack the save endpoint goes through
  save   POST /exams/<session>/attempts/<attempt>/answer/ (row lock on the attempt,
         validation against the frozen question, one UPDATE), cycling questions

It prints requests per second, p50/p95 latency and the ratio save / bare
(target >= 0.7). The bare view lives in a bench URLconf written to a temporary
folder, so the site has no bench-only code.

    .venv/bin/python bench/answer_save.py [--seconds 10] [--clients 8] [--workers 2]

Uses DATABASE_URL when set (PostgreSQL recommended); otherwise a temporary SQLite
database is created, migrated and loaded with the demo data.
"""

import argparse
import http.client
import os
import re
import secrets
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
PASSWORD = "xuefa-demo"  # noqa: S105 - the documented demo password

BENCH_SETTINGS = """
from xuefa.settings.base import *  # noqa

SECRET_KEY = "bench-only-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench_urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
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

# Give generated demo officials the demo password so each client signs in as its own
# person; the demo data leaves their passwords unusable.
PREPARE_USERS = """
from learning.models import User
for user in User.objects.filter(username__in={usernames!r}):
    user.set_password({password!r})
    user.must_change_password = False
    user.save()
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """A keep-alive HTTP connection with cookies."""

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

    def csrf_headers(self):
        return {"X-CSRFToken": self.cookies["csrftoken"]}


def token_in(page):
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()


def sign_in_and_start(port, username):
    """A signed-in client with an attempt at the annual exam, and its answer payloads."""
    client = Client(port)
    _status, page = client.request("GET", "/accounts/login/")
    status, _ = client.request(
        "POST",
        "/accounts/login/",
        {"login": username, "password": PASSWORD, "csrfmiddlewaretoken": token_in(page)},
        {"Referer": f"http://127.0.0.1:{port}/accounts/login/"},
    )
    if status != 302:
        raise SystemExit(f"Sign-in of {username} failed with status {status}")
    _status, page = client.request("GET", "/exams/")
    match = re.search(rb'href="/exams/(\d+)/">\d{4}\xe5\xb9\xb4\xe5\xba\xa6', page)  # 年度
    if not match:
        raise SystemExit("The annual exam is not listed for the bench official")
    session_id = match.group(1).decode()
    _status, page = client.request("GET", f"/exams/{session_id}/")
    status, _ = client.request(
        "POST", f"/exams/{session_id}/start/", {"csrfmiddlewaretoken": token_in(page)}
    )
    _status, page = client.request("GET", f"/exams/{session_id}/")
    attempt = re.search(rb'href="/exams/\d+/attempts/(\d+)/"', page)
    if not attempt:
        raise SystemExit(f"{username} could not start the annual exam (status {status})")
    path = f"/exams/{session_id}/attempts/{attempt.group(1).decode()}/"
    _status, page = client.request("GET", path)
    choices = {}
    for position, value in re.findall(rb'name="q(\d+)" value="([A-Z])"', page):
        choices.setdefault(int(position), value.decode())
    payloads = [{"position": p, "response": v} for p, v in sorted(choices.items())]
    return client, path + "answer/", payloads


def measure(clients, seconds):
    """Requests per second and latencies (ms) of the clients' concurrent loops.
    `clients` is a list of (client, path, payloads)."""
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop(client, path, payloads):
        mine = []
        index = 0
        headers = client.csrf_headers()
        while time.perf_counter() < deadline:
            body = payloads[index % len(payloads)]
            index += 1
            start = time.perf_counter()
            status, _ = client.request("POST", path, body, headers)
            mine.append((time.perf_counter() - start) * 1000)
            if status != 200:
                errors.append(status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop, args=c) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} non-200 responses, e.g. {errors[:5]}")
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)],
        "count": len(latencies),
    }


def run(args):
    workdir = Path(tempfile.mkdtemp(prefix="xuefa-bench-"))
    (workdir / "bench_settings.py").write_text(BENCH_SETTINGS)
    (workdir / "bench_urls.py").write_text(BENCH_URLS)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(ROOT), env.get("PYTHONPATH", "")])
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["GUNICORN_ACCESS_LOG"] = os.devnull
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    manage = [PYTHON, str(ROOT / "manage.py")]
    print(f"Database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    quiet = {"env": env, "cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*manage, "migrate", "--noinput"], check=True, **quiet)
    subprocess.run([*manage, "load_demo_data"], check=True, **quiet)
    # Generated officials without an annual attempt yet (the demo's sitters are BH0006+).
    usernames = [f"BH{n:04d}" for n in range(60 - args.clients + 1, 61)]
    script = PREPARE_USERS.format(usernames=usernames, password=PASSWORD)
    subprocess.run([*manage, "shell", "-c", script], check=True, **quiet)

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
        savers = [sign_in_and_start(port, username) for username in usernames]
        bare = [
            (client, "/bench/bare/", [{"n": secrets.token_hex(2)}]) for client, _p, _b in savers
        ]
        measure(savers, 1)  # warm up both paths
        measure(bare, 1)
        print(
            f"gunicorn: {args.workers} sync workers; {args.clients} keep-alive clients, "
            f"{args.seconds} s per target",
            flush=True,
        )
        results = {"bare": measure(bare, args.seconds), "save": measure(savers, args.seconds)}
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    for name, r in results.items():
        print(
            f"{name:<5} {r['rps']:8.1f} req/s   p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms"
            f"   ({r['count']} requests)"
        )
    ratio = results["save"]["rps"] / results["bare"]["rps"]
    verdict = "meets" if ratio >= 0.7 else "below"
    print(f"ratio save/bare throughput: {ratio:.2f} ({verdict} the 0.7 target)")
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
