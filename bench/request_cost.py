"""In-process cost per request: CPU milliseconds and database queries.

Throughput on a shared machine is noisy; the CPU time a request costs in the
process that serves it is not. This runs the same requests as the gunicorn benches
(bare view GET and POST, lecture page, study heartbeat, attempt page, answer save)
through Django's test client with the bench settings (production settings: Redis
cache, cached_db sessions) against a database with the demo data, and prints the
mean CPU ms and the queries of one request for each.

    .venv/bin/python bench/request_cost.py [--requests 300] [--sql] [--only lecture]
        [--profile] [--keep-db]

Uses DATABASE_URL (PostgreSQL recommended; the database is migrated and the demo
data loaded first) or a temporary SQLite database, and REDIS_URL as the harness does.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import BARE_PATH, PYTHON, ROOT, bench_env, describe

LECTURE_PATH = "/lectures/constitution/"
SAVER = "BH0060"


def prepare(env):
    quiet = {"env": env, "cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], check=True, **quiet)
    subprocess.run([*manage, "load_demo_data"], check=True, **quiet)


def signed_in(username):
    from django.test import Client

    from learning.models import User

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username=username))
    client.get("/")  # the CSRF cookie and the session's start time
    return client


def csrf(client):
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def start_attempt(client):
    page = client.get("/exams/").content
    session_id = re.search(rb'href="/exams/(\d+)/">\d{4}\xe5\xb9\xb4\xe5\xba\xa6', page).group(1)
    session_id = session_id.decode()
    client.post(f"/exams/{session_id}/start/", **csrf(client))
    page = client.get(f"/exams/{session_id}/").content
    path = "/exams/{}/attempts/{}/".format(
        session_id, re.search(rb'href="/exams/\d+/attempts/(\d+)/"', page).group(1).decode()
    )
    page = client.get(path).content
    choices = {}
    for position, value in re.findall(rb'name="q(\d+)" value="([A-Z])"', page):
        choices.setdefault(int(position), value.decode())
    return path, [{"position": p, "response": v} for p, v in sorted(choices.items())]


def cost(label, one_request, count, profile=False):
    from django.db import connection

    for _ in range(20):
        response = one_request()
        if response.status_code != 200:
            raise SystemExit(f"{label}: status {response.status_code}")
    # Count with a wrapper: the query log is reset by each request's start signal.
    queries = []

    def log(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(log):
        one_request()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    started = time.process_time()
    wall = time.perf_counter()
    for _ in range(count):
        one_request()
    cpu_ms = (time.process_time() - started) * 1000 / count
    wall_ms = (time.perf_counter() - wall) * 1000 / count
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("PROFILE_LINES", "45")))
    print(f"{label:<12} {cpu_ms:8.2f} {wall_ms:8.2f} {len(queries):8d}", flush=True)
    return queries


def measure(count, show_sql, only=None, profile=False):
    import django

    django.setup()
    from learning.models import LecturePage, User

    official = signed_in("official")
    saver_user = User.objects.get(username=SAVER)
    saver_user.must_change_password = False
    saver_user.save(update_fields=["must_change_password"])
    saver = signed_in(SAVER)
    attempt_path, payloads = start_attempt(saver)
    lecture = LecturePage.objects.live().get(url_path__endswith=LECTURE_PATH[9:])
    heartbeat = f"/study/{lecture.pk}/heartbeat/"
    bodies = iter(payloads * (count + 100))

    print(f"{'request':<12} {'CPU ms':>8} {'wall ms':>8} {'queries':>8}")
    targets = {
        "bare GET": lambda: official.get(BARE_PATH),
        "lecture": lambda: official.get(LECTURE_PATH),
        "heartbeat": lambda: official.post(heartbeat, {"event": "beat"}, **csrf(official)),
        "bare POST": lambda: saver.post(BARE_PATH, {"n": 1}, **csrf(saver)),
        "attempt": lambda: saver.get(attempt_path),
        "save": lambda: saver.post(attempt_path + "answer/", next(bodies), **csrf(saver)),
    }
    for label, one_request in targets.items():
        if only and label not in only:
            continue
        sql = cost(label, one_request, count, profile)
        if show_sql:
            for statement in sql:
                print(f"    {statement[:300]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sql", action="store_true", help="print each request's queries")
    parser.add_argument("--only", action="append", help="measure only this request")
    parser.add_argument("--profile", action="store_true", help="print a cProfile per request")
    parser.add_argument("--keep-db", action="store_true", help="skip migrate and demo data")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        measure(args.requests, args.sql, args.only, args.profile)
        return
    with tempfile.TemporaryDirectory(prefix="xuefa-cost-") as workdir:
        env = bench_env(workdir)
        describe(env)
        if not args.keep_db:
            prepare(env)
        command = [PYTHON, __file__, "--inner", "--requests", str(args.requests)]
        command += ["--sql"] * args.sql + ["--profile"] * args.profile
        for label in args.only or ():
            command += ["--only", label]
        sys.exit(subprocess.run(command, env=env, cwd=Path(__file__).parent).returncode)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
