"""Court observations in the annual study plan: a plan lists required observations
(`PlanObservation`, edited inline on the plan through this provider's panels), and an
official has done one when they attended (present or late) and, where the observation
requires it, submitted a reflection by the end of the year; or, having missed it, made
it up on its case page (补学). The same attendance earns
the observation's credit minutes toward the year's credit hours (`credit_seconds`).

Neither counts before the hearing's scheduled end (`AttendanceQuerySet.credited`): a
check-in shows that the official arrived, and the credit is for sitting through it."""

from collections import defaultdict

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import InlinePanel

from learning.completion import RequirementItem, RequirementProvider
from learning.models.study import year_bounds

from .models import Attendance, PlanObservation, Reflection


def item_key(observation_id):
    # A requirement's key, not a module path: exams/reports/record_pdf.py builds the
    # same key, so it keeps the "exams." prefix it had before this app was split off.
    return f"exams.observation:{observation_id}"


class ObservationRequirements(RequirementProvider):
    def required_items(self, plans):
        items = defaultdict(list)
        links = (
            PlanObservation.objects.filter(plan_id__in=[plan.pk for plan in plans])
            .select_related("observation")
            .order_by("observation__starts_at", "observation_id")
        )
        for link in links:
            observation = link.observation
            items[link.plan_id].append(
                RequirementItem(
                    item_key(observation.pk),
                    "observation",
                    observation.title,
                    observation,
                    closes_at=observation.starts_at,
                    link=reverse("observations:detail", args=[observation.pk]),
                )
            )
        return items

    def done_keys(self, official_ids, year, items, now=None):
        observation_ids = {item.obj.pk for item in items if item.kind == "observation"}
        done = defaultdict(set)
        if not observation_ids:
            return done
        _start, end = year_bounds(year)
        now = now or timezone.now()
        reflected = Reflection.objects.filter(attendance=OuterRef("pk"), submitted_at__lt=end)
        # A missed hearing made up on its case page (补学, exams.observations.cases)
        # meets the requirement too; its credit hours come from the lecture, not here.
        made_up = Q(made_up_at__lt=end, made_up_at__lte=now)
        rows = (
            (Attendance.objects.credited(now) | Attendance.objects.filter(made_up))
            .filter(
                official_id__any_of=official_ids,
                observation_id__in=observation_ids,
                observation__starts_at__lt=end,
            )
            .annotate(
                reflected=Exists(reflected),
                counts_as_made_up=ExpressionWrapper(made_up, output_field=BooleanField()),
            )
            .values_list(
                "official_id",
                "observation_id",
                "observation__reflection_required",
                "reflected",
                "counts_as_made_up",
            )
        )
        for official_id, observation_id, reflection_required, has_reflection, made in rows:
            if made or has_reflection or not reflection_required:
                done[official_id].add(item_key(observation_id))
        return done

    def credit_seconds(self, official_ids, year, now=None):
        """Credit minutes of observations in `year` attended (present or late) whose
        hearing has ended by `now`, with the reflection submitted by the year's end
        where the observation requires one."""
        start, end = year_bounds(year)
        reflected = Reflection.objects.filter(attendance=OuterRef("pk"), submitted_at__lt=end)
        rows = (
            Attendance.objects.credited(now)
            .filter(
                official_id__any_of=official_ids,
                observation__starts_at__gte=start,
                observation__starts_at__lt=end,
            )
            .filter(Q(observation__reflection_required=False) | Q(Exists(reflected)))
            .values("official_id")
            .annotate(total=Sum("observation__credit_minutes"))
            .values_list("official_id", "total")
        )
        return {official_id: (minutes or 0) * 60 for official_id, minutes in rows}

    def panels(self):
        return [
            InlinePanel(
                "required_observations",
                label=_("Required court observations"),
                heading=_("Required court observations"),
            )
        ]
