"""What the exam morning costs per request, and whether a whole morning fits.

Latency on a shared machine says more about the neighbours than about the app; the
CPU a request costs does not. This measures, in-process (Django's test client, the
production settings exam_day.py --morning serves, one request handler as a gunicorn
worker has), the CPU ms of the app and of its PostgreSQL backend for each request of
the morning path, the median over --officials bench officials (one more walks
first to warm up, uncounted):

    GET sign-in, POST sign-in (allauth, the real Argon2id hash), GET dashboard,
    GET /exams/, GET session, POST start, GET attempt, POST answer (--saves each),
    POST submit, POST submit again (a double click), GET result

Then it models the morning of --model-officials officials (default 10,000)
arriving over --window seconds on the --arrivals curve (exam_load.py's), sitting
--duration seconds, saving every --save-every seconds and submitting (a tenth of
them twice): in steps of 10 s, how many requests of each kind reach the app and
what they cost, and prints the busiest 10 seconds' demand in cores (app, database)
against this machine's cores, and the full run's wall time at real speed.

    .venv/bin/python bench/morning_cost.py [--officials 20] [--saves 5]
        [--model-officials 10000] [--window 1800] [--duration 1200] [--save-every 30]
        [--arrivals morning] [--profile]

--profile writes a cProfile (CPU time) of each endpoint to
/tmp/morning_cost-<endpoint>.pstats.

Served by gunicorn the same requests cost more (HTTP parsing, whitenoise, a
connection per request): exam_day.py's CPU split came to about 1.4 times these
figures on the 2-core development machine while it was shared, so read the modelled
cores as a floor.

The database is exam_day.py's: copied from the bench template (built once per code
and day), the bench officials added without sessions, dropped afterwards (--keep).
"""

import argparse
import cProfile
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exam_day import MODES, ROOT, app_env, flush_redis, prepare_database, psql  # noqa: E402

DOUBLE_SUBMIT = 0.1  # exam_load.py's default share of double clicks
ARRIVAL = ("GET sign-in", "POST sign-in", "GET dashboard", "GET /exams/", "GET session")
ARRIVAL += ("POST start", "GET attempt")
LEAVING = {"POST submit": 1, "POST submit again": DOUBLE_SUBMIT, "GET result": 1}


class Meter:
    """Per endpoint: the app's CPU ms (this process), the database backend's and the
    number of queries."""

    def __init__(self, connection, profile=False):
        self.connection = connection
        self.app, self.db, self.queries = defaultdict(list), defaultdict(list), defaultdict(list)
        self.on = True
        self.executed = 0  # queries so far (count_query)
        # Timed by CPU, not the wall clock: on a shared machine the wall clock counts
        # the neighbours' time slices and the database's queueing.
        cpu_profile = lambda: cProfile.Profile(time.process_time)  # noqa: E731
        self.profiles = defaultdict(cpu_profile) if profile else None

    def backend_seconds(self):
        self.connection.ensure_connection()
        pid = self.connection.connection.info.backend_pid
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def count_query(self, execute, sql, params, many, context):
        """A database execute wrapper: counts each query."""
        self.executed += 1
        return execute(sql, params, many, context)

    def send(self, name, client, method, path, data=None, **extra):
        """A GET, or a POST urlencoded as a browser sends a form."""
        profile = self.profiles[name] if self.on and self.profiles is not None else None
        db_before, queries = self.backend_seconds(), self.executed
        started = time.process_time()
        if profile:
            profile.enable()
        if method == "post":
            body = urlencode(data or {}, doseq=True)
            response = client.post(path, body, "application/x-www-form-urlencoded", **extra)
        else:
            response = client.get(path, **extra)
        if profile:
            profile.disable()
        app_ms = (time.process_time() - started) * 1000
        db_after = self.backend_seconds()
        if self.on:
            self.app[name].append(app_ms)
            self.queries[name].append(self.executed - queries)
            if db_before is not None and db_after is not None:
                self.db[name].append((db_after - db_before) * 1000)
        return response


def expect(response, status, what):
    if response.status_code != status:
        raise SystemExit(f"{what} gave {response.status_code}, not {status}")
    return response


def walk_one(meter, client, plan, username, saves, address):
    """One official's morning, sign-in to result."""
    sid = plan["session_id"]
    extra = {"HTTP_X_FORWARDED_FOR": address}
    client.cookies.clear()
    expect(meter.send("GET sign-in", client, "get", "/accounts/login/", **extra), 200, "sign-in")
    form = {"login": username, "password": plan["password"]}
    sent = meter.send("POST sign-in", client, "post", "/accounts/login/", form, **extra)
    expect(sent, 302, f"sign-in of {username}")
    expect(meter.send("GET dashboard", client, "get", "/", **extra), 200, "dashboard")
    meter.send("GET /exams/", client, "get", "/exams/", **extra)
    meter.send("GET session", client, "get", f"/exams/{sid}/", **extra)
    started = meter.send("POST start", client, "post", f"/exams/{sid}/start/", **extra)
    attempt = re.search(r"/attempts/(\d+)/", expect(started, 302, "start")["Location"]).group(1)
    path = f"/exams/{sid}/attempts/{attempt}/"
    page = meter.send("GET attempt", client, "get", path, **extra).content
    choices = re.findall(rb'name="q(\d+)" value="([A-Z])"', page)
    for n in range(saves):
        position, letter = choices[n * 7 % len(choices)]
        answer = {"position": position.decode(), "response": letter.decode()}
        sent = meter.send("POST answer", client, "post", path + "answer/", answer, **extra)
        expect(sent, 200, "save")
    form = {}
    for name, value in choices:
        form.setdefault(f"q{name.decode()}", value.decode())
    expect(
        meter.send("POST submit", client, "post", path + "submit/", form, **extra), 302, "submit"
    )
    meter.send("POST submit again", client, "post", path + "submit/", form, **extra)
    expect(meter.send("GET result", client, "get", path + "result/", **extra), 200, "result")


def measure(plan, officials, saves, profile=False):
    """{endpoint: (app CPU ms, database CPU ms, queries)}: the median of the app's,
    the mean of the database's (read in clock ticks, 10 ms: a mean of many is fair, a
    median is not) and the median number of queries over `officials` walks."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    meter = Meter(connection, profile)
    # One client, as one gunicorn worker serves many officials; the first walk
    # warms it up (imports, templates, caches) and is not counted.
    client = Client()
    with connection.execute_wrapper(meter.count_query):
        for n, person in enumerate(plan["officials"][: officials + 1]):
            meter.on = n > 0
            address = f"10.1.{n >> 8}.{n & 255}"
            walk_one(meter, client, plan, person["username"], saves, address)
    for name, profiled in (meter.profiles or {}).items():
        slug = re.sub(r"\W+", "_", name).strip("_")
        profiled.dump_stats(f"/tmp/morning_cost-{slug}.pstats")  # noqa: S108
    return {
        name: (
            statistics.median(values),
            statistics.mean(meter.db.get(name) or [0]),
            statistics.median(meter.queries[name]),
        )
        for name, values in meter.app.items()
    }


def arrival_density(curve, x):
    """Share of arrivals per unit of the window at x in [0, 1]."""
    if not 0 <= x <= 1:
        return 0.0
    return 12 * x * (1 - x) ** 2 if curve == "morning" else 1.0


def arrived_by(curve, x):
    x = min(max(x, 0.0), 1.0)
    return 6 * x**2 - 8 * x**3 + 3 * x**4 if curve == "morning" else x


def model(costs, args):
    """The busiest 10 s of the modelled morning: (time, requests/s, app cores,
    database cores, {endpoint: requests/s})."""
    n, window, duration = args.model_officials, args.window, args.duration
    busiest = None
    for t in range(0, int(window + duration + 60), 10):
        arriving = n * arrival_density(args.arrivals, t / window) / window
        leaving = n * arrival_density(args.arrivals, (t - duration) / window) / window
        sitting = n * (
            arrived_by(args.arrivals, t / window)
            - arrived_by(args.arrivals, (t - duration) / window)
        )
        rates = {name: arriving for name in ARRIVAL}
        rates["POST answer"] = sitting / args.save_every
        rates.update({name: leaving * share for name, share in LEAVING.items()})
        app = sum(rate * costs[name][0] for name, rate in rates.items()) / 1000
        db = sum(rate * costs[name][1] for name, rate in rates.items()) / 1000
        if busiest is None or app + db > busiest[2] + busiest[3]:
            busiest = (t, sum(rates.values()), app, db, rates)
    return busiest


def report(costs, args):
    print(
        f"\n{'endpoint':<18}{'app ms':>8}{'db ms':>8}{'queries':>9}"
        f"   (CPU ms, of {args.officials} officials)"
    )
    for name, (app, db, queries) in costs.items():
        print(f"{name:<18}{app:>8.1f}{db:>8.1f}{queries:>9.0f}")
    saves = args.duration / args.save_every
    cpu = {name: app + db for name, (app, db, _queries) in costs.items()}
    per_official = sum(cpu[name] for name in ARRIVAL) + saves * cpu["POST answer"]
    per_official += sum(cpu[name] * share for name, share in LEAVING.items())
    print(
        f"one official's morning ({saves:.0f} saves): {per_official / 1000:.2f} CPU s; "
        f"{args.model_officials} officials: {per_official * args.model_officials / 3.6e6:.2f} "
        f"CPU hours (app and database)"
    )
    t, rate, app, db, rates = model(costs, args)
    top = ", ".join(f"{k} {v:.1f}/s" for k, v in sorted(rates.items(), key=lambda i: -i[1])[:4])
    print(
        f"busiest 10 s of {args.model_officials} officials over {args.window:.0f} s "
        f"({args.arrivals}), {args.duration:.0f} s sittings, saves every {args.save_every:g} s: "
        f"at {t} s, {rate:.0f} requests/s ({top}) needing {app:.2f} app + {db:.2f} database "
        f"cores = {app + db:.2f} of this machine's {os.cpu_count()}"
    )
    print(
        f"the full run at real speed: about {(args.window + args.duration) / 60 + 2:.0f} "
        "minutes (the window, the last sitting, a minute or two of set-up and checks)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    morning = MODES["morning"]
    parser.add_argument("--officials", type=int, default=20)
    parser.add_argument("--saves", type=int, default=5, help="saves measured per official")
    parser.add_argument("--model-officials", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=morning["ramp"])
    parser.add_argument("--duration", type=float, default=morning["duration"])
    parser.add_argument("--save-every", type=float, default=30)
    parser.add_argument("--arrivals", choices=["uniform", "morning"], default="morning")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="xuefa_morning_cost")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xuefa-morning-cost-") as workdir:
        plan_path = str(Path(workdir) / "plan.json")
        env = prepare_database(
            args.pg, args.database, args.redis, args.officials + 1, plan_path, "auto", False
        )
        with open(plan_path) as fh:
            plan = json.load(fh)
    os.environ.update(app_env(env["DATABASE_URL"], args.redis))
    os.environ["XUEFA_TRUSTED_PROXY_COUNT"] = "1"  # production's default: nginx in front
    flush_redis(args.redis)
    sys.path.insert(0, str(ROOT))
    try:
        costs = measure(plan, args.officials, args.saves, args.profile)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            psql(args.pg, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    report(costs, args)


if __name__ == "__main__":
    main()
