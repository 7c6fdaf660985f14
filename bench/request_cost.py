"""In-process cost per request: CPU milliseconds and database queries.

Throughput on a shared machine is noisy; the CPU time a request costs in the
process that serves it is not. This runs the same requests as the gunicorn benches
(bare view GET and POST, the dashboard, lecture page, study heartbeat, attempt page, answer save)
through Django's test client with the bench settings (production settings: Redis
cache, database sessions) against a database with the demo data, and prints the
least mean CPU ms over five interleaved rounds and the queries of one request
for each.

    .venv/bin/python bench/request_cost.py [--requests 300] [--sql] [--only lecture]
        [--profile] [--keep-db] [--without shells] [--each-shortcut]

`--without NAME` turns one fast path (learning/fast) off, to see what it saves;
`--each-shortcut` prints the figures with each of them off in turn. XUEFA_FAST_PATHS=
false in the environment turns them all off.

Uses DATABASE_URL (PostgreSQL recommended; the database is migrated and the demo
data loaded first) or a temporary SQLite database, and REDIS_URL as the harness does.
"""

import argparse
import contextlib
import importlib
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

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


def form_post(client, path, data):
    """A POST as the pages and the gunicorn benches send it: urlencoded, not the test
    client's default multipart body (whose parser costs more)."""
    return client.post(
        path, urlencode(data), content_type="application/x-www-form-urlencoded", **csrf(client)
    )


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


def warm_and_count(label, one_request):
    """Warm up one request kind; the SQL statements one request runs."""
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
    return queries


def cpu_ms(one_request, count):
    started = time.process_time()
    for _ in range(count):
        one_request()
    return (time.process_time() - started) * 1000 / count


def profile(label, one_request, count):
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(count):
        one_request()
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
    print(f"--- {label}")
    stats.print_stats(int(os.environ.get("PROFILE_LINES", "45")))


def _off(dotted, attribute, value):
    """Set `attribute` of the module or class at `dotted` to `value`, once set up."""

    def apply():
        from django.utils.module_loading import import_string

        try:
            owner = importlib.import_module(dotted)
        except ModuleNotFoundError:
            owner = import_string(dotted)
        setattr(owner, attribute, value)

    return apply


# Each fast path, and how to turn only it off in this process.
SHORTCUTS = {
    "read_ahead": _off("learning.fast.read_ahead", "scope", contextlib.nullcontext),
    "site": _off("learning.middleware", "find_site", lambda request: None),
    "route": _off("learning.middleware", "lecture_route", lambda request, path: None),
    "restrictions": _off("learning.models.lectures", "any_exist", lambda: True),
    "shells": _off("learning.models.lectures.LecturePage", "serve_shell", lambda *a: None),
    "layout_parts": _off("learning.templatetags.page_shells", "layout_part", lambda *a: None),
    "back_office": _off("learning.fast.back_office", "enabled", lambda: False),
    "auth": _off("learning.fast.auth", "enabled", lambda: False),
    "sessions": _off("learning.fast.sessions", "enabled", lambda: False),
    "memo": _off("learning.fast.memo", "enabled", lambda: False),
}


def measure(count, show_sql, only=None, profile_them=False, without=()):
    import django

    django.setup()
    for name in without:
        SHORTCUTS[name]()
    from learning.models import LecturePage, User

    official = signed_in("official")
    saver_user = User.objects.get(username=SAVER)
    saver_user.must_change_password = False
    saver_user.save(update_fields=["must_change_password"])
    saver = signed_in(SAVER)
    attempt_path, payloads = start_attempt(saver)
    lecture = LecturePage.objects.live().get(url_path__endswith=LECTURE_PATH[9:])
    heartbeat = f"/study/{lecture.pk}/heartbeat/"
    bodies = itertools.cycle(payloads)

    targets = {
        "bare GET": lambda: official.get(BARE_PATH),
        "dashboard": lambda: official.get("/"),
        "lecture": lambda: official.get(LECTURE_PATH),
        "heartbeat": lambda: form_post(official, heartbeat, {"event": "beat"}),
        "bare POST": lambda: form_post(saver, BARE_PATH, {"n": 1}),
        "attempt": lambda: saver.get(attempt_path),
        "save": lambda: form_post(saver, attempt_path + "answer/", next(bodies)),
    }
    targets = {k: v for k, v in targets.items() if not only or k in only}
    queries = {label: warm_and_count(label, one) for label, one in targets.items()}
    if profile_them:
        for label, one_request in targets.items():
            profile(label, one_request, count)
    # Rounds of every request kind in turn; the least CPU per request over the rounds
    # is the figure least disturbed by other work on the machine.
    rounds = 5
    best = dict.fromkeys(targets, float("inf"))
    for _ in range(rounds):
        for label, one_request in targets.items():
            best[label] = min(best[label], cpu_ms(one_request, max(1, count // rounds)))
    print(f"{'request':<12} {'CPU ms':>8} {'queries':>8}")
    for label in targets:
        print(f"{label:<12} {best[label]:8.2f} {len(queries[label]):8d}")
        if show_sql:
            for statement in queries[label]:
                print(f"    {statement[:300]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sql", action="store_true", help="print each request's queries")
    parser.add_argument("--only", action="append", help="measure only this request")
    parser.add_argument("--profile", action="store_true", help="print a cProfile per request")
    parser.add_argument("--keep-db", action="store_true", help="skip migrate and demo data")
    parser.add_argument(
        "--without", action="append", default=[], choices=sorted(SHORTCUTS),
        help="turn this fast path off",
    )  # fmt: skip
    parser.add_argument(
        "--each-shortcut", action="store_true", help="measure with each fast path off in turn"
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        measure(args.requests, args.sql, args.only, args.profile, args.without)
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
        variants = [args.without] + ([[name] for name in SHORTCUTS] if args.each_shortcut else [])
        for without in variants:
            if len(variants) > 1:
                print(f"== without: {', '.join(without) or 'nothing (all fast paths on)'}")
            extra = [part for name in without for part in ("--without", name)]
            run = subprocess.run(command + extra, env=env, cwd=Path(__file__).parent)
            if run.returncode:
                sys.exit(run.returncode)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
