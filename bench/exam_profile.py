"""Where an exam-day request's time goes: queries and wall time per endpoint,
measured in-process with Django's test client against a database prepared by
exam_day.py --keep (run with the same environment: production settings,
DATABASE_URL, REDIS_URL, SECRET_KEY; exam_day.py's app_env).

    python bench/exam_profile.py --plan plan.json [--officials 20] [--profile]

For each of the first --officials bench officials (who must not have started yet)
it walks the exam-day path once and prints, per endpoint, the median wall time,
the median number of queries and (with -v) the queries of the first official.
--profile writes a cProfile of the whole walk to /tmp/exam_profile.pstats.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import defaultdict

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

    def hit(name, client, method, path, data=None, **extra):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = getattr(client, method)(path, data or {}, **extra)
            times[name].append((time.perf_counter() - started) * 1000)
        counts[name].append(len(ctx.captured_queries))
        first.setdefault(name, [q["sql"][:160] for q in ctx.captured_queries])
        return response

    def walk():
        for person in plan["officials"][args.skip : args.skip + args.officials]:
            client = Client(enforce_csrf_checks=False)
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
            hit("POST submit", client, "post", path + "submit/")
            hit("POST submit 2", client, "post", path + "submit/")
            hit("GET result", client, "get", path + "result/")

    if args.profile:
        import cProfile

        cProfile.runctx("walk()", globals(), locals(), "/tmp/exam_profile.pstats")  # noqa: S108
    else:
        walk()
    print(f"{'endpoint':<14}{'ms p50':>8}{'queries':>9}")
    for name in times:
        print(
            f"{name:<14}{statistics.median(times[name]):>8.1f}"
            f"{statistics.median(counts[name]):>9.0f}"
        )
        if args.v:
            for sql in first[name]:
                print("     ", sql)


if __name__ == "__main__":
    main()
