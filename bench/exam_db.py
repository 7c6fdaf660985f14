"""The database side of the exam-day benchmarks: builds the fixture (N officials
assigned to the open annual exam) and afterwards checks what the load generator was
told against what the database holds.

Run as a script by exam_day.py / exam_faults.py with the app's settings and
database in the environment:

    python bench/exam_db.py build --officials N --plan plan.json [--no-sessions]
    python bench/exam_db.py verify --plan plan.json --results results.json [--resumable]

Every bench official has a real password hash made by the site's default hasher
(Argon2id, about 35 ms of CPU), so the sign-in form checks it as it would on the
morning. Hashing it once per official would cost 35 ms x N at set-up (six minutes of
one core for 10,000), so the one shared bench password is hashed once and the same
encoded hash (salt included) is stored for every bench account. A shared salt would
be a flaw in production (one cracked hash opens every account); in a throwaway bench
database holding one documented password it costs nothing, and each sign-in still
verifies the full Argon2id hash. The accounts need no password change at first
sign-in (must_change_password false, which AccountPolicyMiddleware enforces) and
their hash has the default hasher's parameters, so signing in re-hashes nothing.

By default (exam_day.py's plain mode) officials also arrive signed in: the fixture
writes their sessions straight into the session table, the way a sign-in leaves them
(user id, backend, the password's session hash, the session-timeout stamps).
With --no-sessions (exam_day.py --morning) it writes none, and every official
signs in through the allauth form with the shared password the plan names.
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


def shared_password_hash():
    """(encoded hash of PASSWORD by the default hasher, its algorithm, ms it took):
    hashed once, stored for every bench account (see the module's docstring)."""
    import time

    from django.contrib.auth.hashers import get_hasher, make_password

    hasher = get_hasher("default")
    started = time.perf_counter()
    encoded = make_password(PASSWORD, hasher=hasher)
    return encoded, hasher.algorithm, (time.perf_counter() - started) * 1000


def create_bench_officials(usernames, encoded):
    """The bench's accounts (bulk, idempotent by username), all with the shared hash
    and no password change asked at first sign-in, officials in the bench department."""
    from django.db import transaction

    from exams.fake_data import create_officials
    from learning.models import Department, Official, User

    root = Department.get_root_nodes().first()
    department = Department.objects.filter(name=BENCH_DEPARTMENT).first()
    if department is None:
        department = root.add_child(name=BENCH_DEPARTMENT)
    with transaction.atomic():
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        # The fake-data builder's bulk inserts (accounts, the Official group, officials),
        # with the bench's names: plain officials, not leaders, all in one department.
        create_officials(
            [
                User(
                    username=u,
                    name=f"压测{u[-6:]}",
                    password=encoded,
                    is_active=True,
                    must_change_password=False,
                )
                for u in usernames
                if u not in existing
            ],
            lambda _number, user: Official(
                user=user, staff_number=user.username, department=department
            ),
        )
        # Accounts left from an earlier build: the same hash and policy.
        User.objects.filter(username__in=existing).update(
            password=encoded, must_change_password=False, is_active=True
        )


def build(officials, plan_path, sessions=True):
    """Create `officials` bench officials (bulk, idempotent by username), with
    sessions unless `sessions` is false, and write the plan: the annual session id,
    the shared password and each official's name (and session cookie)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from exams.models import ExamSession, SessionKind
    from learning.middleware import SessionTimeoutMiddleware
    from learning.models import User

    annual = (
        ExamSession.objects.filter(kind=SessionKind.ANNUAL, for_everyone=True)
        .order_by("-year")
        .first()
    )
    if annual is None or annual.is_closed():
        raise SystemExit("The demo data has no open annual exam for everyone")
    usernames = [f"{BENCH_PREFIX}{n:06d}" for n in range(1, officials + 1)]
    encoded, algorithm, hash_ms = shared_password_hash()
    create_bench_officials(usernames, encoded)
    now_ts = int(timezone.now().timestamp())
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    backend = settings.AUTHENTICATION_BACKENDS[0]
    store = SessionStore()
    rows, plan = [], []
    for user in User.objects.filter(username__in=usernames).only("pk", "username", "password"):
        person = {"username": user.username}
        if sessions:
            key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: backend,
                HASH_SESSION_KEY: user.get_session_auth_hash(),
                SessionTimeoutMiddleware.STARTED: now_ts,
                SessionTimeoutMiddleware.LAST_SEEN: now_ts,
            }
            rows.append(
                Session(session_key=key, session_data=store.encode(data), expire_date=expire)
            )
            person["sessionid"] = key
        plan.append(person)
    Session.objects.bulk_create(rows, batch_size=2000)
    with open(plan_path, "w") as fh:
        json.dump(
            {
                "session_id": annual.pk,
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "password": PASSWORD,
                "hasher": algorithm,
                # What the sign-in meets: allauth's per-address limits and how many
                # proxy hops' X-Forwarded-For the app trusts for the address.
                "sign_in_limits": settings.ACCOUNT_RATE_LIMITS or {},
                "trusted_proxies": getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0),
                "officials": plan,
            },
            fh,
        )
    how = "signed-in" if sessions else "signed-out"
    print(
        f"fixture: {len(plan)} {how} officials for session {annual.pk}; password hash "
        f"{algorithm}, made once in {hash_ms:.0f} ms and shared by every bench account"
    )


def _manual_types():
    """The question types a person marks (exams.models.MANUAL_TYPES where the app
    has them)."""
    try:
        from exams.models import MANUAL_TYPES
    except ImportError:
        return set()
    return {str(t) for t in MANUAL_TYPES}


def _grading_problem(attempt, acked_at):
    """What is wrong with an acknowledged submit's attempt, or None when it was graded
    exactly once (or, with written answers, marked automatically and left to a marker)."""
    from exams.models import AttemptState

    if attempt is None or attempt.state == AttemptState.IN_PROGRESS:
        return "not submitted"
    if not attempt.verification_code:
        return "not graded"
    if getattr(attempt, "marking_pending", False):
        if attempt.score is not None:
            return f"scored {attempt.score} before its written answers were marked"
        if attempt.unmarked:
            return f"{attempt.unmarked} automatically marked answers left unmarked"
    elif attempt.score is None:
        return "not graded"
    elif attempt.score != (attempt.awarded or Decimal(0)):
        return f"score {attempt.score} != awarded {attempt.awarded}"
    if attempt.submitted_at.timestamp() > acked_at + 1:
        return "graded again after the first acknowledged submit"
    return None


def verify(plan_path, results_path, resumable=False):
    """Every 2xx-acknowledged save is in the database, every submitted attempt is
    graded exactly once, nobody has two attempts. Prints findings; returns a dict."""
    from django.db.models import Count, Q, Sum

    from exams.models import Answer, Attempt
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
    # than the first acknowledged submit (a second submit must not grade again). A
    # paper with written answers (short answer, case analysis) waits for a marker:
    # no score yet, but every other answer marked automatically at the submit.
    submitted = results["submitted"]  # attempt id -> epoch seconds of the first 2xx
    automatic = ~Q(answers__snapshot__type__in=sorted(_manual_types()))
    finished = {
        a.pk: a
        for a in Attempt.objects.filter(pk__in=[int(k) for k in submitted]).annotate(
            awarded=Sum("answers__points_awarded"),
            unmarked=Count("answers", filter=automatic & Q(answers__points_awarded=None)),
        )
    }
    bad = []
    for key, acked_at in submitted.items():
        problem = _grading_problem(finished.get(int(key)), acked_at)
        if problem:
            bad.append((key, problem))
    pending = sum(1 for a in finished.values() if getattr(a, "marking_pending", False))
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
        "awaiting_marking": pending,
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
    parser.add_argument(
        "--no-sessions",
        action="store_true",
        help="write no sessions: the officials sign in themselves (exam_day.py --morning)",
    )
    args = parser.parse_args()
    _setup()
    if args.command == "build":
        build(args.officials, args.plan, sessions=not args.no_sessions)
    else:
        summary = verify(args.plan, args.results, args.resumable)
        sys.exit(1 if summary["problems"] else 0)


if __name__ == "__main__":
    main()
