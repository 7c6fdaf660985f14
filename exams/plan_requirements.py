"""Required exams in study plans: the exams app's provider for learning.completion.
An exam counts as done when the official's counting attempt (best or last, as the
session grades) passed, in the session or in a make-up of it, by the year's end."""

from collections import defaultdict

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import InlinePanel

from learning.completion import RequirementItem, RequirementProvider
from learning.models.study import year_bounds

from . import grading
from .models import Attempt, AttemptState, ExamSession, PlanExam

KIND = "exam"
PREFIX = "exams.session:"


class ExamRequirements(RequirementProvider):
    def required_items(self, plans):
        items = defaultdict(list)
        links = PlanExam.objects.filter(plan_id__in=[p.pk for p in plans]).select_related("session")
        for link in links.order_by("sort_order", "pk"):
            session = link.session
            items[link.plan_id].append(
                RequirementItem(
                    f"{PREFIX}{session.pk}",
                    KIND,
                    session.title,
                    session,
                    closes_at=session.closes_at,
                    link=reverse("exams:session", args=[session.pk]),
                )
            )
        return items

    def done_keys(self, official_ids, year, items):
        # Items of every provider arrive here; ours are the keys with our prefix.
        required = {
            int(item.key.removeprefix(PREFIX))
            for item in items
            if item.kind == KIND and item.key.startswith(PREFIX)
        }
        done = defaultdict(set)
        if not required:
            return done
        makeups = dict(
            ExamSession.objects.filter(makes_up_id__in=list(required)).values_list(
                "pk", "makes_up_id"
            )
        )
        sessions = {s.pk: s for s in ExamSession.objects.filter(pk__in=[*required, *makeups])}
        _start, end = year_bounds(year)
        attempts = defaultdict(list)
        for attempt in map(
            grading.AttemptResult._make,
            Attempt.objects.filter(
                official_id__any_of=official_ids,
                session_id__in=list(sessions),
                submitted_at__lt=end,
            )
            .exclude(state=AttemptState.IN_PROGRESS)
            .order_by()  # Attempt's default order joins sessions, officials and departments
            .values_list(*grading.AttemptResult._fields),
        ):
            attempts[(attempt.official_id, attempt.session_id)].append(attempt)
        for (official_id, session_id), mine in attempts.items():
            result = grading.counting_attempt(sessions[session_id], mine)
            if result is not None and result.passed:
                required_id = makeups.get(session_id, session_id)
                done[official_id].add(f"{PREFIX}{required_id}")
        return done

    def panels(self):
        return [InlinePanel("required_exams", label=_("Required exams"))]
