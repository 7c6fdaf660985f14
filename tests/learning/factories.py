"""Factories for lectures, series, plans and study records."""

import datetime

from wagtail.models import Site

import factory

from learning.models import (
    CollectiveStudySession,
    LawTopic,
    LectureIndexPage,
    LecturePage,
    LectureSeriesPage,
    Speaker,
    StudyPlan,
    StudyRecord,
)
from tests.factories import OfficialFactory


class LawTopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LawTopic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"法律{n}")
    slug = factory.Sequence(lambda n: f"law-{n}")


class SpeakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Speaker

    name = factory.Sequence(lambda n: f"讲师{n}")
    title = "教授"
    affiliation = "南开大学法学院"


def lecture_index():
    """The site's lecture index at /lectures/ (created under the home page once)."""
    existing = LectureIndexPage.objects.first()
    if existing is not None:
        return existing
    home = Site.objects.get(is_default_site=True).root_page
    index = LectureIndexPage(title="学法课堂", slug="lectures")
    home.add_child(instance=index)
    return index


def make_series(title="民法典专题", parent=None, **kwargs):
    parent = parent or lecture_index()
    series = LectureSeriesPage(title=title, slug=kwargs.pop("slug", None) or None, **kwargs)
    if not series.slug:
        series.slug = f"series-{LectureSeriesPage.objects.count() + 1}"
    parent.add_child(instance=series)
    return series


_counter = iter(range(1, 10**9))


def make_lecture(
    title="民法典讲座", parent=None, live=True, topics=(), speakers=(), body=None, **kwargs
):
    """A lecture page; `live=False` leaves it a draft that was never published."""
    parent = parent or lecture_index()
    parent.refresh_from_db()
    kwargs.setdefault("date", datetime.date(2026, 3, 1))
    kwargs.setdefault("slug", f"lecture-{next(_counter)}")
    lecture = LecturePage(title=title, live=live, body=body or [], **kwargs)
    parent.add_child(instance=lecture)
    if topics:
        lecture.topics.set(topics)
    if speakers:
        lecture.speakers.set(speakers)
    if topics or speakers:
        lecture.save()
    if live:
        lecture.save_revision().publish()
    else:
        lecture.save_revision()
    lecture.refresh_from_db()
    return lecture


def make_plan(year=2026, title=None, lectures=(), series=(), departments=(), **kwargs):
    plan = StudyPlan(year=year, title=title or f"{year}年度学法计划", **kwargs)
    plan.save()
    plan.required_lectures.set(lectures)
    plan.required_series.set(series)
    plan.departments.set(departments)
    plan.save()
    return plan


def make_session(attendees=(), departments=(), **kwargs):
    kwargs.setdefault("date", datetime.date(2026, 4, 1))
    kwargs.setdefault("title", "学习宪法")
    session = CollectiveStudySession(**kwargs)
    session.save()
    session.attendees.set(attendees)
    session.departments.set(departments)
    session.save()
    return session


def complete(official, lecture, when=None):
    """A completed study record (for plan evaluation tests)."""
    when = when or datetime.datetime(2026, 5, 1, 10, tzinfo=datetime.UTC)
    return StudyRecord.objects.create(
        official=official,
        lecture=lecture,
        credited_seconds=lecture.credit_seconds,
        started_at=when - datetime.timedelta(seconds=lecture.credit_seconds),
        last_heartbeat_at=when,
        completed_at=when,
    )


__all__ = ["OfficialFactory"]
