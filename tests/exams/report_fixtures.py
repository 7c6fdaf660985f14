"""Small hand-made organisations for the report tests (who is behind, the
pre-appointment register, year-end figures)."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import Permission

from exams.models import Attempt, AttemptState, Band
from learning.models import ReportScope
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory

WHEN = datetime.datetime(2026, 5, 1, 10, tzinfo=datetime.UTC)


def finished_attempt(session, official, percent, *, number=1, when=WHEN, max_score=100):
    """A submitted attempt with the given percentage (pass mark from the session)."""
    percent = Decimal(percent)
    passed = percent >= session.pass_mark
    return Attempt.objects.create(
        session=session,
        official=official,
        paper=session.paper,
        number=number,
        state=AttemptState.SUBMITTED,
        seed=1,
        started_at=when - datetime.timedelta(minutes=30),
        deadline=when + datetime.timedelta(minutes=60),
        submitted_at=when,
        score=percent * max_score / 100,
        max_score=max_score,
        percent=percent,
        band=Band.PASS if passed else Band.FAIL,
        passed=passed,
        verification_code=f"V{session.pk:03d}{official.pk:04d}{number}",
    )


def org():
    """Two bureaus: 东区 (with an office 东区科室 below it) and 西区."""
    east = DepartmentFactory(name="东区")
    east_office = DepartmentFactory(name="东区科室", parent=east)
    west = DepartmentFactory(name="西区")
    return east, east_office, west


def official(department, name, staff_number, **kwargs):
    email = kwargs.pop("email", f"{staff_number.lower()}@example.cn")
    user = UserFactory(name=name, username=staff_number.lower(), email=email)
    return OfficialFactory(user=user, department=department, staff_number=staff_number, **kwargs)


def scoped(user, department):
    ReportScope.objects.create(user=user, department=department)
    return user


def reports_viewer_without_reminders():
    """A back-office user who may view reports but not send reminders."""
    user = UserFactory(roles=["Official"])
    user.user_permissions.add(
        Permission.objects.get(codename="view_reports", content_type__app_label="learning"),
        Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin"),
    )
    return user


def hr(**kwargs):
    """An HR user who is not an official (so not on any list)."""
    return UserFactory(roles=["HR"], **kwargs)


def organizer_user():
    return UserFactory(roles=["Organizer"])
