"""Demo court observations: a past hearing of an administrative case against the
district government at the Binhai court (the seed's 出庭应诉 work) with mixed
attendance and reflections, and an upcoming one with registrations. Idempotent."""

import datetime

from django.db import transaction
from django.utils import timezone

from learning.models import Department, Official, StudyPlan, User

from . import services
from .models import AttendeeField, CaseType, CourtObservation, PlanObservation, Status

PAST_TITLE = "旁听庭审：某科技公司诉滨海新区人民政府政府信息公开答复案"
UPCOMING_TITLE = "旁听庭审：某建材公司诉区规划和自然资源局行政处罚案"

REFLECTIONS = [
    "通过旁听庭审，直观感受到行政机关负责人出庭应诉的重要性。政府信息公开答复必须严格依照"
    "《政府信息公开条例》规定的期限和方式作出，答复内容要说明理由、告知救济途径。",
    "庭审中原告围绕“信息不存在”的认定提出质疑，提醒我们在答复前要做好检索并留存检索记录，"
    "确保程序合法、证据充分。今后将进一步规范本单位依申请公开工作。",
    "法官对举证责任分配的释明让我印象深刻：行政机关对作出行政行为的合法性负举证责任。"
    "日常工作中要增强证据意识，做到依法行政、有据可查。",
]


def _at(days, hour, minute=0):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _past_hearing(starts):
    return CourtObservation(
        title=PAST_TITLE,
        court="滨海新区人民法院",
        courtroom="第三审判庭",
        case_type=CaseType.ADMINISTRATIVE,
        case_summary=(
            "原告某科技公司向区政府申请公开某地块征收补偿相关信息，区政府以部分信息不存在"
            "为由作出答复，原告不服提起行政诉讼。区政府负责人出庭应诉，区司法局、区政府"
            "办公室派员旁听。"
        ),
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2, minutes=30),
        meeting_point="8:30 在法院东门安检口集合，携带工作证",
        capacity=30,
        credit_minutes=150,
        registration_deadline=starts - datetime.timedelta(days=3),
        open_registration=False,
        late_after_minutes=10,
        reflection_required=True,
        reflection_due_days=30,
        attendee_list_fields=[
            AttendeeField.STAFF_NUMBER.value,
            AttendeeField.DEPARTMENT.value,
            AttendeeField.POSITION.value,
        ],
    )


def _invite(observation, departments=(), officials=()):
    """Invitations are synced on save, so save again once the lists are set."""
    observation.invited_departments.set(departments)
    observation.invited_officials.set(officials)
    observation.save()


def _attend(past, organizer):
    """Mixed attendance at the past hearing: some excused, some absent (closing marks
    them), the rest checked in by QR, some late, and half of those reflected."""
    attendance = list(
        past.attendance.select_related("official__user").order_by("official__staff_number")
    )
    for index, row in enumerate(attendance):
        official = row.official
        if index % 5 == 3:
            services.mark(row, Status.EXCUSED, by=organizer, now=past.starts_at)
            continue
        if index % 5 == 4:
            continue  # absent: closing the event marks them
        minutes = 20 if index % 4 == 2 else index % 8
        arrival = past.starts_at + datetime.timedelta(minutes=minutes)
        token = services.checkin_token(past, now=arrival)
        row = services.check_in(official, token, now=arrival)
        # The demo official keeps an open reflection for the dashboard.
        if official.user.username != "official" and index % 2 == 0:
            services.submit_reflection(
                row,
                REFLECTIONS[index % len(REFLECTIONS)],
                now=past.ends_at + datetime.timedelta(days=1),
            )
    services.close(past, by=organizer, now=past.ends_at + datetime.timedelta(hours=1))


def _require_in_leaders_plan(observation):
    plan = StudyPlan.objects.filter(
        year=timezone.localdate().year, title__contains="领导干部"
    ).first()
    if plan is not None:
        PlanObservation.objects.get_or_create(plan=plan, observation=observation)


def load_past(officials, organizer):
    """The past hearing, invited, attended, reflected on and closed; 1 if created."""
    if CourtObservation.objects.filter(title=PAST_TITLE).exists():
        return 0
    past = _past_hearing(_at(-20, 9))
    past.save()
    office = Department.objects.filter(name="区政府办公室").first()
    _invite(past, departments=[office] if office else [], officials=officials[-4:])
    _attend(past, organizer)
    _require_in_leaders_plan(past)
    return 1


def _upcoming_hearing(starts):
    return CourtObservation(
        title=UPCOMING_TITLE,
        court="滨海新区人民法院",
        courtroom="第一审判庭",
        case_type=CaseType.ADMINISTRATIVE,
        case_summary=(
            "原告某建材公司不服区规划和自然资源局作出的行政处罚决定，请求撤销。"
            "庭审将围绕处罚程序是否合法、裁量是否适当展开。"
        ),
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        meeting_point="14:00 在区政府北门乘车前往",
        capacity=20,
        credit_minutes=120,
        registration_deadline=starts - datetime.timedelta(days=2),
        open_registration=True,
        reflection_required=False,
        reflection_due_days=7,
    )


def load_upcoming(officials):
    """The upcoming hearing with the leader invited and six registrations; 1 if created."""
    if CourtObservation.objects.filter(title=UPCOMING_TITLE).exists():
        return 0
    upcoming = _upcoming_hearing(_at(10, 14, 30))
    upcoming.save()
    leader = next((o for o in officials if o.user.username == "leader"), None)
    if leader is not None:
        _invite(upcoming, officials=[leader])
    registrants = [o for o in officials if o.user.username not in ("leader", "official")]
    for official in registrants[:6]:
        services.register(official, upcoming, now=_at(0, 9))
    return 1


@transaction.atomic
def load_observations():
    """Both demo hearings, each made once; returns how many were created."""
    officials = list(Official.objects.select_related("user", "department").order_by("staff_number"))
    if not officials:
        return 0
    organizer = User.objects.filter(username="organizer").first()
    return load_past(officials, organizer) + load_upcoming(officials)
