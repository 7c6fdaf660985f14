"""Malformed requests to the two endpoints exam day hammers: the exam answer autosave
and the study heartbeat. Whatever arrives (random JSON, wrong types, huge numbers,
missing fields, wrong content types, non-UTF-8 bytes, huge bodies), the answer is a
4xx, never a server error, and a refusal changes nothing stored."""

import json
import urllib.parse

from django.test import Client
from django.urls import reverse

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from exams import attempts as engine
from exams.models import Answer
from learning.models import StudyRecord
from tests.exams.factories import ExamSessionFactory, QuestionFactory, fixed_paper
from tests.learning.factories import lecture_index, make_lecture

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "application/json",
    "multipart/form-data; boundary=xuefa",
    "multipart/form-data",
    "text/plain",
    "application/octet-stream",
    "",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = st.one_of(
    st.text(max_size=60),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["1", "0", "-1", "１", "1e9", "NaN", "A", "AB", "ß", "\x00", " ", "beat"]),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


def form_body(fields):
    return urllib.parse.urlencode(fields, doseq=True).encode()


def multipart_body(fields):
    parts = [
        f'--xuefa\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields
    ]
    return ("".join(parts) + "--xuefa--\r\n").encode("utf-8", "surrogatepass")


content_types = st.sampled_from(CONTENT_TYPES)


def bodies(names):
    """(body bytes, content type) pairs, most of them malformed."""
    fields = st.lists(st.tuples(st.sampled_from([*names, "x", ""]), field_values), max_size=5)
    return st.one_of(
        st.tuples(fields.map(form_body), st.sampled_from(CONTENT_TYPES)),
        st.tuples(fields.map(multipart_body), st.sampled_from(CONTENT_TYPES)),
        st.tuples(
            json_values.map(lambda v: json.dumps(v).encode()), st.sampled_from(CONTENT_TYPES)
        ),
        st.tuples(st.binary(max_size=300), st.sampled_from(CONTENT_TYPES)),
        # Non-UTF-8 bytes where text is expected.
        st.tuples(
            st.binary(min_size=1, max_size=40).map(lambda b: b"position=1&response=" + b + b"\xff"),
            st.just("application/x-www-form-urlencoded"),
        ),
    )


def post(client, url, body, content_type):
    return client.generic("POST", url, body, content_type=content_type)


# Exam answer autosave -------------------------------------------------------------


@pytest.fixture
def attempt(official):
    session = ExamSessionFactory(paper=fixed_paper(QuestionFactory.create_batch(3)))
    attempt = engine.start_attempt(session, official)
    engine.save_answer(attempt.pk, official, 1, "A")
    return attempt


def answers_of(attempt):
    return list(Answer.objects.filter(attempt=attempt).values_list("position", "response"))


@FUZZ
@given(request=bodies(["position", "response"]))
def test_answer_save_never_fails_and_refusals_store_nothing(official, attempt, request):
    client = Client()
    client.force_login(official.user)
    url = reverse("exams:save", args=[attempt.session_id, attempt.pk])
    before = answers_of(attempt)
    response = post(client, url, *request)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert answers_of(attempt) == before
    else:
        data = response.json()
        assert dict(answers_of(attempt))[data["position"]] == data["response"]


@FUZZ
@given(
    session_pk=st.integers(min_value=0, max_value=10**30),
    attempt_pk=st.integers(min_value=0, max_value=10**30),
    position=st.integers(min_value=-(10**30), max_value=10**30),
)
def test_answer_save_with_huge_or_foreign_numbers_is_refused(
    official, attempt, session_pk, attempt_pk, position
):
    assume((session_pk, attempt_pk) != (attempt.session_id, attempt.pk) or position > 3)
    client = Client()
    client.force_login(official.user)
    before = answers_of(attempt)
    url = f"/exams/{session_pk}/attempts/{attempt_pk}/answer/"  # beyond what reverse() builds
    response = client.post(url, {"position": str(position), "response": "A"})
    assert response.status_code in (400, 404)
    assert answers_of(attempt) == before


# Study heartbeat ------------------------------------------------------------------


@pytest.fixture
def lecture(db):
    return make_lecture("保密法专题讲座", parent=lecture_index(), credit_minutes=10)


def records():
    return list(
        StudyRecord.objects.values_list(
            "official_id", "lecture_id", "credited_seconds", "last_heartbeat_at"
        )
    )


@FUZZ
@given(request=bodies(["event"]))
def test_heartbeat_never_fails_and_refusals_store_nothing(official, lecture, request):
    client = Client()
    client.force_login(official.user)
    before = records()
    response = post(client, reverse("learning:heartbeat", args=[lecture.pk]), *request)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert records() == before


@FUZZ
@given(lecture_id=st.integers(min_value=0, max_value=10**30))
def test_heartbeat_for_a_lecture_that_is_not_there_is_404(official, lecture, lecture_id):
    client = Client()
    client.force_login(official.user)
    response = client.post(f"/study/{lecture_id + lecture.pk + 1}/heartbeat/")
    assert response.status_code == 404
    assert records() == []


# Huge bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xuefa"]
)
def test_huge_form_bodies_are_refused(official, attempt, lecture, content_type, settings):
    client = Client()
    client.force_login(official.user)
    huge = b"position=1&response=" + b"A" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    if content_type.startswith("multipart"):
        huge = multipart_body([("position", "1"), ("response", "A" * 3_000_000)])
    before = (answers_of(attempt), records())
    save_url = reverse("exams:save", args=[attempt.session_id, attempt.pk])
    save = post(client, save_url, huge, content_type)
    beat = post(client, reverse("learning:heartbeat", args=[lecture.pk]), huge, content_type)
    assert 400 <= save.status_code < 500
    assert 400 <= beat.status_code < 500
    assert (answers_of(attempt), records()) == before


def test_huge_json_body_to_the_answer_save_is_refused(official, attempt):
    """Bodies that are not forms are never read: the save lacks its fields (400). (A
    heartbeat without fields is a plain beat, so there the body is simply ignored.)"""
    client = Client()
    client.force_login(official.user)
    huge = json.dumps({"position": 1, "response": "B" * 3_000_000}).encode()
    save_url = reverse("exams:save", args=[attempt.session_id, attempt.pk])
    assert post(client, save_url, huge, "application/json").status_code == 400
    assert dict(answers_of(attempt))[1] == "A"


def test_too_many_fields_are_refused(official, attempt):
    client = Client()
    client.force_login(official.user)
    body = b"&".join(b"f%d=1" % i for i in range(20_000)) + b"&position=1&response=B"
    url = reverse("exams:save", args=[attempt.session_id, attempt.pk])
    response = post(client, url, body, "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert dict(answers_of(attempt))[1] == "A"
