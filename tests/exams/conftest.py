from django.test import Client

import pytest

from .factories import ExamSessionFactory, QuestionFactory, fixed_paper
from .observation_factories import CourtObservationFactory


@pytest.fixture
def bank(db):
    """Ten questions: 6 single, 2 multiple, 2 true-false, one topic."""
    first = QuestionFactory()
    topic = first.topic
    return (
        [first]
        + QuestionFactory.create_batch(5, topic=topic)
        + QuestionFactory.create_batch(2, topic=topic, multiple=True)
        + QuestionFactory.create_batch(2, topic=topic, true_false=True)
    )


@pytest.fixture
def exam(bank):
    """An open annual exam for everyone over a fixed paper of the bank, 10 points each."""
    return ExamSessionFactory(paper=fixed_paper(bank))


@pytest.fixture
def observation(db):
    return CourtObservationFactory()


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def hr_client(hr_user):
    """A client of its own, so a test can use it beside organizer_client."""
    hr = Client()
    hr.force_login(hr_user)
    return hr
