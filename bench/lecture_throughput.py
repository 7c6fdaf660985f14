"""Lecture page and study heartbeat throughput against a bare Django view.

Serves the app with gunicorn (the project's gunicorn.conf.py, one configuration for
every target) on a free loopback port, signs in the demo official, and loads each
target with concurrent clients from a separate asyncio process (one connection per
request, as gunicorn's sync workers close it anyway), in interleaved rounds:

  bare       a view returning "ok" through the full middleware stack
  dashboard  the official's home page `/` (panels kept per official between changes)
  lecture    a lecture page (Wagtail routing, StreamField, study record)
  heartbeat  POST to the study heartbeat (credits time, compare-and-set UPDATE)

It prints requests per second and latency percentiles of the median round, the CPU
milliseconds per request in the app and in the database, and the ratio to the bare
view (the median over rounds of target / bare in the same round; targets: dashboard
>= 0.33, at most three times the bare view's cost; lecture >= 0.5; heartbeat >= 0.7).
The bare view only exists in a bench URLconf written to a temporary folder, so the
site itself has no bench-only code.

    .venv/bin/python bench/lecture_throughput.py [--seconds 4] [--rounds 5] [--clients 8]
        [--workers N]

Uses DATABASE_URL when set (PostgreSQL recommended); otherwise a temporary SQLite
database is created, migrated and loaded with the demo data.
"""

import argparse
import sys

from harness import BARE_PATH, compare, run_in_django, served_app, sign_in

USERNAME = "official"
LECTURE_PATH = "/lectures/constitution/"
TARGETS = {"bare": None, "dashboard": 0.33, "lecture": 0.5, "heartbeat": 0.7}


def run(args):
    with served_app(args.workers) as (port, env):
        session = sign_in(port, USERNAME)
        status, _ = session.request("GET", LECTURE_PATH)
        if status != 200:
            raise SystemExit(f"{LECTURE_PATH} answered {status}")
        lecture_id = int(
            run_in_django(
                env,
                "from learning.models import LecturePage\n"
                f"print(LecturePage.objects.get(url_path__endswith='{LECTURE_PATH[9:]}').pk)",
            ).split()[-1]
        )
        heartbeat = f"/study/{lecture_id}/heartbeat/"

        def clients(method, path, body=None, headers=None):
            raw = session.raw(method, path, body, headers)
            return [[raw] for _ in range(args.clients)]

        targets = {
            "bare": clients("GET", BARE_PATH),
            "dashboard": clients("GET", "/"),
            "lecture": clients("GET", LECTURE_PATH),
            "heartbeat": clients("POST", heartbeat, {"event": "beat"}, session.csrf_headers()),
        }
        compare(port, targets, min(2, args.seconds), rounds=1)  # warm up every path
        results = compare(port, targets, args.seconds, args.rounds)

    workers = args.workers or "gunicorn.conf.py's"
    print(
        f"\ngunicorn: {workers} sync workers; {args.clients} clients; "
        f"{args.rounds} interleaved rounds of {args.seconds} s per target (median shown)"
    )
    print(
        f"{'target':<10} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>7} {'target':>7}"
        f" {'':>5} {'app CPU ms':>10} {'db CPU ms':>10}"
    )
    ok = True
    for name, result in results.items():
        ratio = result["ratio"]
        goal = TARGETS[name]
        mark = "" if goal is None else ("ok" if ratio >= goal else "BELOW")
        ok = ok and (goal is None or ratio >= goal)
        print(
            f"{name:<10} {result['rps']:>9.1f} {result['p50']:>8.1f} {result['p95']:>8.1f} "
            f"{ratio:>7.2f} {'' if goal is None else goal:>7} {mark:>5} "
            f"{result['app_cpu_ms'] or 0:>10.2f} {result['db_cpu_ms'] or 0:>10.2f}"
        )
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=None, help="default: gunicorn.conf.py (2 x cores + 1)"
    )
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
