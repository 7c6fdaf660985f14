"""Exam demo data: the question bank, an annual exam for everyone (with a separate
paper for leaders), a pre-appointment exam for two named candidates and its make-up,
a practice session, and finished attempts so results and statistics have data.
Idempotent: everything is found by its key or title before it is created."""

import json
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from learning.models import LawTopic, LecturePage, Official, StudyPlan, User

from . import attempts as engine
from . import marking
from .demo_questions import QUESTIONS, open_questions
from .models import (
    CHOICE_TYPES,
    MANUAL_TYPES,
    Attempt,
    ExamSession,
    LectureQuiz,
    LectureQuizQuestion,
    Paper,
    PaperMode,
    PaperQuestion,
    PaperRule,
    PlanExam,
    Question,
    QuestionType,
    SessionCandidate,
    SessionKind,
)

TYPES = {"S": QuestionType.SINGLE, "M": QuestionType.MULTIPLE, "T": QuestionType.TRUE_FALSE}
TOPIC_SLUGS = {
    "民法典": "civil-code",
    "保密法": "secrecy-law",
    "宪法": "constitution",
    "监察法": "supervision-law",
    "行政许可法": "administrative-licensing-law",
    "行政处罚法": "administrative-penalty-law",
    "安全生产法": "work-safety-law",
    "土地管理法": "land-administration-law",
    "环境保护法": "environmental-protection-law",
    "统计法": "statistics-law",
    "公共图书馆法": "public-library-law",
    "公共文化服务保障法": "public-cultural-services-law",
    "天津市文明行为促进条例": "tianjin-civility-regulation",
    "党内法规": "party-regulations",
    "重大行政决策程序暂行条例": "major-administrative-decisions",
}
YEAR_TITLE = "{year}年度学法用法考试"
LEADER_PAPER = "{year}年度学法用法考试（领导干部卷）"
PRE_APPOINTMENT = "{year}年第一批拟任职干部任前法律知识考试"
MAKEUP = "{year}年第一批拟任职干部任前法律知识考试（补考）"
PRACTICE = "民法典与行政执法专题练习"
CANDIDATES = [("BH0007", "区统计局副局长"), ("BH0012", "区文化和旅游局办公室主任")]


def _topics():
    topics = {}
    for order, (name, slug) in enumerate(TOPIC_SLUGS.items(), start=1):
        topic, _created = LawTopic.objects.get_or_create(
            name=name, defaults={"slug": slug or slugify(name), "sort_order": order * 10}
        )
        topics[name] = topic
    return topics


def load_questions():
    """The bank of demo questions; returns how many were created."""
    topics = _topics()
    existing = set(Question.objects.filter(key__startswith="DEMO-").values_list("key", flat=True))
    created = 0
    for index, (key, topic, kind, stem, options, answer, explanation, basis) in enumerate(
        QUESTIONS
    ):
        key = f"DEMO-{key}"
        if key in existing:
            continue
        letters = dict(zip("abcdef", options or [], strict=False))
        question = Question(
            key=key,
            type=TYPES[kind],
            topic=topics[topic],
            stem=stem,
            answer=answer,
            explanation=explanation,
            legal_basis=basis,
            difficulty=1 + index % 3,
            **{f"option_{c}": text for c, text in letters.items()},
        )
        question.full_clean()
        question.save()
        created += 1
    for key, topic, fields in open_questions():
        key = f"DEMO-{key}"
        if key in existing:
            continue
        question = Question(key=key, topic=topics[topic], **fields)
        question.full_clean()
        question.save()
        created += 1
    return created


QUIZ_LECTURE = "行政处罚法要点解读"


def load_quizzes():
    """The quiz after the administrative penalty law lecture: three questions from the
    bank on that law, 2 of 3 to pass; 1 if it was created."""
    lecture = LecturePage.objects.filter(title=QUIZ_LECTURE).first()
    if lecture is None or LectureQuiz.objects.filter(lecture=lecture).exists():
        return 0
    questions = Question.objects.filter(
        key__startswith="DEMO-", topic__name="行政处罚法", type__in=CHOICE_TYPES
    ).order_by("key")[:3]
    quiz = LectureQuiz.objects.create(lecture=lecture, pass_mark=60, required_for_completion=False)
    for order, question in enumerate(questions):
        LectureQuizQuestion.objects.create(quiz=quiz, question=question, sort_order=order)
    return 1


def _paper(title, mode, rules=(), questions=()):
    paper, created = Paper.objects.get_or_create(title=title, defaults={"mode": mode})
    if created:
        for order, (topic, qtype, count, points) in enumerate(rules):
            PaperRule.objects.create(
                paper=paper, topic=topic, type=qtype, count=count, points=points, sort_order=order
            )
        for order, (question, points) in enumerate(questions):
            PaperQuestion.objects.create(
                paper=paper, question=question, points=points, sort_order=order
            )
    return paper


def _session(title, **fields):
    session = ExamSession.objects.filter(title=title).first()
    if session is not None:
        return session, False
    departments = fields.pop("departments", [])
    session = ExamSession(title=title, **fields)
    session.full_clean()
    session.save()
    if departments:
        session.departments.set(departments)
    return session, True


def load_sessions():
    """Papers and sessions; returns how many sessions were created."""
    topics = _topics()
    now = timezone.now()
    year = timezone.localdate().year
    created = _load_annual_exam(topics, year, now)
    created += _load_pre_appointment_exams(year, now)
    created += _load_practice(topics, year, now)
    return created


def _load_annual_exam(topics, year, now):
    """The annual exam for everyone, open now, with its own paper for leaders, and
    required by the year's study plans (learning demo); 1 if it was created."""
    annual_paper = _paper(
        f"{year}年度学法用法考试试卷（随机组卷）",
        PaperMode.RANDOM,
        rules=[
            (None, QuestionType.SINGLE, 20, Decimal(2)),
            (None, QuestionType.MULTIPLE, 10, Decimal(2)),
            (None, QuestionType.TRUE_FALSE, 10, Decimal(2)),
            (None, QuestionType.FILL_BLANK, 5, Decimal(2)),
            (None, QuestionType.CASE_ANALYSIS, 1, Decimal(10)),
        ],
    )
    leader_paper = _paper(
        LEADER_PAPER.format(year=year),
        PaperMode.RANDOM,
        rules=[
            (topics["重大行政决策程序暂行条例"], QuestionType.SINGLE, 5, Decimal(2)),
            (topics["宪法"], QuestionType.SINGLE, 5, Decimal(2)),
            (None, QuestionType.SINGLE, 20, Decimal(2)),
            (None, QuestionType.MULTIPLE, 10, Decimal(2)),
            (None, QuestionType.TRUE_FALSE, 10, Decimal(2)),
        ],
    )
    annual, was = _session(
        YEAR_TITLE.format(year=year),
        kind=SessionKind.ANNUAL,
        year=year,
        paper=annual_paper,
        leader_paper=leader_paper,
        opens_at=now - timedelta(days=7),
        closes_at=now + timedelta(days=30),
        duration_minutes=90,
        attempts_allowed=3,
        review_policy="after_close",
        for_everyone=True,
    )
    for plan in StudyPlan.objects.filter(year=year):
        PlanExam.objects.get_or_create(plan=plan, session=annual)
    return was


def _load_pre_appointment_exams(year, now):
    """The pre-appointment exam on a fixed paper for CANDIDATES, closed three days ago,
    and its make-up, open now; how many of the two were created."""
    fixed = list(
        Question.objects.filter(key__startswith="DEMO-", type__in=CHOICE_TYPES)
        .exclude(topic__name__in=["公共图书馆法", "公共文化服务保障法"])
        .order_by("key")[:50]
    )
    pre_paper = _paper(
        f"{year}年任前法律知识考试试卷",
        PaperMode.FIXED,
        questions=[(q, Decimal(2)) for q in fixed],
    )
    pre, created = _session(
        PRE_APPOINTMENT.format(year=year),
        kind=SessionKind.PRE_APPOINTMENT,
        year=year,
        paper=pre_paper,
        opens_at=now - timedelta(days=10),
        closes_at=now - timedelta(days=3),
        duration_minutes=120,
        attempts_allowed=1,
        review_policy="never",
        shuffle_questions=True,
    )
    if created:
        for staff_number, post in CANDIDATES:
            official = Official.objects.get(staff_number=staff_number)
            SessionCandidate.objects.create(session=pre, official=official, intended_post=post)
    _makeup, was = _session(
        MAKEUP.format(year=year),
        kind=SessionKind.MAKEUP,
        year=year,
        paper=pre_paper,
        makes_up=pre,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=14),
        duration_minutes=120,
        attempts_allowed=1,
        review_policy="never",
    )
    return created + was


def _load_practice(topics, year, now):
    """The practice session for everyone on civil code and administrative law; 1 if
    it was created."""
    practice_paper = _paper(
        "民法典与行政执法练习卷",
        PaperMode.RANDOM,
        rules=[
            (topics["民法典"], QuestionType.SINGLE, 4, Decimal(10)),
            (topics["行政处罚法"], QuestionType.SINGLE, 2, Decimal(10)),
            (topics["民法典"], QuestionType.MULTIPLE, 2, Decimal(10)),
            (topics["行政许可法"], QuestionType.TRUE_FALSE, 2, Decimal(10)),
        ],
    )
    _practice, was = _session(
        PRACTICE,
        kind=SessionKind.PRACTICE,
        year=year,
        paper=practice_paper,
        opens_at=now - timedelta(days=30),
        closes_at=now + timedelta(days=300),
        duration_minutes=20,
        attempts_allowed=50,
        review_policy="after_submit",
        for_everyone=True,
    )
    return was


def _demo_response(answer, right):
    """What a demo sitter answers: the right answer, or a plausible wrong one."""
    snapshot = answer.snapshot
    if answer.type == QuestionType.FILL_BLANK:
        texts = [accepted[0] if right else "不清楚" for accepted in snapshot["blanks"]]
        return json.dumps(texts, ensure_ascii=False)
    if answer.type in MANUAL_TYPES:
        if right:
            return snapshot.get("model_answer") or "。".join(
                e["element"] for e in snapshot.get("rubric") or []
            )
        return "应当依法处理，具体依据记不清了。"
    correct = snapshot["answer"]
    if right:
        return correct
    if answer.type == QuestionType.TRUE_FALSE:
        return "F" if correct == "T" else "T"
    wrong = [c for c in snapshot["options"] if c not in correct]
    return wrong[0] if wrong else ""


def _sit(session, official, when, ability, rng):
    """One finished attempt answering each question right with probability `ability`."""
    attempt = engine.start_attempt(session, official, now=when)
    for answer in attempt.answers.all():
        response = _demo_response(answer, rng.random() < ability)
        engine.save_answer(
            attempt.pk, official, answer.position, response, now=when + timedelta(minutes=20)
        )
    engine.submit_attempt(attempt, now=when + timedelta(minutes=40))
    return attempt


def _mark_written(attempt, marker, ability):
    """The organizer marks the attempt's written answers by their rubric: each element
    earns its points in proportion to the sitter's ability."""
    for answer in attempt.answers.all():
        if answer.type not in MANUAL_TYPES:
            continue
        points = [
            (element.points * Decimal(str(round(ability, 1)))).quantize(Decimal("0.1"))
            for element in marking.rubric_elements(answer)
        ]
        if ability >= 0.7:
            comment = "要点基本齐全，法律依据引用准确。"
        else:
            comment = "要点不全，请重温相关条文。"
        marking.mark(answer, marker, points, comment)


def load_attempts():
    """Finished attempts: thirty officials in the annual exam, both candidates in the
    pre-appointment exam (one passes, one fails and is due for the make-up), and a
    practice round by the demo official so the wrong-answer notebook has entries."""
    year = timezone.localdate().year
    annual = ExamSession.objects.get(title=YEAR_TITLE.format(year=year))
    pre = ExamSession.objects.get(title=PRE_APPOINTMENT.format(year=year))
    practice = ExamSession.objects.get(title=PRACTICE)
    rng = random.Random(2026)
    created = 0
    sitters = Official.objects.exclude(
        user__username__in=["official", "leader", "organizer"]
    ).order_by("staff_number")[:30]
    marker = User.objects.filter(username="organizer").first()
    for index, official in enumerate(sitters):
        if Attempt.objects.filter(session=annual, official=official).exists():
            continue
        when = annual.opens_at + timedelta(hours=2 + index * 3)
        ability = 0.45 + 0.5 * rng.random()
        attempt = _sit(annual, official, when, ability, rng)
        # The last few stay in the marking queue, so it has work to show.
        if marker is not None and index < len(sitters) - 3:
            _mark_written(attempt, marker, ability)
        created += 1
    for (staff_number, _post), ability in zip(CANDIDATES, (0.95, 0.3), strict=True):
        official = Official.objects.get(staff_number=staff_number)
        if not Attempt.objects.filter(session=pre, official=official).exists():
            _sit(pre, official, pre.opens_at + timedelta(days=1), ability, rng)
            created += 1
    demo_official = Official.objects.filter(user__username="official").first()
    if demo_official and not Attempt.objects.filter(session=practice, official=demo_official):
        _sit(practice, demo_official, timezone.now() - timedelta(days=2), 0.5, rng)
        created += 1
    return created
