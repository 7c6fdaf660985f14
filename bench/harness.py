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

    def raw(self, method, path, body=None, headers=None):
        """The bytes of one HTTP/1.0 request carrying this session's cookies."""
        head = [f"{method} {path} HTTP/1.0", f"Host: 127.0.0.1:{self.port}"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        head.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        data = b""
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            head.append("Content-Type: application/x-www-form-urlencoded")
            head.append(f"Content-Length: {len(data)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + data

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
    if env["DATABASE_URL"].startswith("postgres"):
        os.environ["BENCH_DATABASE_NAME"] = env["DATABASE_URL"].rsplit("/", 1)[-1].split("?")[0]
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.setdefault("SECRET_KEY", "bench-only-secret")
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    env["SECURE_SSL_REDIRECT"] = "false"
    env["SECURE_COOKIES"] = "false"
    return env


def ensure_database(database_url, fresh=False):
    """Create the PostgreSQL database `database_url` names when it does not exist yet
    (a fresh machine has only the server), or drop and create it afresh when `fresh`;
    whether it was created. SQLite files create themselves."""
    if not database_url.startswith("postgres"):
        return False
    import psycopg

    parts = urllib.parse.urlsplit(database_url)
    name = parts.path.lstrip("/")
    server = urllib.parse.urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists and not fresh:
            return False
        if exists:
            connection.execute(f'DROP DATABASE "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
        return True


def describe(env):
    redis = env.get("REDIS_URL") or "none (local memory cache, database sessions)"
    print(f"Database: {env['DATABASE_URL'].split('@')[-1]}; Redis: {redis}", flush=True)


@contextmanager
def served_app(workers=None):
    """Yield (port, env) of the app under gunicorn with the demo data loaded: the
    project's gunicorn.conf.py (as deployed: 2 x cores + 1 sync workers, worker
    recycling), with `workers` instead when given.
    Uses DATABASE_URL when set, otherwise a temporary SQLite database."""
    workdir = Path(tempfile.mkdtemp(prefix="xuefa-bench-"))
    env = bench_env(workdir)
    describe(env)
    manage = [PYTHON, str(ROOT / "manage.py")]
    quiet = {"env": env, "cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = None
    try:
        ensure_database(env["DATABASE_URL"])
        subprocess.run([*manage, "migrate", "--noinput"], check=True, **quiet)
        subprocess.run([*manage, "load_demo_data"], check=True, **quiet)
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "xuefa.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                *(["--workers", str(workers)] if workers else []),
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


def _load(port, requests, seconds, conn):
    """In a process of its own: each list of raw requests is one client that sends
    them in turn, one connection per request (HTTP/1.0, as gunicorn's sync workers
    close the connection anyway), for `seconds`. Sends back (latencies, bad statuses)."""
    import asyncio

    async def client(raw_requests, deadline, latencies, bad):
        index = 0
        while time.perf_counter() < deadline:
            raw = raw_requests[index % len(raw_requests)]
            index += 1
            start = time.perf_counter()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            data = await reader.read()
            writer.close()
            latencies.append((time.perf_counter() - start) * 1000)
            status = int(data[9:12] or 0)
            if status != 200:
                bad.append(status)

    async def main():
        latencies, bad = [], []
        started = time.perf_counter()
        await asyncio.gather(*(client(r, started + seconds, latencies, bad) for r in requests))
        return latencies, bad, time.perf_counter() - started

    conn.send(asyncio.run(main()))
    conn.close()


def server_cpu_ticks(port):
    """{pid: (kind, CPU ticks)} of the app under gunicorn on `port` (the master,
    with the recycled workers it has reaped, and its live workers: "app") and of the
    PostgreSQL backends serving the bench database ("db"), from /proc; {} where
    /proc is missing."""
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    database = os.environ.get("BENCH_DATABASE_NAME", "")
    found = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = [int(f) for f in stat[stat.rindex(")") + 2 :].split()[11:15]]
        if f"127.0.0.1:{port}" in command and "gunicorn" in command:
            found[entry.name] = ("app", sum(fields))
        elif database and command.startswith("postgres: ") and f" {database} " in command:
            found[entry.name] = ("db", fields[0] + fields[1])
    return found


def cpu_per_request(before, after, requests):
    """CPU ms per request by kind between two server_cpu_ticks. A worker that ended in
    between (recycled) moved its whole life's CPU into the master's count of reaped
    children, so its count before is taken off; a database backend that ended in
    between is not counted at all."""
    spent = {"app": 0, "db": 0}
    for pid, (kind, ticks) in after.items():
        spent[kind] += ticks - before.get(pid, (kind, 0))[1]
    for pid, (kind, ticks) in before.items():
        if kind == "app" and pid not in after:
            spent[kind] -= ticks
    hertz = os.sysconf("SC_CLK_TCK")
    return {kind: ticks * 1000 / hertz / max(1, requests) for kind, ticks in spent.items()}


def measure(port, requests, seconds, label=""):
    """Load the app with one client per list of raw requests (HttpSession.raw) for
    `seconds`, from a separate asyncio process, so the load generator's own work
    neither shares a GIL with anything nor stalls the clients; requests per second
    and latency percentiles in ms. Any non-200 response stops the bench."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_load, args=(port, requests, seconds, send))
    before = server_cpu_ticks(port)
    process.start()
    latencies, errors, elapsed = receive.recv()
    process.join()
    cpu = cpu_per_request(before, server_cpu_ticks(port), len(latencies)) if before else {}
    if errors:
        raise SystemExit(f"{label}: {len(errors)} non-200 responses, e.g. {errors[:5]}")
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)],
        "count": len(latencies),
        # CPU ms per request in the app's processes and in the database's
        "app_cpu_ms": cpu.get("app"),
        "db_cpu_ms": cpu.get("db"),
    }


def compare(port, targets, seconds, rounds=3):
    """Measure each target (name: list of clients' raw requests) `rounds` times,
    interleaved (a, b, a, b, ...), each for `seconds`. Per target: the round with the
    median throughput, and under "ratio" the median over rounds of its throughput
    divided by the first target's in the same round, so that a slow spell of the
    machine (a shared host) weighs on both sides of a ratio alike."""
    runs = {name: [] for name in targets}
    for _round in range(rounds):
        for name, requests in targets.items():
            runs[name].append(measure(port, requests, seconds, name))
    reference = runs[next(iter(targets))]
    results = {}
    for name, results_of_name in runs.items():
        median = sorted(results_of_name, key=lambda r: r["rps"])[len(results_of_name) // 2]
        ratios = sorted(
            r["rps"] / b["rps"] for r, b in zip(results_of_name, reference, strict=True)
        )
        results[name] = {**median, "ratio": statistics.median(ratios), "ratios": ratios}
    return results
