"""Factories for court observation tests."""

import datetime

from django.utils import timezone

import factory

from exams.observations.models import CaseType, CourtObservation


class CourtObservationFactory(factory.django.DjangoModelFactory):
    """An observation three days ahead, open for registration until tomorrow."""

    class Meta:
        model = CourtObservation
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"旁听庭审{n}")
    court = "滨海新区人民法院"
    courtroom = "第三审判庭"
    case_type = CaseType.ADMINISTRATIVE
    case_summary = "某公司诉区政府政府信息公开答复案"
    starts_at = factory.LazyFunction(
        lambda: timezone.now().replace(microsecond=0) + datetime.timedelta(days=3)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    registration_deadline = factory.LazyAttribute(
        lambda o: o.starts_at - datetime.timedelta(days=2)
    )
    capacity = 30
    credit_minutes = 120
    open_registration = True
    late_after_minutes = 10
    reflection_due_days = 7

    @factory.post_generation
    def invited(self, create, extracted, **kwargs):
        """CourtObservationFactory(invited=[official, ...]) invites those officials."""
        if create and extracted:
            self.invited_officials.set(extracted)
            self.save()


def invite_departments(observation, *departments):
    observation.invited_departments.set(departments)
    observation.save()
    return observation
