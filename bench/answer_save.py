"""Answer-save throughput against a bare Django view, both served by one gunicorn.

Starts the app under gunicorn on a free loopback port, signs in several demo
officials (each client has its own account and its own attempt at the annual exam,
as in a real sitting), and for each target runs concurrent keep-alive clients for a
fixed time:

  bare   POST to a view returning "ok" through the full middleware stack (sessions,
         authentication, CSRF), the same stack the save endpoint goes through
  save   POST /exams/<session>/attempts/<attempt>/answer/ (row lock on the attempt,
         validation against the frozen question, one UPDATE), cycling questions

It prints requests per second, p50/p95 latency and the ratio save / bare
(target >= 0.7). The bare view lives in a bench URLconf written to a temporary
folder, so the site has no bench-only code.

    .venv/bin/python bench/answer_save.py [--seconds 10] [--clients 8] [--workers 2]

Uses DATABASE_URL when set (PostgreSQL recommended); otherwise a temporary SQLite
database is created, migrated and loaded with the demo data.
"""

import argparse
import itertools
import re

from harness import (
    BARE_PATH,
    DEMO_PASSWORD,
    form_token,
    measure,
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


def save_loop(client, path, payloads):
    """One answer save per call, cycling through the attempt's questions."""
    bodies = itertools.cycle(payloads)
    headers = client.csrf_headers()
    return lambda: client.request("POST", path, next(bodies), headers)[0]


def bare_loop(client):
    """One POST to the bare view per call, through the same middleware as a save."""
    headers = client.csrf_headers()
    return lambda: client.request("POST", BARE_PATH, {"n": 1}, headers)[0]


def run(args):
    # Generated officials without an annual attempt yet (the demo's sitters are BH0006+).
    usernames = [f"BH{n:04d}" for n in range(60 - args.clients + 1, 61)]
    with served_app(args.workers) as (port, env):
        run_in_django(env, PREPARE_USERS.format(usernames=usernames, password=DEMO_PASSWORD))
        savers = [sign_in_and_start(port, username) for username in usernames]
        bare = [bare_loop(client) for client, _path, _payloads in savers]
        measure([save_loop(*s) for s in savers], 1, "save")  # warm up both paths
        measure(bare, 1, "bare")
        print(
            f"gunicorn: {args.workers} sync workers; {args.clients} keep-alive clients, "
            f"{args.seconds} s per target",
            flush=True,
        )
        results = {
            "bare": measure(bare, args.seconds, "bare"),
            "save": measure([save_loop(*s) for s in savers], args.seconds, "save"),
        }
    for name, r in results.items():
        print(
            f"{name:<5} {r['rps']:8.1f} req/s   p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms"
            f"   ({r['count']} requests)"
        )
    ratio = results["save"]["rps"] / results["bare"]["rps"]
    verdict = "meets" if ratio >= 0.7 else "below"
    print(f"ratio save/bare throughput: {ratio:.2f} ({verdict} the 0.7 target)")
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
