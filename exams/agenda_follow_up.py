"""Follow-up questions after a meeting's law study (会后测试): when the organizer
switches them on for an agenda item (learning.agenda), its attendees are asked to
answer the quiz of its lecture page (exams.quizzes), once the item is held.

- Officials: a dashboard to-do per held item they attended, until they have
  submitted a try at the quiz since the meeting, or its due date has passed. A
  submitted try ends it, passed or not: the follow-up checks what was understood
  after the meeting; passing, when the organizer requires it, is the lecture quiz's
  own requirement on the study panel, and nagging for it twice would only repeat it.
- Attendees get one reminder with the quiz's link, sent after the commit that
  records them as attending (when the item is recorded held, or later, as the
  attendance is filled in), found again by its link so nobody is told twice.
- Organizers: on the agenda's listing, per held item, how many attended, answered
  and passed, and the average of each answerer's best try since the meeting; or, when
  the lecture has no quiz, a warning with the link to make one (officials see nothing).

Registered with learning's `register_agenda_follow_up` hook (exams/wagtail_hooks.py)."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.db.models.signals import post_delete, post_save
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from learning.agenda import FollowUpSummary
from learning.dashboard import DashboardPanel
from learning.fast import Invalidation
from learning.fast import dashboard as fast_dashboard
from learning.models import (
    AgendaItem,
    AgendaStatus,
    CollectiveStudySession,
    Delivery,
    LecturePage,
    Official,
)
from learning.notices import NoticeKind, notify

from . import quizzes
from .models import (
    CHOICE_TYPES,
    LectureQuiz,
    LectureQuizQuestion,
    Question,
    QuestionType,
    QuizAttempt,
)
from .models.questions import FALSE, TRUE, normalise_answer

# Officials' dashboards show at most this many follow-ups (the oldest first).
PANEL_ROWS = 5


def quiz_url(lecture_id):
    return reverse("exams:quiz", args=[lecture_id])


def reminder_url(item):
    """The quiz's full address, marked with the item so that its reminders are found
    again (the quiz page ignores the mark)."""
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    return f"{base}{quiz_url(item.lecture_id)}?agenda={item.pk}"


def _since(day):
    """The start of the meeting's day: tries from then on answer its follow-up."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- The organizer's figures ---------------------------------------------------------


def _quizzes(lecture_ids):
    """{lecture id: quiz id} of the live lectures that have a quiz."""
    return dict(
        LectureQuiz.objects.filter(lecture_id__in=lecture_ids, lecture__live=True).values_list(
            "lecture_id", "pk"
        )
    )


def _answers(sessions, quiz_of_session):
    """{session id: {official id: (best percent, passed)}}: each attendee's tries at
    the quiz since the meeting (one query for every session)."""
    rows = QuizAttempt.objects.filter(
        quiz_id__in=set(quiz_of_session.values()),
        official__session_attendance__session_id__in=list(quiz_of_session),
    ).values_list(
        "official__session_attendance__session_id",
        "quiz_id",
        "official_id",
        "percent",
        "passed",
        "created_at",
    )
    found = defaultdict(dict)
    for session_id, quiz_id, official_id, percent, passed, created_at in rows:
        if quiz_of_session[session_id] != quiz_id or created_at < _since(sessions[session_id][0]):
            continue
        best, ever = found[session_id].get(official_id, (Decimal(0), False))
        found[session_id][official_id] = (max(best, percent), ever or passed)
    return found


def summaries(items):
    """{item pk: FollowUpSummary} for agenda items with follow-up on: three queries
    however many items are listed."""
    quiz_of_lecture = _quizzes({item.lecture_id for item in items if item.lecture_id})
    create_url = reverse("wagtailsnippets_exams_lecturequiz:add")
    quiz_of_session = {
        item.session_id: quiz_of_lecture[item.lecture_id]
        for item in items
        if item.session_id and item.lecture_id in quiz_of_lecture
    }
    sessions = {}
    if quiz_of_session:
        sessions = {
            pk: (day, count)
            for pk, day, count in CollectiveStudySession.objects.filter(
                pk__in=list(quiz_of_session)
            )
            .annotate(count=Count("attendance"))
            .values_list("pk", "date", "count")
        }
    answers = _answers(sessions, quiz_of_session) if sessions else {}
    found = {}
    for item in items:
        quiz_id = quiz_of_lecture.get(item.lecture_id)
        if quiz_id is None:
            found[item.pk] = FollowUpSummary(create_url=create_url)
            continue
        summary = FollowUpSummary(
            quiz_url=reverse("wagtailsnippets_exams_lecturequiz:edit", args=[quiz_id])
        )
        if item.session_id in sessions:
            given = answers.get(item.session_id, {})
            summary.attended = sessions[item.session_id][1]
            summary.answered = len(given)
            summary.passed = sum(1 for _best, passed in given.values() if passed)
            if given:
                total = sum(best for best, _passed in given.values())
                summary.average = (total / len(given)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        found[item.pk] = summary
    return found


# --- The reminder ---------------------------------------------------------------------


def remind(item):
    """Remind the item's attendees not yet told to answer its follow-up questions:
    once per official and item, however often attendance is saved (the reminders
    already sent are found by their link). Returns how many were reminded now."""
    if item.lecture_id is None or quizzes.quiz_for(item.lecture_id) is None:
        return 0
    url = reminder_url(item)
    with transaction.atomic():
        # Two saves at once take turns on the item's row instead of both reminding.
        AgendaItem.objects.select_for_update().filter(pk=item.pk).first()
        told = Delivery.objects.filter(kind=NoticeKind.STUDY_REMINDER, url=url)
        officials = (
            Official.objects.active()
            .filter(session_attendance__session_id=item.session_id)
            .exclude(user_id__in=told.values("user_id"))
            .select_related("user")
        )
        users = [official.user for official in officials]
        if users:
            subject, body = _reminder_text(item)
            notify(NoticeKind.STUDY_REMINDER, users, subject=subject, body=body, url=url)
    return len(users)


def _reminder_text(item):
    session = item.session
    due = item.follow_up_due(session.date)
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "meeting": session.get_meeting_display(),
            "date": f"{session.date:%Y-%m-%d}",
            "title": session.title,
        }
        subject = _("Follow-up questions: %(meeting)s %(date)s") % values
        body = _("You attended “%(title)s” at the %(meeting)s on %(date)s.") % values
        if due is None:
            body += " " + _("Please answer its follow-up questions.")
        else:
            body += " " + _("Please answer its follow-up questions by %(due)s.") % {
                "due": f"{due:%Y-%m-%d}"
            }
    return subject, body


class FollowUpProvider:
    """What learning's agenda asks of exams (learning.agenda.FOLLOW_UP_HOOK)."""

    def summaries(self, items):
        return summaries(items)

    def attendance_recorded(self, item):
        remind(item)


# --- The officials' dashboard -----------------------------------------------------------


def open_follow_ups(official, today=None):
    """The held items the official attended whose follow-up questions they have not
    answered since the meeting, while due (oldest meeting first): one query."""
    today = today or timezone.localdate()
    answered = QuizAttempt.objects.filter(
        official=official,
        quiz__lecture_id=OuterRef("lecture_id"),
        created_at__date__gte=OuterRef("session__date"),
    )
    items = (
        AgendaItem.objects.filter(
            status=AgendaStatus.HELD,
            follow_up_questions=True,
            session__attendance__official=official,
            lecture__live=True,
            lecture__quiz__isnull=False,
        )
        .exclude(Exists(answered))
        .select_related("session", "lecture")
        .order_by("session__date", "pk")
    )
    rows = []
    for item in items:
        item.due = item.follow_up_due(item.session.date)
        if item.due is None or item.due >= today:
            rows.append(item)
    return rows


class FollowUpPanel(DashboardPanel):
    """ "Answer the follow-up questions of <meeting> <date>", linking to the quiz."""

    order = 25
    template_name = "exams/includes/agenda_follow_up_panel.html"

    def is_shown(self):
        official = getattr(self.request.user, "official", None)
        if official is None:
            return False
        self.rows = open_follow_ups(official)
        dues = [item.due for item in self.rows if item.due is not None]
        if dues:
            # The day after the earliest due date, the to-do goes by the clock alone.
            self.changes_at = _since(min(dues) + datetime.timedelta(days=1))
        return bool(self.rows)

    def get_context_data(self, parent_context=None):
        return {"rows": self.rows[:PANEL_ROWS], "more": max(0, len(self.rows) - PANEL_ROWS)}


def dashboard_panels(request):
    return [FollowUpPanel(request)]


def invalidations():
    """An item's follow-up switched on or off (or its due changed) changes the
    dashboards of its attendees; attendance, quiz tries and quizzes are already
    followed (learning's and exams' own invalidations)."""
    return [
        Invalidation(fast_dashboard.SHARED_FAMILY, signal, AgendaItem)
        for signal in (post_save, post_delete)
    ]


# --- Demo --------------------------------------------------------------------------------

DEMO_LECTURE = "major-administrative-decisions"
DEMO_TOPIC = "重大行政决策程序暂行条例"
# Two of the held item's attendees answered (the first two by staff number after the
# demo's own official, who still has it to do): one all right, one with a slip.
DEMO_SLIPS = (0, 1)
DEMO_STILL_TO_DO = "BH0001"


def load_demo():
    """The quiz of 付士成's lecture on major administrative decisions (the demo agenda's
    held item asks it as follow-up questions) and two attendees' answers; 1 if made."""
    lecture = LecturePage.objects.filter(slug=DEMO_LECTURE).first()
    if lecture is None or LectureQuiz.objects.filter(lecture=lecture).exists():
        return 0
    questions = list(
        Question.objects.filter(
            key__startswith="DEMO-", topic__name=DEMO_TOPIC, type__in=CHOICE_TYPES
        ).order_by("key")[:3]
    )
    if not questions:
        return 0
    quiz = LectureQuiz.objects.create(lecture=lecture, pass_mark=60, required_for_completion=False)
    for order, question in enumerate(questions):
        LectureQuizQuestion.objects.create(quiz=quiz, question=question, sort_order=order)
    item = AgendaItem.objects.filter(lecture=lecture, session__isnull=False).first()
    if item is not None:
        attendees = (
            Official.objects.filter(session_attendance__session_id=item.session_id)
            .exclude(staff_number=DEMO_STILL_TO_DO)
            .order_by("staff_number")
        )
        for official, wrong in zip(attendees[: len(DEMO_SLIPS)], DEMO_SLIPS, strict=False):
            quizzes.submit(quiz, official, questions, _demo_answers(questions, wrong))
    return 1


def _demo_answers(questions, wrong):
    """A filled-in quiz form: the key to each question but the first `wrong` ones."""
    data = QueryDict(mutable=True)
    for index, question in enumerate(questions):
        key = normalise_answer(question.answer, question.type)
        if question.type == QuestionType.TRUE_FALSE:
            data[f"q{question.pk}"] = ({TRUE: FALSE, FALSE: TRUE}[key]) if index < wrong else key
            continue
        if index < wrong:
            key = next(c for c in question.options if c not in key)
        data.setlist(f"q{question.pk}", list(key))
    return data
