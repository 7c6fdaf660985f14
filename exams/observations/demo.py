"""Demo court observations: a past hearing of an administrative case against the
district government at the Binhai court (the seed's 出庭应诉 work) with mixed
attendance and reflections, and an upcoming one with registrations; the past one is
then turned into a case (以案释法) that the demo leader, who missed it, can make up.
Idempotent."""

import datetime

from django.db import transaction
from django.utils import timezone

from learning.models import Department, LawTopic, Official, StudyPlan, User

from ..models import Question
from . import cases, services
from .models import (
    AttendeeField,
    CaseType,
    CourtObservation,
    PlanObservation,
    Reflection,
    Status,
)

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


# The past hearing as a case (以案释法): the organizer's case page with two consenting
# reflections, three questions tagged with it, and its quiz.
CASE_TOPIC = ("以案释法", "以案释法")
CASE_FACTS = (
    "原告某科技公司向区政府申请公开某地块征收补偿相关信息。区政府经检索，以部分信息不存在为由"
    "作出答复，并告知了申请人救济途径。原告认为区政府未尽检索义务，提起行政诉讼。\n"
    "庭审中，区政府负责人出庭应诉，就检索过程、检索范围和答复依据逐项举证说明。"
)
CASE_ISSUES = (
    "一是区政府作出“信息不存在”答复前是否尽到合理检索义务；\n"
    "二是答复的期限、方式和告知内容是否符合《政府信息公开条例》的规定；\n"
    "三是被告对行政行为合法性的举证责任如何承担。"
)
CASE_ARTICLES = [
    (
        "《中华人民共和国行政诉讼法》第三条第三款",
        "被诉行政机关负责人应当出庭应诉。不能出庭的，应当委托行政机关相应的工作人员出庭。",
    ),
    (
        "《中华人民共和国行政诉讼法》第三十四条第一款",
        "被告对作出的行政行为负有举证责任，应当提供作出该行政行为的证据和所依据的规范性文件。",
    ),
    (
        "《中华人民共和国政府信息公开条例》第三十三条第二款",
        "行政机关不能当场答复的，应当自收到申请之日起20个工作日内予以答复；需要延长答复期限的，"
        "应当经政府信息公开工作机构负责人同意并告知申请人，延长的期限最长不得超过20个工作日。",
    ),
]
# (key, type, stem, options, answer, legal basis)
CASE_QUESTIONS = [
    (
        "CASE-GI-01",
        "true_false",
        "行政诉讼中，被告对作出的行政行为负有举证责任，应当提供作出该行政行为的证据和所依据的规范性文件。",
        {},
        "T",
        "《中华人民共和国行政诉讼法》第三十四条",
    ),
    (
        "CASE-GI-02",
        "single",
        "被诉行政机关负责人不能出庭应诉的，应当委托（　）出庭。",
        {
            "a": "行政机关相应的工作人员",
            "b": "律师",
            "c": "其他行政机关的工作人员",
            "d": "原告同意的人员",
        },
        "A",
        "《中华人民共和国行政诉讼法》第三条第三款",
    ),
    (
        "CASE-GI-03",
        "single",
        "行政机关收到政府信息公开申请，不能当场答复的，"
        "应当自收到申请之日起（　）个工作日内予以答复。",
        {"a": "10", "b": "15", "c": "20", "d": "30"},
        "C",
        "《中华人民共和国政府信息公开条例》第三十三条",
    ),
]


def _case_questions(topic):
    questions = []
    for key, kind, stem, options, answer, basis in CASE_QUESTIONS:
        values = {f"option_{letter}": text for letter, text in options.items()}
        question, _created = Question.objects.get_or_create(
            key=key,
            defaults={
                "type": kind,
                "topic": topic,
                "stem": stem,
                "answer": answer,
                "legal_basis": basis,
                **values,
            },
        )
        questions.append(question)
    return questions


def _featured(past):
    """Two reflections on the past hearing whose authors agreed to be quoted."""
    reflections = list(
        Reflection.objects.filter(attendance__observation=past).order_by("attendance__official")[:2]
    )
    for reflection in reflections:
        reflection.feature_consent = True
        reflection.save(update_fields=["feature_consent"])
    return [(r, r.text) for r in reflections]


def _missed_by_leader(past, organizer):
    """The demo leader was called away: excused from the hearing, so the make-up path
    (补学) shows on their observations page."""
    row = past.attendance.filter(official__user__username="leader").first()
    if row is not None and row.status not in cases.MISSED_STATUSES:
        services.mark(row, Status.EXCUSED, by=organizer, now=past.starts_at)


@transaction.atomic
def load_case():
    """The past hearing's case page (published), its quiz and tagged questions; 1 if
    created."""
    past = CourtObservation.objects.filter(title=PAST_TITLE).first()
    if past is None or cases.case_of(past) is not None or cases.lecture_index() is None:
        return 0
    organizer = User.objects.filter(username="organizer").first()
    topic, _created = LawTopic.objects.get_or_create(
        slug=CASE_TOPIC[1], defaults={"name": CASE_TOPIC[0], "sort_order": 900}
    )
    _missed_by_leader(past, organizer)
    draft = cases.CaseDraft(
        title="以案释法：政府信息公开答复案",
        date=timezone.localdate(past.starts_at),
        occasion=past.court,
        summary=past.case_summary,
        facts=CASE_FACTS,
        legal_issues=CASE_ISSUES,
        articles=CASE_ARTICLES,
        trial_video_url="https://tingshen.court.gov.cn/",
        credit_minutes=30,
        reflections=_featured(past),
        questions=_case_questions(topic),
        pass_mark=60,
        publish=True,
    )
    _case, created = cases.create_case(past, draft, user=organizer)
    return int(created)
