"""Back office: organizers manage the bank, papers and sessions; HR only looks;
officials are kept out. Import screen, statistics, close, and results listing."""

from datetime import timedelta
from io import BytesIO

from django.urls import reverse

import pytest
from openpyxl import Workbook, load_workbook

from exams import attempts as engine
from exams.models import ExamSession, Paper, Question
from tests.factories import OfficialFactory

from .factories import LawTopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def hr_client(client, hr_user):
    client.force_login(hr_user)
    return client


LISTS = [
    "wagtailsnippets_exams_question:list",
    "wagtailsnippets_exams_paper:list",
    "wagtailsnippets_exams_examsession:list",
    "exams_attempts:index",
]


def test_organizer_and_hr_see_the_lists(organizer_client, hr_user, client, exam):
    for name in LISTS:
        assert organizer_client.get(reverse(name)).status_code == 200, name
    client.force_login(hr_user)
    for name in LISTS:
        assert client.get(reverse(name)).status_code == 200, name


def test_hr_cannot_edit(hr_client, exam, bank):
    question = bank[0]
    edit = reverse("wagtailsnippets_exams_question:edit", args=[question.pk])
    home = (302, reverse("wagtailadmin_home"))  # Wagtail's permission_denied
    response = hr_client.get(edit)
    assert (response.status_code, response.url) == home
    add = reverse("wagtailsnippets_exams_examsession:add")
    response = hr_client.get(add)
    assert (response.status_code, response.url) == home
    response = hr_client.get(reverse("question_import:upload"))
    assert (response.status_code, response["Location"]) == home
    response = hr_client.post(reverse("exams_admin:close", args=[exam.pk]))
    assert (response.status_code, response.url) == home
    assert not exam.__class__.objects.get(pk=exam.pk).is_closed()


def test_official_is_kept_out(official_client, exam):
    assert official_client.get(reverse(LISTS[0])).status_code == 403
    response = official_client.get(reverse("exams_admin:statistics", args=[exam.pk]))
    assert response.status_code == 403


def test_organizer_edits_a_question(organizer_client, bank):
    question = bank[0]
    url = reverse("wagtailsnippets_exams_question:edit", args=[question.pk])
    page = organizer_client.get(url)
    assert page.status_code == 200
    data = {
        "key": question.key,
        "type": "single",
        "topic": question.topic_id,
        "stem": "新题干",
        "option_a": "甲",
        "option_b": "乙",
        "option_c": "",
        "option_d": "",
        "option_e": "",
        "option_f": "",
        "answer": "AB",
        "explanation": "",
        "legal_basis": "",
        "difficulty": 2,
        "active": "on",
    }
    response = organizer_client.post(url, data)
    assert response.status_code == 200  # re-rendered with the error
    assert "单选题只能有一个正确选项" in response.content.decode()
    data["answer"] = "b"
    response = organizer_client.post(url, data)
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.stem == "新题干" and question.answer == "B"


def test_paper_rules_the_bank_cannot_fill_are_refused(organizer_client, bank):
    topic = bank[0].topic
    url = reverse("wagtailsnippets_exams_paper:add")
    data = {
        "title": "随机卷",
        "mode": "random",
        "description": "",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
        "rules-TOTAL_FORMS": 1,
        "rules-INITIAL_FORMS": 0,
        "rules-MIN_NUM_FORMS": 0,
        "rules-MAX_NUM_FORMS": 1000,
        "rules-0-topic": topic.pk,
        "rules-0-type": "single",
        "rules-0-count": 50,
        "rules-0-points": "2",
        "rules-0-ORDER": 1,
        "rules-0-id": "",
        "rules-0-DELETE": "",
    }
    response = organizer_client.post(url, data)
    assert response.status_code == 200
    assert "题库中启用的只有 6 道" in response.content.decode()
    assert not Paper.objects.exists()
    data["rules-0-count"] = 6
    response = organizer_client.post(url, data)
    assert response.status_code == 302
    assert Paper.objects.get().rules.count() == 1


def test_import_screen(organizer_client):
    LawTopicFactory(name="宪法")
    page = organizer_client.get(reverse("question_import:upload"))
    assert page.status_code == 200
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["题型", "法律主题", "题目", "选项A", "选项B", "答案"])
    sheet.append(["单选", "宪法", "一切权力属于谁？", "人民", "政府", "A"])
    sheet.append(["单选", "宪法", "坏题", "人民", "政府", "C"])

    def upload():
        buffer = BytesIO()
        workbook.save(buffer)
        buffer.seek(0)
        buffer.name = "bank.xlsx"
        return organizer_client.post(
            reverse("question_import:upload"), {"file": buffer}, follow=True
        )

    response = upload()
    assert response.status_code == 200
    assert "选项 C 不存在" in response.content.decode()
    assert not Question.objects.exists()
    sheet.delete_rows(3)
    response = upload()
    job = response.context["job"]
    confirm = reverse("question_import:confirm", args=[job.pk])
    response = organizer_client.post(confirm, {"fingerprint": job.preview["fingerprint"]})
    assert response.status_code == 302
    assert Question.objects.count() == 1
    template = organizer_client.get(reverse("exams_admin:question_template"))
    assert load_workbook(BytesIO(template.content)).active["B1"].value == "题型"
    export = organizer_client.get(reverse("exams_admin:question_export"))
    assert load_workbook(BytesIO(export.content)).active["D2"].value == "一切权力属于谁？"


def test_statistics_page_export_and_close(organizer_client, exam):
    for _ in range(3):
        official = OfficialFactory()
        engine.submit_attempt(engine.start_attempt(exam, official))
    in_progress = engine.start_attempt(exam, OfficialFactory())
    url = reverse("exams_admin:statistics", args=[exam.pk])
    page = organizer_client.get(url)
    assert page.status_code == 200
    assert "3" in page.content.decode()
    export = organizer_client.get(reverse("exams_admin:statistics_export", args=[exam.pk]))
    workbook = load_workbook(BytesIO(export.content))
    assert workbook.worksheets[0].max_row == 4
    response = organizer_client.post(reverse("exams_admin:close", args=[exam.pk]))
    assert response.status_code == 302
    exam = ExamSession.objects.get(pk=exam.pk)
    assert exam.is_closed()
    in_progress.refresh_from_db()
    assert in_progress.deadline <= exam.closes_at
    later = exam.closes_at + timedelta(seconds=31)
    assert engine.expire_if_due(in_progress, now=later)
    in_progress.refresh_from_db()
    assert in_progress.state == "auto_submitted"


def test_results_listing_exports(organizer_client, exam):
    engine.submit_attempt(engine.start_attempt(exam, OfficialFactory()))
    response = organizer_client.get(reverse("exams_attempts:index") + "?export=xlsx")
    assert response.status_code == 200
    inspect = reverse("exams_attempts:inspect", args=[exam.attempts.get().pk])
    assert organizer_client.get(inspect).status_code == 200


def test_organizer_creates_a_session(organizer_client, exam):
    from django.utils import timezone

    now = timezone.localtime()
    data = {
        "kind": "annual",
        "year": 2026,
        "title": "新的年度考试",
        "paper": exam.paper_id,
        "leader_paper": "",
        "makes_up": "",
        "opens_at": now.strftime("%Y-%m-%d %H:%M"),
        "closes_at": (now.replace(year=now.year + 1)).strftime("%Y-%m-%d %H:%M"),
        "duration_minutes": 90,
        "attempts_allowed": 3,
        "grading": "best",
        "pass_mark": 60,
        "good_mark": 80,
        "excellent_mark": 90,
        "shuffle_questions": "on",
        "review_policy": "after_close",
        "anonymous_marking": "on",
        "marking_margin": "2",
        "gate_hours": "0",
        "leave_limit": "0",
        "device_rule": "any",
        "for_everyone": "on",
        "candidates-TOTAL_FORMS": 0,
        "candidates-INITIAL_FORMS": 0,
        "candidates-MIN_NUM_FORMS": 0,
        "candidates-MAX_NUM_FORMS": 1000,
        "overrides-TOTAL_FORMS": 0,
        "overrides-INITIAL_FORMS": 0,
        "overrides-MIN_NUM_FORMS": 0,
        "overrides-MAX_NUM_FORMS": 1000,
    }
    response = organizer_client.post(reverse("wagtailsnippets_exams_examsession:add"), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert ExamSession.objects.filter(title="新的年度考试").exists()
    data["title"] = "坏的补考"
    data["kind"] = "makeup"
    response = organizer_client.post(reverse("wagtailsnippets_exams_examsession:add"), data)
    assert response.status_code == 200
    assert "补考须指明对应的考试" in response.content.decode()
