"""HR imports a roster and an organizer a question bank as they would in the admin:
upload the office's own file, read the preview, confirm, and find the result."""

import io

import openpyxl
import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def xlsx(rows, title=None):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(page, data, name):
    page.set_input_files(
        "input[type=file]",
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}],
    )
    page.get_by_role("button", name="上传并预览").click()


def test_hr_previews_a_roster_deactivates_a_leaver_and_confirms(page, live_server, demo_data):
    from learning.models import Official

    secretary = Official.objects.select_related("user").get(staff_number="BH0001")
    leaver = (
        Official.objects.filter(department=secretary.department, user__is_active=True)
        .exclude(pk=secretary.pk)
        .select_related("user")
        .first()
    )
    roster = xlsx(
        [
            ["序号", "姓名", "工号", "部门", "科室", "职务"],
            [1, secretary.user.name, "BH0001", "区政府办公室", "秘书科", "副科长"],
            [2, "新 同事", "BH9001", "区政府办公室", "秘书科", "科员"],
        ],
        title="2026年区政府办公室人员花名册",
    )
    sign_in(page, live_server, "hr")
    page.goto(f"{live_server.url}/admin/roster/")
    upload(page, roster, "花名册.xlsx")

    page.locator("#import-updated").get_by_text("副科长").wait_for()
    assert page.locator("#import-created").get_by_text("新同事 (BH9001)").is_visible()
    assert "序号" in page.locator("#import-warnings").inner_text()
    assert not Official.objects.filter(staff_number="BH9001").exists()

    page.get_by_label(f"{leaver.user.name} ({leaver.staff_number})").check()
    page.locator("#import-confirm button[type=submit]").click()

    page.get_by_text("已导入。").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载初始密码（.xlsx）").click()
    passwords = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert [row[1] for row in passwords.iter_rows(min_row=2, values_only=True)] == ["BH9001"]
    assert Official.objects.get(staff_number="BH0001").position == "副科长"
    leaver.user.refresh_from_db()
    assert not leaver.user.is_active


def test_organizer_imports_a_bank_without_keys_once(page, live_server, demo_data):
    from exams.models import Question
    from learning.models import LawTopic

    topic = LawTopic.objects.order_by("pk").first().name
    bank = xlsx(
        [
            ["题型", "法律专题", "题干", "选项A", "选项B", "选项C", "答案"],
            ["单选", topic, "浏览器测试：行政复议的申请期限是？", "三十日", "六十日", "九十日",
             "B"],
            ["多选", topic, "浏览器测试：下列属于行政处罚的有？", "警告", "罚款", "记过",
             "A、B"],
        ],
        title="2026年学法考试题库",
    )  # fmt: skip
    before = Question.objects.count()
    sign_in(page, live_server, "organizer")
    page.goto(f"{live_server.url}/admin/question_import/")
    upload(page, bank, "题库.xlsx")

    page.locator("#import-created").get_by_text("浏览器测试：行政复议").wait_for()
    page.locator("#import-confirm button[type=submit]").click()
    page.get_by_text("已导入。").wait_for()
    assert Question.objects.count() == before + 2
    assert Question.objects.get(stem__startswith="浏览器测试：下列").answer == "AB"

    # The same file again: nothing new, nothing doubled.
    page.goto(f"{live_server.url}/admin/question_import/")
    upload(page, bank, "题库.xlsx")
    page.locator("#import-confirm").wait_for()
    assert page.locator("#import-created").count() == 0
    page.locator("#import-confirm button[type=submit]").click()
    page.get_by_text("已导入。").wait_for()
    assert Question.objects.count() == before + 2
