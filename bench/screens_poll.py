"""Benchmark: many publicity screens polling their playlist against one app process.

Serves Xuefa with gunicorn (one worker process, production settings) on a free
loopback port with a database created for the run and dropped afterwards: a
temporary PostgreSQL database when the server in XUEFA_BENCH_POSTGRES answers
(default postgres://postgres@127.0.0.1:5432/postgres), else a temporary SQLite file
(--database sqlite forces it; SQLite reconnects on every request, which costs far
more CPU than the poll itself). It creates --screens screens on
the demo playlists, and runs a client in a separate process in which every screen
polls /screens/<token>/playlist.json every --interval seconds with If-None-Match and
?playing=, as the player does. After one interval of warm-up (every screen fetches
its playlist once), it measures for --duration seconds and prints requests/s, the
share answered 304, latency, and the CPU the server processes used as a percentage
of one core (from /proc, master and worker together). Target: under 5 %.

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
from content.models import Screen, ScreenPlaylist, Playlist
with transaction.atomic():
    demo.load_publicity_items()
    demo.load_screens()
    playlist = Playlist.objects.get(is_default=True)
    screens = Screen.objects.bulk_create(
        [Screen(name=f"bench-{n}", location="bench") for n in range(COUNT)]
    )
    ScreenPlaylist.objects.bulk_create(
        [ScreenPlaylist(screen=s, playlist=playlist, sort_order=0) for s in screens]
    )
with open(TOKENS_PATH, "w") as out:
    json.dump([s.token for s in Screen.objects.filter(location="bench")], out)
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU of a process and its worker children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


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


async def screen_loop(port, token, interval, start, measure_from, measure_to, stats):
    await asyncio.sleep(random.uniform(0, interval))
    etag, items, playing = None, [], None
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


async def client_main(port, tokens, interval, measure_from, measure_to):
    stats = {"requests": 0, "status": {}, "latency": []}
    start = time.time()
    await asyncio.gather(
        *(
            screen_loop(port, token, interval, start, measure_from, measure_to, stats)
            for token in tokens
        )
    )
    latency = sorted(stats.pop("latency")) or [0.0]
    stats["latency_ms"] = {
        "p50": round(statistics.median(latency) * 1000, 1),
        "p95": round(latency[int(len(latency) * 0.95) - 1] * 1000, 1),
        "max": round(latency[-1] * 1000, 1),
    }
    print(json.dumps(stats))


def run_client(argv):
    port, tokens_file, interval, measure_from, measure_to = argv
    tokens = json.loads(Path(tokens_file).read_text())
    asyncio.run(
        client_main(int(port), tokens, float(interval), float(measure_from), float(measure_to))
    )


# --- orchestration -------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--database", choices=["auto", "postgres", "sqlite"], default="auto")
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
    }
    server = None
    try:
        print(f"Preparing {args.screens} screens in {database_url} …", flush=True)
        manage = [PYTHON, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        tokens_file = workdir / "tokens.json"
        setup = f"COUNT = {args.screens}\nTOKENS_PATH = {str(tokens_file)!r}\n" + SETUP
        subprocess.run(
            [*manage, "shell", "-c", setup],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )

        port = free_port()
        gunicorn = shutil.which("gunicorn", path=str(Path(PYTHON).parent)) or "gunicorn"
        server = subprocess.Popen(
            [
                gunicorn,
                "xuefa.wsgi:application",
                "--workers=1",
                "--threads=4",
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

        measure_from = time.time() + args.interval + 2
        measure_to = measure_from + args.duration
        print(
            f"Serving on 127.0.0.1:{port}; warm-up {args.interval:.0f} s, "
            f"then measuring {args.duration:.0f} s …",
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
                str(measure_from),
                str(measure_to),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(max(0, measure_from - time.time()))
        cpu_start = cpu_seconds(server.pid)
        time.sleep(max(0, measure_to - time.time()))
        cpu_used = cpu_seconds(server.pid) - cpu_start
        output, _ = client.communicate(timeout=args.interval + 60)
        stats = json.loads(output.strip().splitlines()[-1])
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)
        if pg_database:
            drop_postgres_database(pg_database)

    requests = stats["requests"]
    not_modified = stats["status"].get("304", 0)
    cpu_percent = 100 * cpu_used / args.duration
    print(f"screens:           {args.screens} polling every {args.interval:.0f} s")
    rate = requests / args.duration
    print(f"requests/s:        {rate:.1f} ({requests} in {args.duration:.0f} s)")
    print(f"answered 304:      {100 * not_modified / max(1, requests):.1f} %")
    print(f"status counts:     {stats['status']}")
    print(f"latency ms:        {stats['latency_ms']}")
    print(f"server CPU:        {cpu_percent:.2f} % of one core (target < {TARGET_CPU_PERCENT} %)")
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
