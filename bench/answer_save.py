"""Answer-save throughput against a bare Django view, both served by one gunicorn.

Starts the app under gunicorn (the project's gunicorn.conf.py) on a free loopback
port, signs in several demo officials (each client has its own account and its own
attempt at the annual exam, as in a real sitting), and loads each target with
concurrent clients from a separate asyncio process (one connection per request, as
gunicorn's sync workers close it anyway), in interleaved rounds:

  bare   POST to a view returning "ok" through the full middleware stack (sessions,
         authentication, CSRF), the same stack the save endpoint goes through
  save   POST /exams/<session>/attempts/<attempt>/answer/ (validation against the
         frozen paper, then one conditional UPDATE that share-locks the attempt row
         and commits), cycling questions

It prints requests per second and p50/p95 latency of the median round, the CPU
milliseconds per request in the app and in the database, and the ratio save / bare
(the median over rounds of save / bare in the same round; target >= 0.7). The bare
view lives in a bench URLconf written to a temporary folder, so the site has no
bench-only code.

    .venv/bin/python bench/answer_save.py [--seconds 4] [--rounds 5] [--clients 8]
        [--workers N]

Uses DATABASE_URL when set (PostgreSQL recommended); otherwise a temporary SQLite
database is created, migrated and loaded with the demo data.
"""

import argparse
import re

from harness import (
    BARE_PATH,
    DEMO_PASSWORD,
    compare,
    form_token,
    run_in_django,
    served_app,
    sign_in,
)

# Give generated demo officials the demo password so each client signs in as its own
# person; the demo data leaves their passwords unusable.
PREPARE_USERS = """
from learning.models import User
for user in User.objects.filter(username__in={usernames!r}):
    user.set_password({password!r})
    user.must_change_password = False
    user.save()
"""


def sign_in_and_start(port, username):
    """A signed-in client with an attempt at the annual exam, and its answer payloads."""
    client = sign_in(port, username)
    _status, page = client.request("GET", "/exams/")
    match = re.search(rb'href="/exams/(\d+)/">\d{4}\xe5\xb9\xb4\xe5\xba\xa6', page)  # 年度
    if not match:
        raise SystemExit("The annual exam is not listed for the bench official")
    session_id = match.group(1).decode()
    _status, page = client.request("GET", f"/exams/{session_id}/")
    status, _ = client.request(
        "POST", f"/exams/{session_id}/start/", {"csrfmiddlewaretoken": form_token(page)}
    )
    _status, page = client.request("GET", f"/exams/{session_id}/")
    attempt = re.search(rb'href="/exams/\d+/attempts/(\d+)/"', page)
    if not attempt:
        raise SystemExit(f"{username} could not start the annual exam (status {status})")
    path = f"/exams/{session_id}/attempts/{attempt.group(1).decode()}/"
    _status, page = client.request("GET", path)
    choices = {}
    for position, value in re.findall(rb'name="q(\d+)" value="([A-Z])"', page):
        choices.setdefault(int(position), value.decode())
    payloads = [{"position": p, "response": v} for p, v in sorted(choices.items())]
    return client, path + "answer/", payloads


def save_requests(client, path, payloads):
    """A client's answer saves, cycling through the attempt's questions."""
    headers = client.csrf_headers()
    return [client.raw("POST", path, body, headers) for body in payloads]


def bare_requests(client):
    """A POST to the bare view, through the same middleware as a save."""
    return [client.raw("POST", BARE_PATH, {"n": 1}, client.csrf_headers())]


def run(args):
    # Generated officials without an annual attempt yet (the demo's sitters are BH0006+).
    usernames = [f"BH{n:04d}" for n in range(60 - args.clients + 1, 61)]
    with served_app(args.workers) as (port, env):
        run_in_django(env, PREPARE_USERS.format(usernames=usernames, password=DEMO_PASSWORD))
        savers = [sign_in_and_start(port, username) for username in usernames]
        targets = {
            "bare": [bare_requests(client) for client, _path, _payloads in savers],
            "save": [save_requests(*saver) for saver in savers],
        }
        compare(port, targets, 1, rounds=1)  # warm up both paths
        print(
            f"gunicorn: {args.workers or 'gunicorn.conf.py'} sync workers; {args.clients} "
            f"clients; {args.rounds} interleaved rounds of {args.seconds} s per target",
            flush=True,
        )
        results = compare(port, targets, args.seconds, args.rounds)
    for name, r in results.items():
        print(
            f"{name:<5} {r['rps']:8.1f} req/s   p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms"
            f"   ({r['count']} requests; CPU ms each: app {r['app_cpu_ms'] or 0:.2f}, "
            f"database {r['db_cpu_ms'] or 0:.2f})"
        )
    ratio = results["save"]["ratio"]
    verdict = "meets" if ratio >= 0.7 else "below"
    rounds = ", ".join(f"{r:.2f}" for r in results["save"]["ratios"])
    print(f"ratio save/bare throughput: {ratio:.2f} ({verdict} the 0.7 target; rounds: {rounds})")
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=None, help="default: gunicorn.conf.py (2 x cores + 1)"
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
