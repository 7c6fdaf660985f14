"""Where an exam-day request's time goes: queries and wall time per endpoint,
measured in-process with Django's test client against a database prepared by
exam_day.py --keep (run with the same environment: production settings,
DATABASE_URL, REDIS_URL, SECRET_KEY; exam_day.py's app_env).

    python bench/exam_profile.py --plan plan.json [--officials 20] [--profile]

For each of --officials bench officials after the first --skip (who must not have
started yet; one more walks first to warm up, uncounted) it walks the exam-day path
once and prints, per endpoint, the median wall time, the median CPU time of this
process (the app's share), the mean CPU time of the PostgreSQL backend serving it
(read from /proc when the server runs on this machine; "-" otherwise), the median
number of queries and (with -v) the queries of the first official. CPU times are
what to judge on a shared machine.
--profile writes a cProfile of the whole walk to /tmp/exam_profile.pstats and one
per endpoint to /tmp/exam_profile-<endpoint>.pstats (e.g. exam_profile-POST_start).
"""

import argparse
import cProfile
import json
import os
import pstats
import re
import statistics
import sys
import time
from collections import defaultdict
from urllib.parse import urlencode

import django

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True)
    parser.add_argument("--officials", type=int, default=20)
    parser.add_argument("--skip", type=int, default=0, help="skip the first N officials")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args()
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    with open(args.plan) as fh:
        plan = json.load(fh)
    sid = plan["session_id"]
    times, counts, first = defaultdict(list), defaultdict(list), {}

    cpu, db_cpu = defaultdict(list), defaultdict(list)
    backend = {}

    def backend_cpu():
        """CPU seconds the PostgreSQL backend of our connection has used, or None."""
        if connection.vendor != "postgresql":
            return None
        if connection.connection is None or "pid" not in backend:
            connection.ensure_connection()
            backend["pid"] = connection.connection.info.backend_pid
        try:
            with open(f"/proc/{backend['pid']}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    profiles = defaultdict(cProfile.Profile) if args.profile else None

    warming = {"on": False}

    def hit(name, client, method, path, data=None, **extra):
        if warming["on"]:
            return send(client, method, path, data, **extra)
        if profiles is not None:
            with profiles[name]:
                return measured(name, client, method, path, data, **extra)
        return measured(name, client, method, path, data, **extra)

    def send(client, method, path, data=None, **extra):
        """A GET, or a POST urlencoded as browsers send forms (the test client's
        default multipart body costs the parser several times more)."""
        if method == "post":
            body = urlencode(data or {}, doseq=True)
            return client.post(path, body, "application/x-www-form-urlencoded", **extra)
        return client.get(path, data or {}, **extra)

    def measured(name, client, method, path, data=None, **extra):
        with CaptureQueriesContext(connection) as ctx:
            db_before = backend_cpu()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = send(client, method, path, data, **extra)
            cpu[name].append((time.process_time() - cpu_started) * 1000)
            times[name].append((time.perf_counter() - started) * 1000)
            db_after = backend_cpu()
        if db_before is not None and db_after is not None:
            db_cpu[name].append((db_after - db_before) * 1000)
        counts[name].append(len(ctx.captured_queries))
        first.setdefault(name, [q["sql"][:160] for q in ctx.captured_queries])
        return response

    def walk():
        # One client (one request handler, as a gunicorn worker has): a new Client per
        # official would load the middleware again, and whitenoise's start-up scan
        # of the static files would be charged to that official's first request.
        # The first official warms the worker up (imports, URL resolvers, template
        # loading, cache) and is not counted, as a worker has served many by then.
        client = Client(enforce_csrf_checks=False)
        people = plan["officials"][args.skip : args.skip + args.officials + 1]
        for n, person in enumerate(people):
            warming["on"] = n == 0
            client.cookies.clear()
            client.cookies[plan["session_cookie"]] = person["sessionid"]
            hit("GET /exams/", client, "get", "/exams/")
            hit("GET session", client, "get", f"/exams/{sid}/")
            response = hit("POST start", client, "post", f"/exams/{sid}/start/")
            attempt = re.search(r"/attempts/(\d+)/", response["Location"]).group(1)
            path = f"/exams/{sid}/attempts/{attempt}/"
            page = hit("GET attempt", client, "get", path).content
            position, letter = re.search(rb'name="q(\d+)" value="([A-Z])"', page).groups()
            for _n in range(3):
                hit(
                    "POST answer",
                    client,
                    "post",
                    path + "answer/",
                    {"position": position.decode(), "response": letter.decode()},
                )
            # The submit form carries every checked input, as a browser sends it: here
            # the first option of every question (the worst case, all unsaved).
            form = {}
            for name, value in re.findall(rb'name="(q\d+)" value="([A-Z])"', page):
                form.setdefault(name.decode(), value.decode())
            hit("POST submit", client, "post", path + "submit/", form)
            hit("POST submit 2", client, "post", path + "submit/")
            hit("GET result", client, "get", path + "result/")

    walk()
    if profiles is not None:
        whole = None
        for name, profile in profiles.items():
            slug = re.sub(r"\W+", "_", name).strip("_")
            profile.dump_stats(f"/tmp/exam_profile-{slug}.pstats")  # noqa: S108
            stats = pstats.Stats(profile)
            whole = stats if whole is None else whole.add(stats)
        whole.dump_stats("/tmp/exam_profile.pstats")  # noqa: S108
    print(f"{'endpoint':<14}{'wall ms':>8}{'cpu ms':>8}{'db cpu':>8}{'queries':>9}")
    for name in times:
        db = f"{statistics.mean(db_cpu[name]):>8.1f}" if db_cpu[name] else f"{'-':>8}"
        print(
            f"{name:<14}{statistics.median(times[name]):>8.1f}"
            f"{statistics.median(cpu[name]):>8.1f}{db}"
            f"{statistics.median(counts[name]):>9.0f}"
        )
        if args.v:
            for sql in first[name]:
                print("     ", sql)


if __name__ == "__main__":
    main()
