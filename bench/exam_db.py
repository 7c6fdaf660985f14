"""The database side of the exam-day benchmarks: builds the fixture (N officials
assigned to the open annual exam, each already signed in) and afterwards checks
what the load generator was told against what the database holds.

Run as a script by exam_day.py / exam_faults.py with the app's settings and
database in the environment:

    python bench/exam_db.py build --officials N --plan plan.json
    python bench/exam_db.py verify --plan plan.json --results results.json [--resumable]

Officials arrive signed in. Signing 10,000 people in through PBKDF2 (one million
iterations, about 0.3 s of CPU each) cannot fit into a two-minute ramp on two
cores: they sign in during the morning, before the exam opens. So the fixture
writes their sessions straight into the session table, the way a sign-in leaves
them (user id, backend, the password's session hash, the session-timeout stamps);
the sign-in endpoint itself is measured separately on a small sample.
"""

import argparse
import json
import os
import sys
from datetime import timedelta
from decimal import Decimal

import django

BENCH_DEPARTMENT = "考试压测部门"  # the bench's own department under the demo root
BENCH_PREFIX = "EXD"  # usernames and staff numbers: EXD000001 ...
PASSWORD = "xuefa-demo"  # noqa: S105 - the documented demo-only password


def _setup():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    django.setup()


def build(officials, plan_path):
    """Create `officials` bench officials (bulk, idempotent by username) with
    sessions, and write the plan: the annual session id and each official's cookie."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from exams.fake_data import create_officials
    from exams.models import ExamSession, SessionKind
    from learning.middleware import SessionTimeoutMiddleware
    from learning.models import Department, Official, User

    annual = (
        ExamSession.objects.filter(kind=SessionKind.ANNUAL, for_everyone=True)
        .order_by("-year")
        .first()
    )
    if annual is None or annual.is_closed():
        raise SystemExit("The demo data has no open annual exam for everyone")
    root = Department.get_root_nodes().first()
    department = Department.objects.filter(name=BENCH_DEPARTMENT).first()
    if department is None:
        department = root.add_child(name=BENCH_DEPARTMENT)
    usernames = [f"{BENCH_PREFIX}{n:06d}" for n in range(1, officials + 1)]
    encoded = make_password(PASSWORD)  # one PBKDF2 run shared by every bench account
    with transaction.atomic():
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        # The fake-data builder's bulk inserts (accounts, the Official group, officials),
        # with the bench's names: plain officials, not leaders, all in one department.
        create_officials(
            [
                User(username=u, name=f"压测{u[-6:]}", password=encoded, is_active=True)
                for u in usernames
                if u not in existing
            ],
            lambda _number, user: Official(
                user=user, staff_number=user.username, department=department
            ),
        )
    now_ts = int(timezone.now().timestamp())
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    backend = settings.AUTHENTICATION_BACKENDS[0]
    store = SessionStore()
    rows, plan = [], []
    for user in User.objects.filter(username__in=usernames).only("pk", "username", "password"):
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            SessionTimeoutMiddleware.STARTED: now_ts,
            SessionTimeoutMiddleware.LAST_SEEN: now_ts,
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        plan.append({"username": user.username, "sessionid": key})
    Session.objects.bulk_create(rows, batch_size=2000)
    with open(plan_path, "w") as fh:
        json.dump(
            {
                "session_id": annual.pk,
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "officials": plan,
            },
            fh,
        )
    print(f"fixture: {len(plan)} signed-in officials for session {annual.pk}")


def verify(plan_path, results_path, resumable=False):
    """Every 2xx-acknowledged save is in the database, every submitted attempt is
    graded exactly once, nobody has two attempts. Prints findings; returns a dict."""
    from django.db.models import Count, Sum

    from exams.models import Answer, Attempt, AttemptState
    from exams.models.notebook import NotebookEntry

    with open(plan_path) as fh:
        plan = json.load(fh)
    with open(results_path) as fh:
        results = json.load(fh)
    session_id = plan["session_id"]
    usernames = [o["username"] for o in plan["officials"]]
    problems = []

    # One attempt per official (start is idempotent under reloads and retries).
    per_official = (
        Attempt.objects.filter(session_id=session_id, official__user__username__in=usernames)
        .values("official_id")
        .annotate(n=Count("pk"))
    )
    doubled = [row for row in per_official if row["n"] > 1]
    if doubled:
        problems.append(f"{len(doubled)} officials have more than one attempt")

    # Acknowledged saves: the database holds the last acknowledged response, or a
    # response sent after it whose acknowledgement never arrived. The page sends the
    # letters it shows and the database keeps the bank's: compare as shown.
    acked = results["acked"]  # "attempt:position" -> last acknowledged response
    later = results["unacked_after"]  # "attempt:position" -> [responses sent later]
    attempt_ids = sorted({int(k.split(":")[0]) for k in acked})
    stored = {}
    for start in range(0, len(attempt_ids), 2000):
        chunk = attempt_ids[start : start + 2000]
        for answer in Answer.objects.filter(attempt_id__in=chunk).only(
            "attempt_id", "position", "response", "option_order", "snapshot"
        ):
            stored[f"{answer.attempt_id}:{answer.position}"] = answer.display_letters(
                answer.response
            )
    lost = []
    for key, response in acked.items():
        have = stored.get(key)
        if have != response and have not in later.get(key, []):
            lost.append((key, response, have))
    if lost:
        problems.append(f"{len(lost)} acknowledged answers lost, e.g. {lost[:3]}")

    # Submitted attempts: finished, scored from its own answers, graded no later
    # than the first acknowledged submit (a second submit must not grade again).
    submitted = results["submitted"]  # attempt id -> epoch seconds of the first 2xx
    finished = {
        a.pk: a
        for a in Attempt.objects.filter(pk__in=[int(k) for k in submitted]).annotate(
            awarded=Sum("answers__points_awarded")
        )
    }
    bad = []
    for key, acked_at in submitted.items():
        attempt = finished.get(int(key))
        if attempt is None or attempt.state == AttemptState.IN_PROGRESS:
            bad.append((key, "not submitted"))
        elif attempt.score is None or not attempt.verification_code:
            bad.append((key, "not graded"))
        elif attempt.score != (attempt.awarded or Decimal(0)):
            bad.append((key, f"score {attempt.score} != awarded {attempt.awarded}"))
        elif attempt.submitted_at.timestamp() > acked_at + 1:
            bad.append((key, "graded again after the first acknowledged submit"))
    if bad:
        problems.append(f"{len(bad)} submitted attempts not graded exactly once, e.g. {bad[:3]}")
    wrong = Answer.objects.filter(
        attempt_id__in=[int(k) for k in submitted], is_correct=False
    ).count()
    notebook = NotebookEntry.objects.filter(official__user__username__in=usernames).count()

    # Resumable: the attempt the client saw is the one a resume (start again) gives.
    if resumable:
        for username, (first, again) in results.get("resumed", {}).items():
            if first != again:
                problems.append(f"{username} resumed attempt {again}, not {first}")
    summary = {
        "acknowledged_answers": len(acked),
        "lost_answers": len(lost),
        "submitted_attempts": len(submitted),
        "graded_badly": len(bad),
        "wrong_answers": wrong,
        "notebook_entries": notebook,
        "officials_with_two_attempts": len(doubled),
        "problems": problems,
    }
    print("verify: " + json.dumps(summary, ensure_ascii=False))
    return summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["build", "verify"])
    parser.add_argument("--officials", type=int, default=50)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--results")
    parser.add_argument("--resumable", action="store_true")
    args = parser.parse_args()
    _setup()
    if args.command == "build":
        build(args.officials, args.plan)
    else:
        summary = verify(args.plan, args.results, args.resumable)
        sys.exit(1 if summary["problems"] else 0)


if __name__ == "__main__":
    main()
