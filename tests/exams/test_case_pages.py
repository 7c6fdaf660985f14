"""Court observations turned into cases (以案释法, exams.observations.cases): the
organizer's flow makes exactly one case page, quiz and set of tagged questions; only
consenting reflections are featured; officials who missed the hearing make it up (补学)
only by completing the case's study time from heartbeats and passing its quiz."""

import datetime

from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

import pytest

from exams.models import LectureQuiz, QuizAttempt
from exams.observations import cases, services
from exams.observations.credit import ObservationRequirements, item_key
from exams.observations.models import (
    Attendance,
    CasePage,
    CaseQuestion,
    CaseReflection,
    PlanObservation,
    Status,
)
from learning import credits
from learning.models import StudyRecord
from tests.factories import OfficialFactory
from tests.learning.factories import lecture_index, make_plan

from .factories import QuestionFactory
from .observation_factories import CourtObservationFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def _interval(settings):
    settings.XUEFA_HEARTBEAT_SECONDS = 30
    settings.XUEFA_HEARTBEAT_MARGIN_SECONDS = 5


@pytest.fixture
def world(organizer):
    """A hearing three days ago: one official attended and agreed to be quoted, one
    attended and did not, one missed it (absent), one excused; plus an outsider."""
    lecture_index()
    people = {name: OfficialFactory() for name in ("quoted", "private", "absent", "excused")}
    people["outsider"] = OfficialFactory()
    starts = NOW - datetime.timedelta(days=3)
    observation = CourtObservationFactory(
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        registration_deadline=starts - datetime.timedelta(days=1),
        invited=[people[n] for n in ("quoted", "private", "absent", "excused")],
    )
    rows = {a.official_id: a for a in observation.attendance.all()}
    for name, status in (("quoted", Status.PRESENT), ("private", Status.PRESENT)):
        services.mark(rows[people[name].pk], status, by=organizer)
    services.mark(rows[people["absent"].pk], Status.ABSENT, by=organizer)
    services.mark(rows[people["excused"].pk], Status.EXCUSED, by=organizer)
    later = starts + datetime.timedelta(days=1)
    quoted = services.submit_reflection(
        Attendance.objects.get(pk=rows[people["quoted"].pk].pk),
        "检索要留痕。",
        now=later,
        consent=True,
    )
    private = services.submit_reflection(
        Attendance.objects.get(pk=rows[people["private"].pk].pk), "不公开的感想。", now=later
    )
    questions = QuestionFactory.create_batch(3)
    return {
        "observation": observation,
        "people": people,
        "quoted": quoted,
        "private": private,
        "questions": questions,
    }


def case_url(observation):
    return reverse("observation_tools:case", args=[observation.pk])


def form_data(world, reflections=(), questions=None, **extra):
    data = {
        "title": "以案释法：政府信息公开答复案",
        "date": "2026-03-01",
        "occasion": "滨海新区人民法院",
        "summary": "某公司诉区政府",
        "facts": "原告申请公开信息。\n区政府答复信息不存在。",
        "legal_issues": "是否尽到检索义务。",
        "articles": "《行政诉讼法》第三十四条\n被告对作出的行政行为负有举证责任。",
        "trial_video_url": "https://tingshen.court.gov.cn/live/1",
        "credit_minutes": "1",
        "pass_mark": "60",
        "publish": "on",
        "reflections": [r.pk for r in reflections],
        "questions": [q.pk for q in (questions or world["questions"][:2])],
    }
    for reflection in reflections:
        data[f"excerpt_{reflection.pk}"] = "检索要留痕"
    data.update(extra)
    return data


def make_case(organizer, world, **kwargs):
    """The case made through the organizer's form (a client of its own)."""
    client = Client()
    client.force_login(organizer)
    response = client.post(case_url(world["observation"]), form_data(world, **kwargs))
    assert response.status_code == 302, response.content.decode()[:2000]
    return CasePage.objects.get(observation=world["observation"])


# --- The organizer's flow -------------------------------------------------------------


def test_the_form_is_prefilled_from_the_observation(organizer_client, world):
    response = organizer_client.get(case_url(world["observation"]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["title"].value() == world["observation"].case_summary
    assert form["credit_minutes"].value() == world["observation"].credit_minutes
    # Only the consenting reflection is offered.
    assert [r.pk for r in form.fields["reflections"].queryset] == [world["quoted"].pk]


def test_the_flow_makes_exactly_one_case_quiz_and_tags(organizer_client, organizer, world):
    case = make_case(organizer, world, reflections=[world["quoted"]])
    assert case.live and case.get_parent().specific_class.__name__ == "LectureIndexPage"
    quiz = LectureQuiz.objects.get(lecture_id=case.pk)
    assert quiz.required_for_completion
    chosen = {q.pk for q in world["questions"][:2]}
    assert {i.question_id for i in quiz.items.all()} == chosen
    assert set(CaseQuestion.objects.values_list("question_id", flat=True)) == chosen
    # A second click, even a second POST, opens the case and makes nothing new.
    again = organizer_client.post(case_url(world["observation"]), form_data(world))
    assert again.status_code == 200 and f'data-case="{case.pk}"' in again.content.decode()
    assert CasePage.objects.count() == 1 and LectureQuiz.objects.count() == 1
    assert CaseQuestion.objects.count() == 2
    assert reverse("content_page_card", args=[case.pk]) in again.content.decode()


def test_the_case_sections_show_on_the_lecture_page(organizer, official_client, world):
    case = make_case(organizer, world, reflections=[world["quoted"]])
    page = official_client.get(case.url).content.decode()
    for text in ("区政府答复信息不存在。", "是否尽到检索义务。", "第三十四条", "检索要留痕"):
        assert text in page
    assert 'href="https://tingshen.court.gov.cn/live/1"' in page
    assert world["quoted"].attendance.official.user.get_full_name() in page


def test_a_non_consenting_reflection_cannot_be_featured(organizer_client, world):
    response = organizer_client.post(
        case_url(world["observation"]), form_data(world, reflections=[world["private"]])
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reflections"]
    assert not CasePage.objects.exists() and not LectureQuiz.objects.exists()


def test_the_page_editor_refuses_a_non_consenting_reflection_too(world):
    featured = CaseReflection(reflection=world["private"], excerpt="x")
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            featured.clean()
        assert refused.value.message_dict == {
            "reflection": ["Its author has not agreed to be quoted."]
        }


def test_a_quiz_asks_two_to_five_questions(organizer_client, world):
    response = organizer_client.post(
        case_url(world["observation"]), form_data(world, questions=world["questions"][:1])
    )
    assert response.status_code == 200 and response.context["form"].errors["questions"]
    assert not CasePage.objects.exists()


def test_a_hearing_not_yet_over_is_not_a_case_yet(organizer_client):
    observation = CourtObservationFactory()
    response = organizer_client.get(case_url(observation))
    assert response.status_code == 302
    assert response["Location"] == reverse("observation_tools:sheet", args=[observation.pk])


def test_officials_and_hr_are_refused(client, official, hr_user, world):
    url = case_url(world["observation"])
    assert "/login/" in client.get(url)["Location"]
    client.force_login(official.user)
    assert client.get(url).status_code == 403
    assert client.post(url, form_data(world)).status_code == 403
    client.force_login(hr_user)
    for response in (client.get(url), client.post(url, form_data(world))):
        assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    assert not CasePage.objects.exists()


def test_create_case_twice_makes_one(world, organizer):
    draft = cases.CaseDraft(title="案", date=NOW.date(), questions=world["questions"][:2])
    first, created = cases.create_case(world["observation"], draft, user=organizer)
    second, again = cases.create_case(world["observation"], draft, user=organizer)
    assert created and not again and first.pk == second.pk
    assert CasePage.objects.count() == 1 and not first.live


# --- Make-up (补学) -------------------------------------------------------------------


@pytest.fixture
def case(organizer, world):
    return make_case(organizer, world)


def study(official, case, start, seconds):
    """Heartbeats every 30 s from `start` for `seconds` (real measured credit)."""
    credits.credit_heartbeat(official.user, case, credits.START, now=start)
    for elapsed in range(30, seconds + 1, 30):
        credits.credit_heartbeat(
            official.user, case, now=start + datetime.timedelta(seconds=elapsed)
        )


def pass_quiz(client, official, case, right=True):
    client.force_login(official.user)
    quiz = LectureQuiz.objects.get(lecture_id=case.pk)
    data = {f"q{item.question_id}": ["A" if right else "B"] for item in quiz.items.all()}
    return client.post(reverse("exams:quiz", args=[case.pk]), data)


def made_up(official, observation):
    return Attendance.objects.get(official=official, observation=observation).made_up_at


def test_study_time_alone_is_no_make_up(client, world, case):
    absent = world["people"]["absent"]
    study(absent, case, NOW - datetime.timedelta(minutes=10), 90)
    assert StudyRecord.objects.get(official=absent).completed_at is not None
    assert cases.record_make_up(absent, case) is None
    client.force_login(absent.user)
    client.get(reverse("observations:index"))
    assert made_up(absent, world["observation"]) is None


def test_the_quiz_alone_is_no_make_up(client, world, case):
    absent = world["people"]["absent"]
    pass_quiz(client, absent, case)
    assert QuizAttempt.objects.get(official=absent).passed
    assert made_up(absent, world["observation"]) is None


def test_study_then_quiz_records_the_make_up_at_the_pass(client, world, case):
    absent = world["people"]["absent"]
    study(absent, case, NOW - datetime.timedelta(minutes=10), 60)
    pass_quiz(client, absent, case, right=False)
    assert made_up(absent, world["observation"]) is None
    pass_quiz(client, absent, case)
    attendance = Attendance.objects.get(official=absent, observation=world["observation"])
    assert attendance.made_up_at is not None and attendance.made_up_case_id == case.pk
    assert attendance.status == Status.ABSENT  # the hearing itself stays missed


def test_quiz_then_study_records_it_on_the_next_visit(client, world, case):
    excused = world["people"]["excused"]
    pass_quiz(client, excused, case)
    study(excused, case, NOW - datetime.timedelta(minutes=10), 60)
    assert made_up(excused, world["observation"]) is None  # no signal from a heartbeat
    page = client.get(reverse("observations:detail", args=[world["observation"].pk]))
    assert made_up(excused, world["observation"]) is not None
    assert "data-made-up" in page.content.decode()


def test_who_attended_or_was_never_invited_cannot_make_up(client, world, case):
    for name in ("quoted", "outsider"):
        official = world["people"][name]
        study(official, case, NOW - datetime.timedelta(minutes=10), 60)
        pass_quiz(client, official, case)
        assert cases.record_make_up(official, case) is None
    assert not Attendance.objects.filter(made_up_at__isnull=False).exists()
    assert not Attendance.objects.filter(official=world["people"]["outsider"]).exists()


def test_recording_twice_keeps_the_first(client, world, case):
    absent = world["people"]["absent"]
    study(absent, case, NOW - datetime.timedelta(minutes=10), 60)
    pass_quiz(client, absent, case)
    first = made_up(absent, world["observation"])
    later = timezone.now() + datetime.timedelta(hours=1)
    assert cases.record_make_up(absent, case, now=later).made_up_at == first
    pass_quiz(client, absent, case)
    assert made_up(absent, world["observation"]) == first


def test_a_script_posting_faster_than_real_time_earns_no_make_up(client, world, case):
    absent = world["people"]["absent"]
    start = NOW - datetime.timedelta(minutes=10)
    credits.credit_heartbeat(absent.user, case, credits.START, now=start)
    for n in range(20):  # twenty beats within five seconds of wall time
        credits.credit_heartbeat(
            absent.user, case, now=start + datetime.timedelta(seconds=n / 4 + 0.25)
        )
    record = StudyRecord.objects.get(official=absent)
    assert record.credited_seconds <= 5 and record.completed_at is None
    pass_quiz(client, absent, case)
    assert made_up(absent, world["observation"]) is None


def test_a_make_up_meets_the_plan_but_adds_no_observation_credit(client, world, case):
    absent = world["people"]["absent"]
    year = world["observation"].starts_at.year
    plan = make_plan(year=year)
    PlanObservation.objects.create(plan=plan, observation=world["observation"])
    provider = ObservationRequirements()
    items = provider.required_items([plan])[plan.pk]
    study(absent, case, NOW - datetime.timedelta(minutes=10), 60)
    pass_quiz(client, absent, case)
    done = provider.done_keys([absent.pk], year, items)
    assert item_key(world["observation"].pk) in done[absent.pk]
    assert provider.credit_seconds([absent.pk], year).get(absent.pk, 0) == 0
    # The credit is the lecture's, measured: never more than the wall time studied.
    assert StudyRecord.objects.get(official=absent).credited_seconds <= 60


def test_studying_last_records_the_make_up_at_once(
    client, world, case, django_capture_on_commit_callbacks
):
    """The quiz passed first, the study time completed by the last heartbeat: the
    completion itself records the make-up (learning.credits.lecture_completed)."""
    absent = world["people"]["absent"]
    pass_quiz(client, absent, case)
    assert made_up(absent, world["observation"]) is None
    with django_capture_on_commit_callbacks(execute=True):
        study(absent, case, NOW - datetime.timedelta(minutes=10), 60)
    assert StudyRecord.objects.get(official=absent).completed_at is not None
    assert made_up(absent, world["observation"]) is not None


def test_the_attendance_sheet_shows_the_make_up_apart(organizer, client, world, case):
    absent = world["people"]["absent"]
    study(absent, case, NOW - datetime.timedelta(minutes=10), 60)
    pass_quiz(client, absent, case)
    client.force_login(organizer)
    sheet = client.get(reverse("observation_tools:sheet", args=[world["observation"].pk]))
    html = sheet.content.decode()
    assert html.count("data-made-up") == 1
    counts = [(str(label), n) for label, n in sheet.context["counts"]]
    # Counted apart: the absent official stays absent, the attended stay two.
    assert counts[-1][1] == 1
    assert (str(Status.PRESENT.label), 2) in counts and (str(Status.ABSENT.label), 1) in counts


def test_the_missed_official_is_pointed_to_the_case(client, world, case):
    absent = world["people"]["absent"]
    client.force_login(absent.user)
    index = client.get(reverse("observations:index")).content.decode()
    assert f'href="{case.url}" data-make-up' in index
    detail = client.get(reverse("observations:detail", args=[world["observation"].pk]))
    assert detail.context["make_up_case"].pk == case.pk
    client.force_login(world["people"]["quoted"].user)
    assert "data-make-up" not in client.get(reverse("observations:index")).content.decode()


@pytest.mark.fast_paths
def test_the_dashboard_shows_the_make_up_at_once(client, world, case):
    absent = world["people"]["absent"]
    client.force_login(absent.user)
    assert "data-make-ups" in client.get("/").content.decode()
    study(absent, case, NOW - datetime.timedelta(minutes=10), 60)
    pass_quiz(client, absent, case)
    assert made_up(absent, world["observation"]) is not None
    assert "data-make-ups" not in client.get("/").content.decode()


@pytest.mark.fast_paths
def test_publishing_a_case_shows_on_the_dashboard_at_once(client, world, organizer):
    absent = world["people"]["absent"]
    client.force_login(absent.user)
    assert "data-make-ups" not in client.get("/").content.decode()
    draft = cases.CaseDraft(title="案", date=NOW.date(), questions=world["questions"][:2])
    case, _created = cases.create_case(world["observation"], draft, user=organizer)
    case.save_revision(user=organizer).publish()
    assert "data-make-ups" in client.get("/").content.decode()


def test_a_reflection_author_gives_consent_on_their_reflection_page(client, world):
    private = world["private"]
    client.force_login(private.attendance.official.user)
    url = reverse("observations:reflection", args=[world["observation"].pk])
    client.post(url, {"text": "可以引用。", "feature_consent": "on"})
    private.refresh_from_db()
    assert private.feature_consent
    client.post(url, {"text": "还是不要引用。"})
    private.refresh_from_db()
    assert not private.feature_consent


# --- Demo -----------------------------------------------------------------------------


def test_the_demo_hearing_is_a_case_the_leader_can_make_up(capsys):
    from django.core.management import call_command

    from exams.observations.demo import PAST_TITLE, load_case

    call_command("load_demo_data")
    case = CasePage.objects.get(observation__title=PAST_TITLE)
    assert case.live and case.featured_reflections.count() == 2
    assert all(f.reflection.feature_consent for f in case.featured_reflections.all())
    assert CaseQuestion.objects.filter(case=case).count() == 3
    assert LectureQuiz.objects.get(lecture_id=case.pk).items.count() == 3
    leader = Attendance.objects.get(observation=case.observation, official__user__username="leader")
    assert leader.status in cases.MISSED_STATUSES and leader.made_up_at is None
    assert [c.pk for _a, c in cases.make_up_candidates(leader.official)] == [case.pk]
    assert load_case() == 0 and CasePage.objects.count() == 1


def test_the_case_opens_in_the_page_editor(organizer_client, organizer, world):
    case = make_case(organizer, world, reflections=[world["quoted"]])
    response = organizer_client.get(reverse("wagtailadmin_pages:edit", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "featured_reflections-TOTAL_FORMS" in html and 'name="facts"' in html
    assert f'data-page-card="{case.pk}"' in html


def test_the_observations_pages_of_a_missed_official_take_a_bounded_number_of_queries(
    client, world, case, django_assert_max_num_queries
):
    """The list and the detail read the open make-ups with a few queries, whatever
    else the official attended."""
    absent = world["people"]["absent"]
    client.force_login(absent.user)
    client.get(reverse("observations:index"))  # the session is read anew once
    with django_assert_max_num_queries(16):
        assert client.get(reverse("observations:index")).status_code == 200
    with django_assert_max_num_queries(16):
        detail = reverse("observations:detail", args=[world["observation"].pk])
        assert client.get(detail).status_code == 200


def _case_form_queries(client, observation, data=None):
    with CaptureQueriesContext(connection) as queries:
        if data is None:
            assert client.get(case_url(observation)).status_code == 200
        else:
            # Invalid on purpose (no title): the form comes back with every field.
            assert client.post(case_url(observation), data).status_code == 200
    return len(queries)


def test_the_case_form_costs_the_same_queries_as_reflections_and_the_bank_grow(
    organizer_client, world
):
    """More consenting reflections (each with its excerpt field and author's name) and a
    larger question bank: the form, shown and sent back with an error, asks the database
    as often as before."""
    observation = world["observation"]
    invalid = form_data(world, reflections=[world["quoted"]], title="")
    organizer_client.get(case_url(observation))  # warm the client's session
    before = [
        _case_form_queries(organizer_client, observation),
        _case_form_queries(organizer_client, observation, invalid),
    ]
    later = NOW - datetime.timedelta(days=1)
    for n in range(6):
        attendance = Attendance.objects.create(
            observation=observation, official=OfficialFactory(), status=Status.PRESENT
        )
        services.submit_reflection(attendance, f"第{n}篇感想。", now=later, consent=True)
    QuestionFactory.create_batch(12)
    assert len(organizer_client.get(case_url(observation)).context["form"].excerpt_fields()) == 7
    assert [
        _case_form_queries(organizer_client, observation),
        _case_form_queries(organizer_client, observation, invalid),
    ] == before
