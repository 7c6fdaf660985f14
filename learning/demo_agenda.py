"""Demo meeting law-study agenda (会前学法) from the seed document: the two expert
lectures at the district executive meeting (付士成 on major administrative decisions,
陈耀东 on the Civil Code), the district head's rule-of-law lesson, the party group's
study of party regulations and the all-staff meeting's Secrecy Law study. Dates are
counted from the day the demo is loaded: the first lecture was held (with its
attendance, and follow-up questions on: the quiz of its lecture, which the exams demo
makes), the Civil Code lecture is overdue, the rest lie ahead.

Idempotent: items are looked up by meeting and title."""

import datetime

from django.utils import timezone

from . import agenda
from .models import AgendaItem, Department, LawTopic, LecturePage, Official, Speaker
from .models.study import Meeting

# days from the load day, meeting, title, speaker, lecture slug, topics, credit minutes
AGENDA = [
    (
        -45,
        Meeting.EXECUTIVE,
        "法律专家讲座：重大行政决策程序",
        "付士成",
        "major-administrative-decisions",
        ["党内法规"],
        60,
    ),
    (-7, Meeting.EXECUTIVE, "法律专家讲座：《民法典》", "陈耀东", "civil-code", ["民法典"], 60),
    (
        10,
        Meeting.PARTY_GROUP,
        "学习党内法规：党组工作条例、纪律处分条例",
        None,
        None,
        ["党内法规"],
        45,
    ),
    (
        21,
        Meeting.EXECUTIVE,
        "区长讲法治课",
        "区政府主要负责同志",
        "district-head-lesson",
        ["宪法"],
        45,
    ),
    (
        35,
        Meeting.ALL_STAFF,
        "学习《保密法》，观看保密警示教育片",
        "区司法局法治宣传科",
        "secrecy-law",
        ["保密法"],
        45,
    ),
]
HELD_TITLE = "法律专家讲座：重大行政决策程序"
# Days the held item's attendees have to answer its follow-up questions.
FOLLOW_UP_DAYS = 60


def load_agenda():
    """The year's agenda; the first item recorded as held, attended by the leaders and
    the district government office."""
    today = timezone.localdate()
    speakers = {s.name: s for s in Speaker.objects.all()}
    created = 0
    for days, meeting, title, speaker, lecture, topics, minutes in AGENDA:
        if AgendaItem.objects.filter(meeting=meeting, title=title).exists():
            continue
        item = AgendaItem(
            date=today + datetime.timedelta(days=days),
            meeting=meeting,
            title=title,
            speaker=speakers.get(speaker),
            lecture=LecturePage.objects.filter(slug=lecture).first() if lecture else None,
            credit_minutes=minutes,
            follow_up_questions=title == HELD_TITLE,
            follow_up_days=FOLLOW_UP_DAYS if title == HELD_TITLE else None,
        )
        item.topics = list(LawTopic.objects.filter(name__in=topics))
        item.save()
        created += 1
        if title == HELD_TITLE:
            _hold(item)
    return created


def _hold(item):
    session = agenda.record_held(item).session
    office = Department.objects.filter(name="区政府办公室").first()
    present = set(Official.objects.active().leaders().values_list("pk", flat=True))
    if office is not None:
        present.update(agenda.officials_of([office]).values_list("pk", flat=True))
    agenda.add_attendees(session, present)
