"""Exam day at scale, then the database checked against what officials were told.

N officials open the annual exam, save an answer every 30 s and submit (with
--morning, they sign in and see the dashboard first).

    .venv/bin/python bench/exam_day.py                    # 50 officials, 20 s (CI size)
    .venv/bin/python bench/exam_day.py --officials 10000 --ramp 120 --duration 300
    .venv/bin/python bench/exam_day.py --morning --officials 40 --window 20 \
        --duration 20 --save-every 5                      # the morning, CI size (~1 min)
    .venv/bin/python bench/exam_day.py --morning --officials 10000   # the real morning

What runs:
  * a PostgreSQL database of its own (--database, default xuefa_load_bench, or
    xuefa_morning_bench with --morning, on the server of --pg), dropped and created
    afresh: copied from a template (--template; with --morning by default
    `auto`: a migrated database with the demo data, built once and kept while the
    migrations, the demo data's code, the installed packages and the date stay the
    same) or migrated with the demo data, then N bench officials assigned to the open
    annual exam added (bench/exam_db.py);
  * the app under gunicorn with production settings and the project's
    gunicorn.conf.py (2 x cores + 1 sync workers), Redis cache and database
    sessions on a Redis database of its own (--redis, flushed first);
  * the load generator in a separate process (bench/exam_load.py, asyncio).

Signing in, two modes. Plain (the default): officials arrive already signed in,
the fixture writes their sessions as a sign-in would, and they arrive within --ramp
seconds; the sign-in endpoint is measured on its own on a small sample
(--login-sample), one at a time, and printed first. --morning: the real exam
morning. Nobody is signed in; each official arrives within --window seconds (30
minutes by default; --arrivals `morning`, the default there: a Beta(2, 3) curve,
busiest a third of the way in at 1.8 times the average rate with a tail of
late-comers, or `uniform`), GETs /accounts/login/ and POSTs the allauth form with
its CSRF token and password, checked against a real hash by the default hasher
(Argon2id, about 35 ms of CPU; one hash shared by every bench account, see
exam_db.py), and lands on / (the dashboard), then goes on as below. Each official
comes from a client address of its own, sent as X-Forwarded-For the way the nginx
in front of the app sends it (production trusts one proxy hop,
XUEFA_TRUSTED_PROXY_COUNT=1): allauth's "login" limit counts every sign-in POST,
successes too, per address (30 a minute), so one load generator's single address
would be refused after 30; production sees each official's own address, or their
office's NAT (--officials-per-address puts that many behind one address).

Per official: GET /exams/, GET the session page, POST start (302 to the attempt),
GET the attempt page, then one answer save every --save-every seconds (the first
at a random offset, so saves spread evenly) for --duration seconds (20 s, or 20
minutes with --morning), POST submit (--double-submit share submits twice) and GET
the result. --speed K plays the window, the sitting and the save interval K times
faster: each official sends the same requests, and the app sees the request rates
of K x N officials at real speed (a 10,000-official morning's rates from 10,000/K).

Prints per endpoint: count, req/s, p50/p95/p99/max, statuses (sign-in and the
dashboard as their own endpoints); connection errors; where the CPU went (app,
PostgreSQL, Redis, load generator, other); then the database check
(bench/exam_db.py verify): every 2xx-acknowledged save is stored, every submitted
attempt graded exactly once, one attempt per official; and a PASS/FAIL line against
the targets: 0 errors, 0 lost answers, p95 < 250 ms on every endpoint but the
sign-in POST, which must be < 1 s. Exit status 0 only on PASS.

The real morning at real speed takes its window and one sitting, 50 minutes, plus
a minute or two of set-up and checks. Whether the machine can carry it is cheaper
to learn from bench/morning_cost.py: each request's CPU cost, and the busiest 10 s
of the morning modelled from them, in cores.
"""

import argparse
import hashlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SECRET_KEY = "exam-day-bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
P95_TARGET_MS = 250
SIGN_IN_P95_TARGET_MS = 1000  # the password check (Argon2id) is the one slow request
SIGN_IN = "POST sign-in"
# The statuses each endpoint answers when all is well; any other counts as an error.
EXPECTED_STATUSES = {
    "GET sign-in": {200},
    SIGN_IN: {302},
    "GET dashboard": {200},
    "GET /exams/": {200},
    "GET session": {200},
    "POST start": {302},
    "GET attempt": {200},
    "POST answer": {200},
    "POST submit": {302},
    "GET result": {200},
}
APPS = ("learning", "exams", "content", "site")
TEMPLATE_PREFIX = "xuefa_bench_template_"
# The peak of the arrival curve over its average (exam_load.py --arrivals): Beta(2, 3)
# has its densest point, 16/9, a third of the way in.
PEAK_OVER_AVERAGE = {"uniform": 1.0, "morning": 16 / 9}
# Each mode's defaults (None on the command line means "the mode's").
MODES = {
    "plain": {
        "ramp": 120,
        "duration": 20,
        "database": "xuefa_load_bench",
        "redis": "redis://127.0.0.1:6379/7",
        "template": None,
        "login_sample": 5,
        "arrivals": "uniform",
    },
    "morning": {
        "ramp": 30 * 60,
        "duration": 20 * 60,
        "database": "xuefa_morning_bench",
        "redis": "redis://127.0.0.1:6379/9",
        "template": "auto",
        "login_sample": 0,
        "arrivals": "morning",
    },
}


def app_env(database_url, redis_url, workers=None):
    """The production settings' environment, plain HTTP on loopback."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "xuefa.settings.production",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECRET_KEY": SECRET_KEY,
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "GUNICORN_ACCESS_LOG": os.devnull,
        }
    )
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    return env


def manage(env, *args):
    """A management command, quiet unless it fails."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-4000:])
        raise SystemExit(f"manage.py {args[0]} failed")


def psql(server_url, sql, check=True):
    """Run `sql` on the server's postgres database; whether it succeeded."""
    done = subprocess.run(
        ["psql", f"{server_url}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=check,
        stdout=subprocess.DEVNULL,
        stderr=None if check else subprocess.DEVNULL,
    )
    return done.returncode == 0


def psql_rows(server_url, sql):
    """The rows of a query on the server's postgres database, as lists of strings."""
    out = subprocess.run(
        ["psql", f"{server_url}/postgres", "-Atq", "-F", "\t", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def _installed_packages():
    from importlib import metadata

    return sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())


def template_fingerprint():
    """What a migrated database with the demo data depends on: the date (the demo
    exam's dates follow it), every migration and every demo-data module of the apps,
    and the installed packages (their migrations). 12 hex digits."""
    digest = hashlib.sha256(time.strftime("%Y-%m-%d").encode())
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or "demo" in path.name:
                digest.update(str(relative).encode() + b"\0" + path.read_bytes())
    digest.update("\n".join(_installed_packages()).encode())
    return digest.hexdigest()[:12]


def template_database(server_url, redis_url):
    """The name of a migrated database with the demo data for this code and day,
    built now (migrate and load_demo_data, minutes) unless a run built it before;
    older bench templates are dropped. Built under another name and renamed when
    complete, so a run never copies a half-built template."""
    name = TEMPLATE_PREFIX + template_fingerprint()
    # The names below are the bench's own (a prefix and hex digits), never input.
    exists = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"  # noqa: S608
    if psql_rows(server_url, exists):
        print(f"template {name}: reused", flush=True)
        return name
    started = time.perf_counter()
    building = f"{name}_building_{os.getpid()}"
    psql(server_url, f'CREATE DATABASE "{building}"')
    try:
        env = app_env(f"{server_url}/{building}", redis_url)
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo_data")
    except BaseException:
        psql(server_url, f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)', check=False)
        raise
    if not psql(server_url, f'ALTER DATABASE "{building}" RENAME TO "{name}"', check=False):
        psql(server_url, f'DROP DATABASE IF EXISTS "{building}"')  # another run was first
    others = (
        f"SELECT datname FROM pg_database WHERE datname LIKE '{TEMPLATE_PREFIX}%' "  # noqa: S608
        f"AND datname <> '{name}' AND datname NOT LIKE '%\\_building\\_%'"
    )
    stale = psql_rows(server_url, others)
    for (old,) in stale:
        psql(server_url, f'DROP DATABASE IF EXISTS "{old}"', check=False)  # unless in use
    print(f"template {name}: built in {time.perf_counter() - started:.0f} s", flush=True)
    return name


def prepare_database(
    server_url, name, redis_url, officials, plan_path, template=None, sessions=True
):
    """A fresh database `name`: migrated with the demo data (copied from `template`
    when given, which is far quicker than migrating; "auto": template_database's),
    plus the bench officials, signed in unless `sessions` is false."""
    if template == "auto":
        template = template_database(server_url, redis_url)
    psql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    started = time.perf_counter()
    env = app_env(f"{server_url}/{name}", redis_url)
    if template:
        psql(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    else:
        psql(server_url, f'CREATE DATABASE "{name}"')
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo_data")
    subprocess.run(
        [
            PYTHON,
            str(BENCH / "exam_db.py"),
            "build",
            "--officials",
            str(officials),
            "--plan",
            plan_path,
            *([] if sessions else ["--no-sessions"]),
        ],
        env=env,
        cwd=ROOT,
        check=True,
    )
    print(f"database {name} ready in {time.perf_counter() - started:.0f} s", flush=True)
    return env


def flush_redis(redis_url):
    host, _, rest = redis_url.removeprefix("redis://").partition(":")
    port, _, db = rest.partition("/")
    subprocess.run(
        ["redis-cli", "-h", host, "-p", port, "-n", db or "0", "flushdb"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


STATIC_STAMP = Path(tempfile.gettempdir()) / (
    "xuefa-bench-static-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
)


def static_fingerprint():
    """Every static source file's path, size and time, and the installed packages."""
    digest = hashlib.sha256("\n".join(_installed_packages()).encode())
    for folder in (ROOT / "static", *(ROOT / app for app in APPS)):
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(ROOT)
            if ("static" in relative.parts[:-1] or folder.name == "static") and path.is_file():
                stat = path.stat()
                digest.update(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_static(env, force=False):
    """collectstatic, skipped (it takes 5-15 s) when no static source changed since
    the bench last ran it and the manifest is there."""
    fingerprint = static_fingerprint()
    manifest = ROOT / "static_collected" / "staticfiles.json"
    unchanged = STATIC_STAMP.exists() and STATIC_STAMP.read_text() == fingerprint
    if not force and manifest.exists() and unchanged:
        return
    manage(env, "collectstatic", "--noinput", "-v0")
    STATIC_STAMP.write_text(fingerprint)


def wait_ready(port, seconds=120):
    """Until /healthz answers 200. Under load the probe queues behind the clients'
    requests, so it gets a generous timeout."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.settimeout(30)
                sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if b" 200 " in sock.recv(64):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"The app did not come up on port {port}")


def start_app(env, port, log=None):
    """gunicorn with the project's gunicorn.conf.py, in its own process group;
    its error log (500 tracebacks) goes to `log` when given."""
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--log-level", "warning"],
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        cwd=ROOT,
        start_new_session=True,
        stderr=open(log, "a") if log else None,  # noqa: SIM115 - the child keeps it
    )
    wait_ready(port)
    return server


def stop_app(server, hard=False):
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGKILL if hard else signal.SIGTERM)
    except ProcessLookupError:
        return
    server.wait(timeout=40)


@contextmanager
def served(env, port):
    server = start_app(env, port)
    try:
        yield server
    finally:
        stop_app(server)


def load_command(port, plan, out, args, extra=()):
    return [
        PYTHON,
        str(BENCH / "exam_load.py"),
        "--port",
        str(port),
        "--plan",
        plan,
        "--out",
        out,
        "--ramp",
        str(args.ramp),
        "--duration",
        str(args.duration),
        "--save-every",
        str(args.save_every),
        "--connections",
        str(args.connections),
        *(["--max-seconds", str(args.max_seconds)] if getattr(args, "max_seconds", None) else []),
        *extra,
    ]


def _proc_stats():
    """{pid: (parent pid, command name, own CPU ticks, reaped children's ticks)}."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
        stats[int(entry.name)] = (int(fields[1]), name, utime + stime, cutime + cstime)
    return stats


def cpu_ticks(app_pid):
    """CPU ticks so far by part: the app (gunicorn's master, its live workers and
    the recycled ones it reaped), PostgreSQL (the postmaster, its live processes and
    those it reaped), Redis, and the whole machine (busy ticks from /proc/stat).
    Empty where /proc is missing."""
    if not Path("/proc/stat").exists():
        return {}
    stats = _proc_stats()
    parts = {"app": 0, "postgres": 0, "redis": 0}
    for pid, (parent, name, own, reaped) in stats.items():
        if pid == app_pid or parent == app_pid:
            parts["app"] += own + (reaped if pid == app_pid else 0)
        elif name == "postgres":
            root = stats.get(parent, (0, ""))[1] != "postgres"
            parts["postgres"] += own + (reaped if root else 0)
        elif name.startswith("redis-server"):
            parts["redis"] += own
    cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in cpu]
    parts["machine"] = sum(values) - values[3] - values[4]  # less idle and iowait
    return parts


class DatabaseCpu:
    """CPU of the PostgreSQL backends serving one database, sampled from /proc every
    second in a thread while the load runs. The server's own figure (cpu_ticks) counts
    every database on it, other people's too on a shared machine; and a backend's CPU
    cannot be read after it ends, which CONN_MAX_AGE makes happen every minute, so
    they are followed while they live (what a backend spends in its last second is
    missed)."""

    def __init__(self, database):
        self.marker = f" {database} ".encode()
        self.seen = {}  # pid -> [ticks at the start (0 if born later), ticks last read]
        self.started = False
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _backends(self):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                    command = fh.read().replace(b"\0", b" ")
                if not command.startswith(b"postgres: ") or self.marker not in command:
                    continue
                with open(f"/proc/{entry.name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            yield int(entry.name), int(fields[11]) + int(fields[12])

    def sample(self):
        for pid, ticks in self._backends():
            self.seen.setdefault(pid, [ticks if not self.started else 0, ticks])[1] = ticks
        self.started = True

    def _run(self):
        while not self.done.wait(1):
            self.sample()

    def __enter__(self):
        if Path("/proc").is_dir():
            self.sample()
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        if self.thread.is_alive():
            self.thread.join()
            self.sample()

    def seconds(self):
        ticks = sum(last - first for first, last in self.seen.values())
        return ticks / os.sysconf("SC_CLK_TCK")


def reference_ms():
    """CPU milliseconds of a fixed pure-Python loop, the least of three: how fast this
    machine is at the moment. A virtual machine's speed can drift by half within an
    hour, so runs are compared with this figure beside them."""
    best = float("inf")
    for _run in range(3):
        started, total = time.process_time(), 0
        for n in range(1_000_000):
            total += n * n % 7
        best = min(best, (time.process_time() - started) * 1000)
    return best


def print_cpu(before, after, loadgen_seconds, elapsed, requests=None, postgres_seconds=None):
    """Where the machine's CPU went during the load, in cores used on average, and
    with `requests`, in CPU ms per request. `postgres_seconds` (DatabaseCpu), when
    given, is the bench database's share; the rest of the server's goes to "other"."""
    if not before:
        return
    hertz = os.sysconf("SC_CLK_TCK")
    used = {k: (after[k] - before[k]) / hertz for k in before}
    if postgres_seconds is not None:
        used["postgres"] = postgres_seconds
    used["load generator"] = loadgen_seconds
    machine = used.pop("machine")
    used["other"] = max(0.0, machine - sum(used.values()))
    shares = ", ".join(f"{k} {v / elapsed:.2f}" for k, v in used.items())
    cores = f"cores, of {os.cpu_count()}"
    print(f"CPU during the load ({cores}): {machine / elapsed:.2f} in all: {shares}")
    if requests:
        per = ", ".join(
            f"{k} {used[k] * 1000 / requests:.1f}"
            for k in ("app", "postgres", "redis", "load generator")
        )
        print(f"CPU ms per request (all endpoints, {requests} requests): {per}")


def login_sample(port, count):
    """Sign `count` bench officials in one after another through the real form;
    (median, max) seconds per sign-in."""
    sys.path.insert(0, str(BENCH))
    from harness import sign_in

    times = []
    for n in range(1, count + 1):
        started = time.perf_counter()
        sign_in(port, f"EXD{n:06d}")
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2], times[-1]


def verify(env, plan, results, resumable=False):
    out = subprocess.run(
        [PYTHON, str(BENCH / "exam_db.py"), "verify", "--plan", plan, "--results", results]
        + (["--resumable"] if resumable else []),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr[-3000:])
    line = next((x for x in out.stdout.splitlines() if x.startswith("verify: ")), None)
    if line is None:
        return {"problems": ["verification did not run"], "lost_answers": None}
    return json.loads(line.removeprefix("verify: "))


def report(results):
    """Print the per-endpoint table; (total errors, worst p95)."""
    print(
        f"\n{'endpoint':<14}{'count':>8}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"
        "  statuses"
    )
    errors, worst = 0, 0.0
    expected = EXPECTED_STATUSES
    for name, e in results["endpoints"].items():
        print(
            f"{name:<14}{e['count']:>8}{e['rps']:>8.1f}{e['p50']:>8.0f}{e['p95']:>8.0f}"
            f"{e['p99']:>8.0f}{e['max']:>8.0f}  {e['statuses']}"
        )
        errors += sum(
            n for s, n in e["statuses"].items() if int(s) not in expected.get(name, {200})
        )
        worst = max(worst, e["p95"])
    total = sum(e["count"] for e in results["endpoints"].values())
    print(
        f"{'all':<14}{total:>8}{total / results['elapsed']:>8.1f}   (latencies in ms, "
        f"{results['elapsed']:.0f} s)"
    )
    print(
        f"connection errors: {results['connection_error_count']} {results['connection_errors'][:3]}"
    )
    for key in ("failed_officials", "failed_saves", "failed_submits"):
        if results[key]:
            print(f"{key}: {len(results[key])}, e.g. {results[key][:3]}")
    return errors, worst


def over_target(results):
    """["endpoint p95 N ms (target T)"] for each endpoint slower at p95 than its
    target: SIGN_IN_P95_TARGET_MS for the sign-in POST, P95_TARGET_MS for the rest."""
    over = []
    for name, e in results["endpoints"].items():
        target = SIGN_IN_P95_TARGET_MS if name == SIGN_IN else P95_TARGET_MS
        if e["p95"] >= target:
            over.append(f"{name} p95 {e['p95']:.0f} ms (target < {target})")
    return over


def parse_args(argv=None):
    """The command line, with each mode's defaults filled in and --speed applied
    (args.real_* keep the uncompressed window, sitting and save interval)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--morning",
        action="store_true",
        help="the real morning: sign in through the form (Argon2id), dashboard, exam",
    )
    parser.add_argument("--officials", type=int, default=50)
    parser.add_argument(
        "--window",
        "--ramp",
        dest="ramp",
        type=float,
        metavar="SECONDS",
        help="seconds over which officials arrive (default 120, or 1800 with --morning)",
    )
    parser.add_argument(
        "--arrivals",
        choices=["uniform", "morning"],
        help="arrival curve (default uniform, or with --morning `morning`: Beta(2, 3))",
    )
    parser.add_argument(
        "--duration",
        type=float,
        help="seconds of saving per official (default 20, or 1200 with --morning)",
    )
    parser.add_argument("--save-every", type=float, default=30)
    parser.add_argument(
        "--speed",
        type=float,
        default=1,
        help="play window, sitting and save interval this many times faster",
    )
    parser.add_argument(
        "--officials-per-address",
        type=int,
        default=1,
        help="officials behind one client address (an office's NAT); default 1",
    )
    parser.add_argument("--connections", type=int, default=64, help="requests in flight at most")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--port", type=int, help="default: a free loopback port")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", help="default xuefa_load_bench (xuefa_morning_bench)")
    parser.add_argument("--redis", help="default redis://127.0.0.1:6379/7 (/9 with --morning)")
    parser.add_argument("--login-sample", type=int, help="default 5 (0 with --morning)")
    parser.add_argument(
        "--template",
        help="copy this migrated database with the demo data instead of migrating afresh; "
        "`auto` (the default with --morning): one built once per code and day; `none`",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--max-seconds", type=float, help="stop the load after this long (officials unfinished)"
    )
    parser.add_argument(
        "--no-latency-target",
        action="store_true",
        help="judge errors, lost answers and grading only (CI on a shared machine)",
    )
    args = parser.parse_args(argv)
    for key, value in MODES["morning" if args.morning else "plain"].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.template == "none":
        args.template = None
    if args.port is None:
        args.port = free_port()
    args.real_ramp, args.real_duration, args.real_save_every = (
        args.ramp,
        args.duration,
        args.save_every,
    )
    args.ramp /= args.speed
    args.duration /= args.speed
    args.save_every /= args.speed
    return args


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def describe_addresses(args, plan):
    """How the officials' client addresses meet the app's per-address sign-in limits."""
    limits = plan.get("sign_in_limits") or {}
    hops = plan.get("trusted_proxies", 0)
    per = args.officials_per_address
    peak = PEAK_OVER_AVERAGE[args.arrivals] * 60 / max(args.ramp, 1e-9)
    print(
        f"client addresses: {per} official(s) per address, sent as X-Forwarded-For as the "
        f"deployment's nginx sends it; the app trusts {hops} proxy hop(s) "
        f"(XUEFA_TRUSTED_PROXY_COUNT), so allauth counts each official's own address",
        flush=True,
    )
    if not hops:
        print("  WARNING: no proxy hop trusted: every official is 127.0.0.1 to the app")
    rules = ", ".join(f"{k} {v}" for k, v in limits.items()) if limits else "none"
    print(
        f"  sign-in limits (ACCOUNT_RATE_LIMITS): {rules}; 'login' counts every sign-in "
        f"POST, successes too. Busiest minute: about "
        f"{min(per, args.officials) * peak:.1f} sign-ins per address; from one address "
        f"(no proxy header) it would be {args.officials * peak:.0f}",
        flush=True,
    )


def describe_load(args):
    speed = ""
    if args.speed != 1:
        speed = (
            f" (--speed {args.speed:g}: window {args.real_ramp:.0f} s, sitting "
            f"{args.real_duration:.0f} s, saves every {args.real_save_every:g} s played "
            f"{args.speed:g}x faster: the request rates of "
            f"{args.officials * args.speed:.0f} officials at real speed)"
        )
    how = "signing in, then the dashboard, " if args.morning else "signed in, "
    print(
        f"load: {args.officials} officials {how}arriving over {args.ramp:.0f} s "
        f"({args.arrivals}), saving {args.duration:.0f} s every {args.save_every:g} s, "
        f"at most {args.connections} requests in flight{speed}",
        flush=True,
    )


def print_login_sample(args):
    median, worst = login_sample(args.port, args.login_sample)
    print(
        f"sign-in (one at a time, {args.login_sample} officials): "
        f"median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms -> "
        f"{args.officials} sign-ins one after another would take "
        f"{median * args.officials / 60:.0f} minutes",
        flush=True,
    )


def run_load(args, env, plan, results_path):
    """Serve the app, run the load generator against it; (results, CPU figures)."""
    extra = [
        "--arrivals",
        args.arrivals,
        "--officials-per-address",
        str(args.officials_per_address),
        *(["--morning"] if args.morning else []),
    ]
    with served(env, args.port) as server:
        if args.login_sample:
            print_login_sample(args)
        describe_load(args)
        print(f"machine: reference loop {reference_ms():.0f} ms (lower is faster)", flush=True)
        with DatabaseCpu(args.database) as database:
            before = cpu_ticks(server.pid)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            command = load_command(args.port, plan, results_path, args, extra)
            subprocess.run(command, cwd=ROOT, check=True)
            elapsed = time.perf_counter() - started
            after = cpu_ticks(server.pid)
            done = resource.getrusage(resource.RUSAGE_CHILDREN)
    loadgen = done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime
    with open(results_path) as fh:
        results = json.load(fh)
    return results, (before, after, loadgen, elapsed, database.seconds())


def print_arrivals(args, results):
    arrivals = results.get("arrivals")
    if arrivals:
        print(
            f"arrivals ({args.arrivals}): busiest tenth of the window from "
            f"{arrivals['at']:.0f} s: {arrivals['officials']} officials, "
            f"{arrivals['per_second']:.2f}/s (average {arrivals['average_per_second']:.2f}/s)"
        )


def judge(args, results, summary, errors):
    """Print the PASS/FAIL line; whether it passed."""
    errors += results["connection_error_count"] + len(results["failed_officials"])
    unfinished = results.get("unfinished_officials", 0)
    if unfinished:
        print(f"unfinished officials (stopped by --max-seconds): {unfinished}")
        errors += unfinished
    lost = summary["lost_answers"]
    slow = [] if args.no_latency_target else over_target(results)
    worst = max((e["p95"] for n, e in results["endpoints"].items() if n != SIGN_IN), default=0)
    sign_in = results["endpoints"].get(SIGN_IN, {}).get("p95")
    ok = errors == 0 and lost == 0 and not summary["problems"] and not slow
    print(
        f"{'PASS' if ok else 'FAIL'}: {args.officials} officials, {errors} errors, "
        f"{lost} lost answers, worst p95 {worst:.0f} ms (target < {P95_TARGET_MS} ms)"
        + (
            f", sign-in p95 {sign_in:.0f} ms (target < {SIGN_IN_P95_TARGET_MS} ms)"
            if sign_in is not None
            else ""
        )
        + f", {summary['submitted_attempts']} attempts graded"
        + (
            f" ({summary['awaiting_marking']} awaiting a marker for written answers)"
            if summary.get("awaiting_marking")
            else ""
        )
        + ", "
        f"over target: {slow or 'none'}, problems: {summary['problems'] or 'none'}"
    )
    return ok


def main():
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="xuefa-examday-"))
    plan, results_path = str(workdir / "plan.json"), str(workdir / "results.json")
    env = prepare_database(
        args.pg,
        args.database,
        args.redis,
        args.officials,
        plan,
        args.template,
        sessions=not args.morning,
    )
    env = app_env(env["DATABASE_URL"], args.redis, args.workers)
    if args.morning:
        env["XUEFA_TRUSTED_PROXY_COUNT"] = "1"  # production's default: nginx in front
        with open(plan) as fh:
            describe_addresses(args, json.load(fh))
    collect_static(env)
    flush_redis(args.redis)
    results, cpu = run_load(args, env, plan, results_path)
    errors, _worst = report(results)
    print_arrivals(args, results)
    total = sum(e["count"] for e in results["endpoints"].values())
    before, after, loadgen, elapsed, postgres = cpu
    print_cpu(before, after, loadgen, elapsed, requests=total, postgres_seconds=postgres)
    print(f"machine: reference loop {reference_ms():.0f} ms after the load", flush=True)
    summary = verify(env, plan, results_path)
    ok = judge(args, results, summary, errors)
    if not args.keep:
        psql(args.pg, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
