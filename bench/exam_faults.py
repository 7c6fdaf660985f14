"""Exam-day fault tests: the app server killed, PostgreSQL restarted, Redis gone,
each in the middle of a run of exam takers; then the database is checked.

    .venv/bin/python bench/exam_faults.py                       # all three, 500 takers
    .venv/bin/python bench/exam_faults.py --takers 30 --duration 15 kill   # CI size

Everything runs against a PRIVATE PostgreSQL cluster (`pg_createcluster <ver>
xuefa_faults -p 5441`, trust auth on loopback, dropped at the end unless
--keep-cluster) and, for the Redis case, a private redis-server on port 6391: the
shared servers on 5432/6379 are never touched. Needs root (or the postgres
tools on PATH with the rights to create a cluster).

Scenarios (each on a fresh database copied from a migrated template):
  kill   gunicorn's master and workers get SIGKILL at random moments (every
         3-10 s after it answers again) and restarted; clients retry with back-off.
  pg     PostgreSQL is restarted (fast mode: every connection is cut) twice
         during the run; the app must reconnect by itself (CONN_HEALTH_CHECKS).
  redis  the app runs with REDIS_URL on the private Redis, which is killed
         mid-run and not restarted; the site must keep working (sessions are in
         the database, the cache fails safe, see xuefa/cache.py).

Takers start or resume their attempt, save answers, start again before
submitting (a resume must give the same attempt) and submit. Pass: every taker
finished, 0 acknowledged answers lost, every attempt resumed as itself, every
submitted attempt graded exactly once. Connection errors and 5xx during the fault
are expected and only reported; clients' retries must then succeed.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exam_day import (  # noqa: E402
    ROOT,
    app_env,
    collect_static,
    flush_redis,
    load_command,
    manage,
    prepare_database,
    psql,
    start_app,
    stop_app,
    verify,
)

CLUSTER = "xuefa_faults"
TEMPLATE = "xuefa_faults_template"


def pg_version():
    return sorted(os.listdir("/etc/postgresql"), key=int)[-1]


def ensure_cluster(port):
    """The private cluster, created (trust auth on loopback) and started."""
    version = pg_version()
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    if not any(line.split()[:2] == [version, CLUSTER] for line in listed.splitlines()):
        subprocess.run(
            ["pg_createcluster", version, CLUSTER, "-p", str(port), "--", "--auth=trust"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    subprocess.run(["pg_ctlcluster", version, CLUSTER, "start"], check=False)
    wait_port(port)
    return version


def drop_cluster(version):
    subprocess.run(["pg_dropcluster", "--stop", version, CLUSTER], check=False)


def wait_port(port, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"Nothing listens on port {port}")


def build_template(server, redis_url, copy_from=None):
    """Migrate and load the demo data once (or copy `copy_from`, a database URL
    migrated with the demo data); each scenario copies this database."""
    psql(server, f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    psql(server, f'CREATE DATABASE "{TEMPLATE}"')
    env = app_env(f"{server}/{TEMPLATE}", redis_url)
    if copy_from:
        dump = subprocess.Popen(["pg_dump", "--no-owner", copy_from], stdout=subprocess.PIPE)
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{server}/{TEMPLATE}"],
            stdin=dump.stdout,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        if dump.wait():
            raise SystemExit(f"pg_dump of {copy_from} failed")
    else:
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo_data")
    collect_static(env)


def run_with_fault(name, env, port, args, plan, workdir, fault):
    """Start the app, run the takers in their own process, call fault(state) in a
    thread while they run; stop the app; verify. Returns (ok, line)."""
    results = str(workdir / f"{name}-results.json")
    log = str(workdir / f"{name}-app.log")
    state = {"server": start_app(env, port, log), "running": True, "events": [], "log": log}
    extra = ["--resume", "--retry-for", str(args.retry_for)]
    load = subprocess.Popen(load_command(port, plan, results, args, extra), cwd=ROOT)
    started = time.perf_counter()

    def guarded(state):
        try:
            fault(state)
        except BaseException as error:  # a fault that failed is a failed test, not a hang
            state["events"].append(f"fault action failed: {error!r}")
            state["fault_failed"] = True

    thread = threading.Thread(target=guarded, args=(state,), daemon=True)
    thread.start()
    try:
        load.wait()
        state["running"] = False
        print(f"{name}: takers done in {time.perf_counter() - started:.0f} s", flush=True)
        thread.join(timeout=150)
    finally:
        state["running"] = False
        if load.poll() is None:
            load.kill()
        stop_app(state["server"], hard=True)
    with open(results) as fh:
        out = json.load(fh)
    summary = verify(env, plan, results, resumable=True)
    finished = len(out["resumed"])
    statuses = {}
    for endpoint in out["endpoints"].values():
        for status, count in endpoint["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    ok = (
        not state.get("fault_failed")
        and not out["failed_officials"]
        and not out["failed_saves"]
        and not out["failed_submits"]
        and finished == args.takers
        and summary["lost_answers"] == 0
        and not summary["problems"]
    )
    line = (
        f"{'PASS' if ok else 'FAIL'} {name}: {'; '.join(state['events']) or 'no fault'}; "
        f"{finished}/{args.takers} takers finished and resumed their own attempt, "
        f"{summary['acknowledged_answers']} acknowledged answers, "
        f"{summary['lost_answers']} lost, {summary['submitted_attempts']} graded, "
        f"responses {statuses}, connection errors {out['connection_error_count']}, "
        f"failed officials/saves/submits {len(out['failed_officials'])}/"
        f"{len(out['failed_saves'])}/{len(out['failed_submits'])}, "
        f"problems: {summary['problems'] or 'none'}"
    )
    text = Path(log).read_text(errors="replace")
    errors = text.count("Traceback")
    line += f"; {errors} tracebacks in the app's log"
    if errors:
        # What they were: each traceback's closing line (the exception), counted.
        raised = Counter(
            m.group(1)[:160]
            for m in re.finditer(r"^((?:[\w.]+\.)?\w*(?:Error|Exception|Exit)\b.*)$", text, re.M)
        )
        line += " (" + "; ".join(f"{n} x {what}" for what, n in raised.most_common(4)) + ")"
    print(line, flush=True)
    return ok, line


def kill_fault(env, port, rng):
    """SIGKILL the master and workers at a random moment 3-10 s after the app last
    answered, restart it at once, and again until the takers are done."""

    def fault(state):
        kills, boot = 0, []
        time.sleep(rng.uniform(3, 10))
        while state["running"]:
            stop_app(state["server"], hard=True)
            kills += 1
            time.sleep(rng.uniform(0.1, 1.0))
            started = time.perf_counter()
            state["server"] = start_app(env, port, state["log"])
            boot.append(time.perf_counter() - started)
            time.sleep(rng.uniform(3, 10))
        slowest = max(boot, default=0)
        state["events"].append(f"{kills} kill -9 and restarts (slowest back in {slowest:.0f} s)")

    return fault


def pg_fault(version, pause, rng):
    """Two restarts, each after `pause` seconds or so (a quarter of the ramp)."""

    def fault(state):
        for restarts in range(1, 3):
            time.sleep(rng.uniform(pause, 2 * pause))
            if not state["running"]:
                break
            started = time.perf_counter()
            subprocess.run(["pg_ctlcluster", version, CLUSTER, "restart", "-m", "fast"], check=True)
            state["events"].append(
                f"PostgreSQL restart {restarts} took {time.perf_counter() - started:.1f} s"
            )

    return fault


def redis_fault(redis, pause, rng):
    def fault(state):
        time.sleep(rng.uniform(pause, 2 * pause))
        if redis.poll() is None:
            redis.send_signal(signal.SIGKILL)
            redis.wait()
            state["events"].append("Redis killed (not restarted)")

    return fault


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("scenarios", nargs="*", default=["kill", "pg", "redis"])
    parser.add_argument("--takers", type=int, default=500)
    parser.add_argument("--ramp", type=float, default=10)
    parser.add_argument("--duration", type=float, default=30, help="seconds of saving per taker")
    parser.add_argument("--save-every", type=float, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--port", type=int, default=8122)
    parser.add_argument("--pg-port", type=int, default=5441)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--retry-for", type=float, default=300, help="how long a taker keeps retrying a request"
    )
    parser.add_argument("--keep-cluster", action="store_true")
    parser.add_argument(
        "--template-from", help="URL of a migrated demo database to copy instead of migrating"
    )
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)  # noqa: S311 - fault timing, not a secret
    print(f"fault tests {args.scenarios}, {args.takers} takers, seed {seed}", flush=True)

    # A SIGTERM (CI's time limit, Ctrl-C) still cleans up: the finally below runs.
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="xuefa-faults-"))
    version = ensure_cluster(args.pg_port)
    server = f"postgres://postgres@127.0.0.1:{args.pg_port}"
    # The app's cache for the kill and pg cases: a private Redis too (never the shared one).
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(args.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_port(args.redis_port)
    redis_url = f"redis://127.0.0.1:{args.redis_port}/0"
    verdicts = []
    try:
        started = time.perf_counter()
        build_template(server, redis_url, args.template_from)
        print(f"template database ready in {time.perf_counter() - started:.0f} s", flush=True)
        for name in args.scenarios:
            database = f"xuefa_load_faults_{name}"
            plan = str(workdir / f"{name}-plan.json")
            if name == "redis" and redis.poll() is not None:
                redis = subprocess.Popen(
                    [
                        "redis-server",
                        "--port",
                        str(args.redis_port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ],
                    stdout=subprocess.DEVNULL,
                )
                wait_port(args.redis_port)
            # Each scenario's database starts its ids afresh: what the previous one
            # left in the cache (frozen papers by attempt id) must not be read as its own.
            flush_redis(redis_url)
            env = prepare_database(server, database, redis_url, args.takers, plan, TEMPLATE)
            env = app_env(env["DATABASE_URL"], redis_url)
            if name == "kill":
                fault = kill_fault(env, args.port, rng)
            elif name == "pg":
                fault = pg_fault(version, max(3, args.ramp / 4), rng)
            else:
                fault = redis_fault(redis, max(3, args.ramp / 4), rng)
            verdicts.append(run_with_fault(name, env, args.port, args, plan, workdir, fault))
            psql(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        if redis.poll() is None:
            redis.terminate()
            redis.wait()
        if args.keep_cluster:
            psql(server, f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        else:
            drop_cluster(version)
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(line for _ok, line in verdicts))
    sys.exit(0 if verdicts and all(ok for ok, _line in verdicts) else 1)


if __name__ == "__main__":
    main()
