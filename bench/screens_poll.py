"""Benchmark: many publicity screens polling their playlist against one app process.

Serves Xuefa with gunicorn (one app process: one sync worker by default, or
--worker gthread; production settings, Redis as the cache when XUEFA_BENCH_REDIS
answers, default redis://127.0.0.1:6379/13) on a free loopback port with a database
created for the run and dropped afterwards: a
temporary PostgreSQL database when the server in XUEFA_BENCH_POSTGRES answers
(default postgres://postgres@127.0.0.1:5432/postgres), else a temporary SQLite file
(--database sqlite forces it; SQLite reconnects on every request, which costs far
more CPU than the poll itself). It creates --screens screens on
the demo playlists (every --data-every-th screen on the default playlist, which holds
the data screen (数据大屏) and the ticker, the rest on a copy without the data screen;
with --officials, an organisation of that size from create_fake_data gives the data
screen real figures, recomputed every --data-refresh seconds), and runs a client in a
separate process in which every screen
polls /screens/<token>/playlist.json every --interval seconds with If-None-Match and
?playing=, as the player does. After a warm-up (every screen fetches its playlist
once, a few at a time) and one interval of steady polling, it measures for
--duration seconds and prints requests/s, the
share answered 304, latency, and the CPU the server processes used as a percentage
of one core (from /proc, master and worker together, and each). Target: under 5 %.
Then, in a process of its own against the same database and cache, it measures the
CPU one warm 304 costs in-process: the view alone, and the whole Django stack (the
WSGI handler with every middleware); the rest of the server's CPU per request is
gunicorn, the access log and the kernel; and the CPU of one recomputation of the data
screen's figures, spread over its refresh interval.

    .venv/bin/python bench/screens_poll.py [--screens 1000] [--interval 30] [--duration 60]
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_CPU_PERCENT = 5.0

SETUP = """
import json, sys
from django.db import transaction
from content import demo
from content.models import PlaylistEntry, PublicityItem, Screen, ScreenPlaylist, Playlist
with transaction.atomic():
    demo.load_publicity_items()
    demo.load_screens()
    with_data = Playlist.objects.get(is_default=True)
    plain = Playlist.objects.create(name="bench-plain", ticker=with_data.ticker)
    PlaylistEntry.objects.bulk_create(
        [
            PlaylistEntry(playlist=plain, item=e.item, sort_order=e.sort_order)
            for e in with_data.entries.select_related("item")
            if e.item.kind != PublicityItem.Kind.DATA_SCREEN
        ]
    )
    screens = Screen.objects.bulk_create(
        [Screen(name=f"bench-{n}", location="bench") for n in range(COUNT)]
    )
    ScreenPlaylist.objects.bulk_create(
        [
            ScreenPlaylist(
                screen=s, playlist=with_data if n % DATA_EVERY == 0 else plain, sort_order=0
            )
            for n, s in enumerate(screens)
        ]
    )
with open(TOKENS_PATH, "w") as out:
    json.dump([s.token for s in Screen.objects.filter(location="bench")], out)
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU of a process and of each worker child, from /proc:
    {pid: seconds}. The stat counters include threads that have ended."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    used = {}
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[one] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return used


# In-process cost of a warm 304, run with Django set up against the bench database
# and cache: the view alone, and the full WSGI handler (every middleware).
INPROCESS = """
import io, json, time
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from content import screens, views

tokens = json.load(open(TOKENS_PATH))[:500]
app = WSGIHandler()
factory = RequestFactory()


def environ(token, etag):
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": f"/screens/{token}/playlist.json",
        "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
        "HTTP_IF_NONE_MATCH": etag, "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(), "REMOTE_ADDR": "127.0.0.1",
    }


def call(env):
    status = []
    result = app(env, lambda s, h: status.append(s))
    b"".join(result)
    result.close()
    return status[0]


etags = {}
for token in tokens:
    response = views.screen_playlist(factory.get(f"/screens/{token}/playlist.json"), token)
    etags[token] = response["ETag"]
rounds = 4
started = time.process_time()
for _ in range(rounds):
    for token in tokens:
        request = factory.get(f"/screens/{token}/playlist.json", HTTP_IF_NONE_MATCH=etags[token])
        assert views.screen_playlist(request, token).status_code == 304
view_ms = (time.process_time() - started) * 1000 / (rounds * len(tokens))
started = time.process_time()
for _ in range(rounds):
    for token in tokens:
        assert call(environ(token, etags[token])).startswith("304")
stack_ms = (time.process_time() - started) * 1000 / (rounds * len(tokens))
from content import data_screen

started = time.process_time()
data_screen.compute()
data_ms = (time.process_time() - started) * 1000
flush_ms = None
if hasattr(screens, "flush_status"):
    from content.models import Screen

    now = time.time()
    for pk in Screen.objects.values_list("pk", flat=True):
        screens.record_poll(screens.ScreenState(pk, 0), now=None)
    cpu, wall = time.process_time(), time.perf_counter()
    flushed = screens.flush_status()
    flush_ms = ((time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000, flushed)
print(json.dumps({"view_ms": view_ms, "stack_ms": stack_ms, "flush": flush_ms, "data_ms": data_ms}))
"""


REDIS_SERVER = os.environ.get("XUEFA_BENCH_REDIS", "redis://127.0.0.1:6379/13")


def redis_url():
    """REDIS_SERVER if it answers, else None (the local-memory cache is used)."""
    try:
        import redis

        redis.Redis.from_url(REDIS_SERVER, socket_connect_timeout=2).ping()
    except Exception:
        return None
    return REDIS_SERVER


def clear_screen_keys(url):
    """Drop the screens' keys a previous run left in the bench's Redis database."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match="xuefa:*:content:screens:*", count=1000):
        client.delete(key)


POSTGRES_SERVER = os.environ.get(
    "XUEFA_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"
)


def create_postgres_database(required):
    """A fresh database on the PostgreSQL server, as a DATABASE_URL; None if the
    server does not answer and PostgreSQL was not required."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_SERVER, autocommit=True, connect_timeout=3) as conn:
            name = f"xuefa_bench_{os.getpid()}"
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:
        if required:
            raise SystemExit(f"PostgreSQL is not available: {error}") from error
        return None
    return POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url):
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- client (runs in its own process) ------------------------------------------------------


async def poll_once(port, token, etag, playing):
    path = f"/screens/{token}/playlist.json"
    if playing is not None:
        path += f"?playing={playing}"
    headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if etag:
        headers += f"If-None-Match: {etag}\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write((headers + "\r\n").encode())
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    new_etag = etag
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "etag":
            new_etag = value.strip()
    return status, new_etag, body


async def warm_up(port, tokens, concurrency=8):
    """Every screen fetches its playlist once (the server builds each document), with
    few requests in flight, so that the timed phase starts in the steady state."""
    etags, queue = {}, list(tokens)

    async def worker():
        while queue:
            token = queue.pop()
            status, etag, body = await poll_once(port, token, None, None)
            if status != 200:
                raise SystemExit(f"warm-up poll answered {status}")
            etags[token] = (etag, [item["id"] for item in json.loads(body)["items"]])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return etags


async def screen_loop(port, token, known, interval, measure_from, measure_to, stats):
    etag, items = known
    playing = random.choice(items) if items else None
    await asyncio.sleep(random.uniform(0, interval))
    while time.time() < measure_to:
        began = time.time()
        try:
            status, etag, body = await poll_once(port, token, etag, playing)
        except OSError:
            status = 0
        took = time.time() - began
        if status == 200 and body:
            try:
                items = [item["id"] for item in json.loads(body)["items"]]
            except (ValueError, KeyError):
                status = -1
        if items:
            playing = random.choice(items)
        if measure_from <= began < measure_to:
            stats["requests"] += 1
            stats["status"][str(status)] = stats["status"].get(str(status), 0) + 1
            stats["latency"].append(took)
        await asyncio.sleep(max(0.0, interval - (time.time() - began)))


async def client_main(port, tokens, interval, duration):
    """Warm up, announce the measured window on stdout (one interval of steady polling
    first), poll through it, then print the statistics."""
    started = time.time()
    known = await warm_up(port, tokens)
    measure_from = time.time() + interval
    measure_to = measure_from + duration
    print(
        json.dumps({"warm_up_s": time.time() - started, "from": measure_from, "to": measure_to}),
        flush=True,
    )
    stats = {"requests": 0, "status": {}, "latency": []}
    await asyncio.gather(
        *(
            screen_loop(port, token, known[token], interval, measure_from, measure_to, stats)
            for token in tokens
        )
    )
    latency = sorted(stats.pop("latency")) or [0.0]
    stats["latency_ms"] = {
        "p50": round(statistics.median(latency) * 1000, 1),
        "p95": round(latency[int(len(latency) * 0.95) - 1] * 1000, 1),
        "max": round(latency[-1] * 1000, 1),
    }
    print(json.dumps(stats), flush=True)


def run_client(argv):
    port, tokens_file, interval, duration = argv
    tokens = json.loads(Path(tokens_file).read_text())
    asyncio.run(client_main(int(port), tokens, float(interval), float(duration)))


# --- orchestration -------------------------------------------------------------------------


def stop(server):
    """Stop gunicorn, gracefully if it manages within its graceful timeout."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--database", choices=["auto", "postgres", "sqlite"], default="auto")
    parser.add_argument(
        "--worker",
        choices=["sync", "gthread"],
        default="sync",
        help="gunicorn worker class of the one app process (gthread runs 4 threads)",
    )
    parser.add_argument("--no-redis", action="store_true", help="local-memory cache")
    parser.add_argument(
        "--data-every",
        type=int,
        default=5,
        help="every n-th screen plays the playlist with the data screen (1: all)",
    )
    parser.add_argument(
        "--data-refresh",
        type=int,
        default=60,
        help="seconds between recomputations of the data screen's figures",
    )
    parser.add_argument(
        "--officials",
        type=int,
        default=0,
        help="officials created with create_fake_data, for the data screen's figures",
    )
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="gunicorn without its access log (production writes one), for the breakdown",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="xuefa-bench-"))
    pg_database = None
    if args.database != "sqlite":
        pg_database = create_postgres_database(required=args.database == "postgres")
    database_url = pg_database or f"sqlite:///{workdir / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "xuefa.settings.production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-only-secret-key-not-for-production",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "MEDIA_ROOT": str(workdir / "media"),
        "LOG_LEVEL": "WARNING",
        "XUEFA_DATA_SCREEN_SECONDS": str(args.data_refresh),
    }
    cache_url = None if args.no_redis else redis_url()
    if cache_url:
        env["REDIS_URL"] = cache_url
        clear_screen_keys(cache_url)
    else:
        env.pop("REDIS_URL", None)
    server = None
    try:
        print(
            f"Preparing {args.screens} screens in {database_url}, cache "
            f"{cache_url or 'local memory'} …",
            flush=True,
        )
        manage = [PYTHON, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        if args.officials:
            subprocess.run(
                [*manage, "create_fake_data", f"--officials={args.officials}"],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        tokens_file = workdir / "tokens.json"
        setup = (
            f"COUNT = {args.screens}\nDATA_EVERY = {max(1, args.data_every)}\n"
            f"TOKENS_PATH = {str(tokens_file)!r}\n" + SETUP
        )
        subprocess.run(
            [*manage, "shell", "-c", setup],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )

        port = free_port()
        gunicorn = shutil.which("gunicorn", path=str(Path(PYTHON).parent)) or "gunicorn"
        # The project's gunicorn.conf.py, optionally without the access log.
        config = workdir / "gunicorn.conf.py"
        config.write_text(
            (ROOT / "gunicorn.conf.py").read_text()
            + ("\naccesslog = None\n" if args.no_access_log else "")
        )
        server = subprocess.Popen(
            [
                gunicorn,
                "xuefa.wsgi:application",
                f"--config={config}",
                "--workers=1",
                f"--worker-class={args.worker}",
                f"--threads={4 if args.worker == 'gthread' else 1}",
                # No worker recycling mid-run: it would reset the CPU accounting.
                "--max-requests=0",
                f"--bind=127.0.0.1:{port}",
                "--log-level=warning",
            ],
            env=env,
            cwd=ROOT,
            # The access log is still written (as in production), just not shown.
            stdout=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not start")
        server_pid = server.pid

        print(
            f"Serving on 127.0.0.1:{port}; warm-up (one fetch per screen), "
            f"{args.interval:.0f} s of polling, then measuring {args.duration:.0f} s …",
            flush=True,
        )
        client = subprocess.Popen(
            [
                PYTHON,
                __file__,
                "--client",
                str(port),
                str(tokens_file),
                str(args.interval),
                str(args.duration),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        window = json.loads(client.stdout.readline())
        measure_from, measure_to = window["from"], window["to"]
        print(f"Warm-up took {window['warm_up_s']:.1f} s.", flush=True)
        time.sleep(max(0, measure_from - time.time()))
        cpu_start = cpu_seconds(server.pid)
        time.sleep(max(0, measure_to - time.time()))
        cpu_end = cpu_seconds(server.pid)
        cpu_by_process = {pid: cpu_end[pid] - cpu_start.get(pid, 0.0) for pid in cpu_end}
        cpu_used = sum(cpu_by_process.values())
        output, _ = client.communicate(timeout=args.interval + 60)
        stats = json.loads(output.strip().splitlines()[-1])
        stop(server)
        server = None
        inprocess = subprocess.run(
            [*manage, "shell", "-c", f"TOKENS_PATH = {str(tokens_file)!r}\n" + INPROCESS],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        costs = json.loads(inprocess.stdout.strip().splitlines()[-1])
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(workdir, ignore_errors=True)
        if cache_url:
            clear_screen_keys(cache_url)
        if pg_database:
            drop_postgres_database(pg_database)

    requests = stats["requests"]
    not_modified = stats["status"].get("304", 0)
    cpu_percent = 100 * cpu_used / args.duration
    data_screens = len(range(0, args.screens, max(1, args.data_every)))
    print(f"screens:           {args.screens} polling every {args.interval:.0f} s")
    print(
        f"  on a data screen: {data_screens} (figures recomputed every {args.data_refresh} s, "
        f"{args.officials} fake officials)"
    )
    rate = requests / args.duration
    print(f"requests/s:        {rate:.1f} ({requests} in {args.duration:.0f} s)")
    print(f"answered 304:      {100 * not_modified / max(1, requests):.1f} %")
    print(f"status counts:     {stats['status']}")
    print(f"latency ms:        {stats['latency_ms']}")
    print(f"server CPU:        {cpu_percent:.2f} % of one core (target < {TARGET_CPU_PERCENT} %)")
    master = cpu_by_process.get(server_pid, 0.0)
    print(
        f"  by process:      master {100 * master / args.duration:.2f} %, "
        f"worker {100 * (cpu_used - master) / args.duration:.2f} % "
        f"({args.worker} worker, access log {'off' if args.no_access_log else 'on'})"
    )
    per_request = 1000 * cpu_used / max(1, requests)
    print(f"  per request:     {per_request:.2f} ms CPU in the server processes")
    print(
        f"in-process 304:    view {costs['view_ms']:.3f} ms, whole Django stack "
        f"{costs['stack_ms']:.3f} ms CPU (rest: gunicorn, access log, kernel "
        f"{max(0.0, per_request - costs['stack_ms']):.2f} ms)"
    )
    if costs.get("data_ms") is not None:
        share = costs["data_ms"] / 10 / args.data_refresh
        print(
            f"data screen:       {costs['data_ms']:.0f} ms CPU per recomputation "
            f"({share:.3f} % of a core at one per {args.data_refresh} s, in the figure above "
            f"when one fell in the measured window)"
        )
    if costs.get("flush"):
        cpu_ms, wall_ms, flushed = costs["flush"]
        print(
            f"last-seen batch:   {flushed} screens in {cpu_ms:.0f} ms CPU, {wall_ms:.0f} ms wall "
            f"(once per XUEFA_SCREEN_SEEN_INTERVAL)"
        )
    errors = requests - sum(v for k, v in stats["status"].items() if k in ("200", "304"))
    if errors:
        print(f"FAILED: {errors} requests did not get 200/304")
        return 1
    return 0 if cpu_percent < TARGET_CPU_PERCENT else 2


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        run_client(sys.argv[2:])
    else:
        sys.exit(main())
