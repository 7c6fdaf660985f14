"""Rules of court observations (exams/observations/services.py): registration, withdrawal,
QR check-in tokens, lateness, marking by hand, closing, audit and reflections."""

import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signing import Signer
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone, translation

import pytest

from exams.observations import services
from exams.observations.models import Attendance, AttendanceChange, ChangeSource, Reflection, Status
from exams.observations.services import ObservationRefused
from tests.factories import DepartmentFactory, OfficialFactory

from .observation_factories import CourtObservationFactory, invite_departments

pytestmark = pytest.mark.django_db


def _status(observation, official):
    return Attendance.objects.get(observation=observation, official=official).status


def _refusal(func, *args, language="en", **kwargs):
    """The translated reason `func` refuses with (English unless asked otherwise)."""
    with translation.override(language), pytest.raises(ObservationRefused) as caught:
        func(*args, **kwargs)
    with translation.override(language):
        return str(caught.value)


# --- invitations, registration, withdrawal ------------------------------------------


def test_invited_officials_and_departments_get_attendance_rows():
    parent = DepartmentFactory()
    child = DepartmentFactory(parent=parent)
    in_child = OfficialFactory(department=child)
    named = OfficialFactory()
    outsider = OfficialFactory()
    observation = CourtObservationFactory(invited=[named])
    invite_departments(observation, parent)
    statuses = dict(observation.attendance.values_list("official_id", "status"))
    assert statuses == {in_child.pk: Status.INVITED, named.pk: Status.INVITED}
    assert outsider.pk not in statuses
    # Uninviting drops rows that are still merely invited.
    observation.invited_officials.set([])
    observation.save()
    assert not observation.attendance.filter(official=named).exists()


def test_register_and_withdraw_are_audited(observation, official):
    attendance = services.register(official, observation)
    assert attendance.status == Status.REGISTERED and attendance.registered_at
    services.withdraw(official, observation)
    assert _status(observation, official) == Status.WITHDRAWN
    changes = list(attendance.changes.order_by("pk").values_list("old_status", "new_status"))
    assert changes == [("", Status.REGISTERED), (Status.REGISTERED, Status.WITHDRAWN)]
    assert set(attendance.changes.values_list("changed_by", flat=True)) == {official.user_id}
    assert set(attendance.changes.values_list("source", flat=True)) == {ChangeSource.SELF}
    # Withdrawn officials may register again while seats remain.
    assert services.register(official, observation).status == Status.REGISTERED


def test_register_twice_is_refused(observation, official):
    services.register(official, observation)
    assert "already registered" in _refusal(services.register, official, observation)


def test_register_refused_when_full():
    observation = CourtObservationFactory(capacity=2)
    services.register(OfficialFactory(), observation)
    services.register(OfficialFactory(), observation)
    late_comer = OfficialFactory()
    message = _refusal(services.register, late_comer, observation, language="zh-hans")
    assert message == "抱歉，名额已满。"
    assert not Attendance.objects.filter(official=late_comer).exists()


def test_withdrawal_frees_a_seat():
    observation = CourtObservationFactory(capacity=1)
    first, second = OfficialFactory(), OfficialFactory()
    services.register(first, observation)
    _refusal(services.register, second, observation)
    services.withdraw(first, observation)
    assert services.register(second, observation).status == Status.REGISTERED


def test_invitees_hold_a_seat_and_may_confirm_when_full():
    invitee = OfficialFactory()
    observation = CourtObservationFactory(capacity=1, invited=[invitee])
    assert "seats" in _refusal(services.register, OfficialFactory(), observation)
    assert services.register(invitee, observation).status == Status.REGISTERED


def test_register_refused_past_deadline(observation, official):
    late = observation.registration_deadline + datetime.timedelta(seconds=1)
    message = _refusal(services.register, official, observation, now=late, language="zh-hans")
    assert message == "报名已截止。"


def test_withdraw_refused_past_deadline(observation, official):
    services.register(official, observation)
    late = observation.registration_deadline + datetime.timedelta(minutes=1)
    assert "deadline" in _refusal(services.withdraw, official, observation, now=late)
    assert _status(observation, official) == Status.REGISTERED


def test_withdraw_without_registration_is_refused(observation, official):
    assert "not registered" in _refusal(services.withdraw, official, observation)


def test_invitation_only_refuses_others_but_not_invitees():
    invitee, other = OfficialFactory(), OfficialFactory()
    observation = CourtObservationFactory(open_registration=False, invited=[invitee])
    assert "invitation" in _refusal(services.register, other, observation)
    assert services.register(invitee, observation).status == Status.REGISTERED
    services.withdraw(invitee, observation)
    assert _status(observation, invitee) == Status.WITHDRAWN


def test_register_refused_when_closed(observation, official):
    services.close(observation)
    assert "closed" in _refusal(services.register, official, observation)


# --- check-in tokens ----------------------------------------------------------------


@pytest.fixture
def registered(observation, official):
    services.register(official, observation)
    return official


def test_valid_token_checks_in_present(observation, registered):
    at = observation.starts_at - datetime.timedelta(minutes=5)
    token = services.checkin_token(observation, now=at)
    attendance = services.check_in(registered, token, now=at)
    assert attendance.status == Status.PRESENT and attendance.checked_in_at == at
    change = attendance.changes.get(new_status=Status.PRESENT)
    assert change.source == ChangeSource.CHECK_IN and change.old_status == Status.REGISTERED


def test_check_in_after_threshold_is_late(observation, registered):
    threshold = datetime.timedelta(minutes=observation.late_after_minutes)
    at = observation.starts_at + threshold + datetime.timedelta(seconds=1)
    token = services.checkin_token(observation, now=at)
    assert services.check_in(registered, token, now=at).status == Status.LATE


def test_check_in_at_threshold_is_present(observation, registered):
    at = observation.starts_at + datetime.timedelta(minutes=observation.late_after_minutes)
    token = services.checkin_token(observation, now=at)
    assert services.check_in(registered, token, now=at).status == Status.PRESENT


def test_second_scan_keeps_the_first_time(observation, registered):
    first = observation.starts_at
    services.check_in(registered, services.checkin_token(observation, first), now=first)
    later = first + datetime.timedelta(minutes=30)
    again = services.check_in(registered, services.checkin_token(observation, later), now=later)
    assert again.status == Status.PRESENT and again.checked_in_at == first
    assert AttendanceChange.objects.filter(new_status=Status.PRESENT).count() == 1


@override_settings(XUEFA_CHECKIN_ROTATE_SECONDS=30, XUEFA_CHECKIN_VALID_WINDOWS=1)
def test_expired_token_is_refused(observation, registered):
    issued = observation.starts_at
    token = services.checkin_token(observation, now=issued)
    # Still valid in the next window, refused two windows later.
    services.verify_token(token, at=issued + datetime.timedelta(seconds=30))
    later = issued + datetime.timedelta(seconds=61)
    message = _refusal(services.check_in, registered, token, now=later, language="zh-hans")
    assert "过期" in message
    assert _status(observation, registered) == Status.REGISTERED


def test_token_rotates(observation):
    at = observation.starts_at
    later = at + datetime.timedelta(seconds=services.rotate_seconds())
    assert services.checkin_token(observation, at) != services.checkin_token(observation, later)


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "1" + token,
        lambda token: "garbage",
        lambda token: Signer(salt="another").sign(token.split(":")[0]),
    ],
)
def test_forged_token_is_refused(observation, registered, forge):
    at = observation.starts_at
    token = forge(services.checkin_token(observation, at))
    assert "not valid" in _refusal(services.check_in, registered, token, now=at)
    assert _status(observation, registered) == Status.REGISTERED


def test_token_of_another_observation_does_not_check_in_here(observation, registered):
    other = CourtObservationFactory()
    at = observation.starts_at
    token = services.checkin_token(other, at)
    assert "not on the list" in _refusal(services.check_in, registered, token, now=at)
    assert _status(observation, registered) == Status.REGISTERED


def test_forwarded_token_checks_in_only_whoever_scans_it(observation, registered):
    """A colleague who got the code forwarded is refused if not on the list; one on
    the list is checked in as themself, and the original official stays unmarked."""
    at = observation.starts_at
    token = services.checkin_token(observation, at)
    stranger = OfficialFactory()
    assert "not on the list" in _refusal(services.check_in, stranger, token, now=at)
    colleague = OfficialFactory()
    services.register(colleague, observation)
    services.check_in(colleague, token, now=at)
    assert _status(observation, colleague) == Status.PRESENT
    assert _status(observation, registered) == Status.REGISTERED
    assert not Attendance.objects.filter(official=stranger).exists()


def test_withdrawn_official_cannot_check_in(observation, registered):
    services.withdraw(registered, observation)
    token = services.checkin_token(observation, observation.starts_at)
    message = _refusal(services.check_in, registered, token, now=observation.starts_at)
    assert "see the organizer" in message


def test_invitee_checks_in_without_registering(official):
    observation = CourtObservationFactory(open_registration=False, invited=[official])
    at = observation.starts_at
    attendance = services.check_in(official, services.checkin_token(observation, at), at)
    assert attendance.status == Status.PRESENT


def test_check_in_refused_after_close(observation, registered):
    services.close(observation)
    token = services.checkin_token(observation)
    assert "closed" in _refusal(services.check_in, registered, token)


def test_scan_time_decides_lateness_when_sign_in_came_after(observation, registered):
    scanned = observation.starts_at + datetime.timedelta(minutes=2)
    token = services.checkin_token(observation, scanned)
    now = scanned + datetime.timedelta(minutes=4)
    attendance = services.check_in(registered, token, now=now, scanned_at=scanned)
    assert attendance.status == Status.PRESENT and attendance.checked_in_at == scanned


# --- marking, closing ---------------------------------------------------------------


def test_organizer_marks_by_hand_with_audit(observation, registered, organizer):
    attendance = Attendance.objects.get(official=registered)
    services.mark(attendance, Status.EXCUSED, by=organizer)
    marked = services.mark(attendance, Status.LATE, by=organizer)
    assert marked.status == Status.LATE and marked.checked_in_at is not None
    changes = list(
        attendance.changes.filter(source=ChangeSource.ORGANIZER)
        .order_by("pk")
        .values_list("old_status", "new_status", "changed_by")
    )
    assert changes == [
        (Status.REGISTERED, Status.EXCUSED, organizer.pk),
        (Status.EXCUSED, Status.LATE, organizer.pk),
    ]
    # Setting the same status again records nothing.
    services.mark(attendance, Status.LATE, by=organizer)
    assert attendance.changes.filter(source=ChangeSource.ORGANIZER).count() == 2


@pytest.mark.parametrize("status", [Status.INVITED, Status.REGISTERED, Status.WITHDRAWN, "x"])
def test_organizer_cannot_set_other_statuses(observation, registered, organizer, status):
    attendance = Attendance.objects.get(official=registered)
    _refusal(services.mark, attendance, status, organizer)
    assert _status(observation, registered) == Status.REGISTERED


def test_close_marks_unmarked_invitees_and_registrants_absent(organizer):
    present, excused, unmarked_registrant, withdrawn = (OfficialFactory() for _ in range(4))
    invitee = OfficialFactory()
    observation = CourtObservationFactory(invited=[invitee])
    for o in (present, excused, unmarked_registrant, withdrawn):
        services.register(o, observation)
    services.withdraw(withdrawn, observation)
    at = observation.starts_at
    services.check_in(present, services.checkin_token(observation, at), now=at)
    services.mark(Attendance.objects.get(official=excused), Status.EXCUSED, by=organizer)

    assert services.close(observation, by=organizer) == 2
    assert observation.closed_at is not None
    assert _status(observation, invitee) == Status.ABSENT
    assert _status(observation, unmarked_registrant) == Status.ABSENT
    assert _status(observation, present) == Status.PRESENT
    assert _status(observation, excused) == Status.EXCUSED
    assert _status(observation, withdrawn) == Status.WITHDRAWN
    closing = AttendanceChange.objects.filter(source=ChangeSource.CLOSE)
    assert closing.count() == 2
    assert set(closing.values_list("changed_by", flat=True)) == {organizer.pk}
    # Closing again changes nothing.
    assert services.close(observation, by=organizer) == 0
    assert AttendanceChange.objects.filter(source=ChangeSource.CLOSE).count() == 2


# --- reflections --------------------------------------------------------------------


@pytest.fixture
def attended(observation, registered):
    at = observation.starts_at
    return services.check_in(registered, services.checkin_token(observation, at), at)


def test_reflection_within_due_days(observation, attended):
    due = observation.ends_at + datetime.timedelta(days=observation.reflection_due_days)
    reflection = services.submit_reflection(attended, "  收获很大  ", now=due)
    assert reflection.text == "收获很大" and reflection.submitted_at == due
    revised = services.submit_reflection(
        attended, "修改后的观后感", now=due - datetime.timedelta(hours=1)
    )
    assert revised.pk == reflection.pk and Reflection.objects.count() == 1
    assert revised.text == "修改后的观后感"


def test_reflection_after_due_is_refused(observation, attended):
    late = observation.reflection_due + datetime.timedelta(seconds=1)
    assert "due" in _refusal(services.submit_reflection, attended, "迟交", now=late)
    assert not Reflection.objects.exists()


def test_reflection_requires_attendance(observation, registered):
    attendance = Attendance.objects.get(official=registered)
    assert "attended" in _refusal(services.submit_reflection, attendance, "未到场")


def test_empty_reflection_is_refused(attended):
    assert "write" in _refusal(services.submit_reflection, attended, "   ")


def test_reflection_file_type_and_size_are_checked(attended):
    script = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationError):
        services.submit_reflection(attended, "附件", script)
    big = SimpleUploadedFile("big.pdf", b"0" * (10 * 1024 * 1024 + 1))
    with pytest.raises(ValidationError):
        services.submit_reflection(attended, "附件", big)
    assert not Reflection.objects.exists()
    good = SimpleUploadedFile("观后感.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    reflection = services.submit_reflection(attended, "附件", good)
    assert reflection.file.name.endswith(".pdf")


def test_database_refuses_duplicate_attendance(observation, official):
    services.register(official, observation)
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(observation=observation, official=official)


def test_database_refuses_check_in_time_on_a_registration(observation, official):
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(
            observation=observation,
            official=official,
            status=Status.REGISTERED,
            checked_in_at=timezone.now(),
        )
