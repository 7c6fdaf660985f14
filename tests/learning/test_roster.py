import io
import zipfile

from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.urls import reverse

import openpyxl
import pytest

from learning import roster
from learning.models import ImportJob, Official, User
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "工号", "部门", "职务", "职级", "是否领导", "手机号码", "电子邮箱"]


def workbook_bytes(rows, header=HEADER):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def as_file(data, name="roster.xlsx"):
    fileobj = io.BytesIO(data)
    fileobj.name = name
    return fileobj


def staff_numbers(result):
    return [staff_number for _name, staff_number, _password in result["sealed"]]


@pytest.fixture
def org():
    government = DepartmentFactory(name="滨海新区人民政府")
    office = DepartmentFactory(name="区政府办公室", parent=government)
    secretariat = DepartmentFactory(name="秘书科", parent=office)
    bureau = DepartmentFactory(name="区财政局", parent=government)
    # Two offices called 综合科: only a full path can say which.
    DepartmentFactory(name="综合科", parent=office)
    DepartmentFactory(name="综合科", parent=bureau)
    return {"office": office, "secretariat": secretariat, "bureau": bureau}


GOOD_ROWS = [
    ["张三", "BH1001", "秘书科", "科员", "一级科员", "否", "13800001001", "zhangsan@example.cn"],
    ["李四", "BH1002", "区财政局", "局长", "二级巡视员", "是", "13800001002", ""],
    ["王五", 1003, "滨海新区人民政府/区政府办公室/综合科", "科长", "", "", 13800001003, None],
]


def problems_of(data):
    with pytest.raises(roster.RosterError) as excinfo:
        roster.import_roster(data)
    return [(p.row, p.column, p.message) for p in excinfo.value.problems]


def test_good_file_creates_accounts_that_must_change_password(org):
    result = roster.import_roster(workbook_bytes(GOOD_ROWS))

    assert (result["created"], result["updated"]) == (3, 0)
    zhang = Official.objects.get(staff_number="BH1001")
    assert zhang.user.name == "张三"
    assert zhang.user.username == "BH1001"
    assert zhang.user.email == "zhangsan@example.cn"
    assert zhang.department == org["secretariat"]
    assert zhang.user.must_change_password
    assert zhang.user.groups.filter(name="Official").exists()
    li = Official.objects.get(staff_number="BH1002")
    assert li.is_leader and li.position == "局长" and li.department == org["bureau"]
    wang = Official.objects.get(staff_number="1003")
    assert wang.mobile == "13800001003"
    assert wang.department.get_parent() == org["office"]

    passwords = {number: password for _name, number, password in result["sealed"]}
    assert len(passwords["BH1001"]) == 12
    assert zhang.user.password.startswith("pbkdf2_sha256_initial$")
    assert authenticate(username="BH1001", password=passwords["BH1001"]) == zhang.user


def test_reimport_updates_and_never_duplicates(org):
    first = roster.import_roster(workbook_bytes(GOOD_ROWS))
    password_hash = User.objects.get(username="BH1001").password
    changed = [row[:] for row in GOOD_ROWS]
    changed[0][3] = "副科长"
    changed[0][2] = "区财政局"

    result = roster.import_roster(workbook_bytes(changed))

    assert first["created"] == 3
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 2)
    assert Official.objects.count() == 3
    zhang = Official.objects.get(staff_number="BH1001")
    assert (zhang.position, zhang.department) == ("副科长", org["bureau"])
    assert zhang.user.password == password_hash, "re-import must not reset passwords"


def test_english_headers_are_accepted(org):
    header = [
        "Name",
        "Staff number",
        "Department",
        "Position",
        "Rank",
        "Leader",
        "Mobile",
        "E-mail",
    ]
    result = roster.import_roster(workbook_bytes(GOOD_ROWS[:1], header=header))
    assert result["created"] == 1


def _zip_bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (150 * 1024 * 1024))
    return buffer.getvalue()


def _truncated():
    return workbook_bytes(GOOD_ROWS)[:700]


def _empty_workbook():
    return workbook_bytes([], header=None)


def _row(**changes):
    row = dict(zip(HEADER, GOOD_ROWS[0], strict=True))
    row.update(changes)
    return list(row.values())


DAMAGED = (
    "文件不是可读取的工作簿，可能已损坏。请在 Excel 或 WPS 中打开，"
    "选择“文件 › 另存为 › Excel 工作簿（*.xlsx）”，再上传另存的文件。"
)
BAD_FILES = {
    # Text is read as CSV whatever its name, so its missing column is what is wrong.
    "plain text renamed to xlsx": (
        lambda: "姓名,工号\n张三,1".encode(),
        [(None, "", "缺少必需的列：部门。第 1 行看起来是表头，其中有：姓名、工号。")],
    ),
    "empty file": (lambda: b"", [(None, "", "文件是空的。")]),
    "truncated workbook": (_truncated, [(None, "", DAMAGED)]),
    "zip bomb": (_zip_bomb, [(None, "", "工作簿解压后的大小异常，已拒绝。")]),
    "workbook without header": (_empty_workbook, [(None, "", "文件中没有数据。")]),
    "header only": (lambda: workbook_bytes([]), [(None, "", "文件中没有人员。")]),
    "missing staff number column": (
        lambda: workbook_bytes([["张三", "秘书科"]], header=["姓名", "部门"]),
        [(None, "", "缺少必需的列：工号。第 1 行看起来是表头，其中有：姓名、部门。")],
    ),
    "column twice": (
        lambda: workbook_bytes([GOOD_ROWS[0] + ["x"]], header=HEADER + ["姓名"]),
        [(1, "", "“姓名”列出现了不止一次，请只保留一列。")],
    ),
    "duplicate staff number": (
        lambda: workbook_bytes([GOOD_ROWS[0], _row(姓名="张三丰", 电子邮箱="")]),
        [(3, "工号", "工号 BH1001 已在第 2 行使用。")],
    ),
    "unknown department": (
        lambda: workbook_bytes([_row(部门="区外事办")]),
        [(2, "部门", "没有名为“区外事办”的部门。")],
    ),
    "ambiguous department": (
        lambda: workbook_bytes([_row(部门="综合科")]),
        [
            (
                2,
                "部门",
                "有不止一个部门名为“综合科”，请填写完整路径，"
                "如“滨海新区人民政府/区政府办公室/综合科”。",
            )
        ],
    ),
    "unknown department path": (
        lambda: workbook_bytes([_row(部门="滨海新区人民政府/区外事办")]),
        [(2, "部门", "没有路径为“滨海新区人民政府/区外事办”的部门。")],
    ),
    "bad mobile": (
        lambda: workbook_bytes([_row(手机号码="1380000")]),
        [(2, "手机号码", "请输入 11 位手机号码。")],
    ),
    "bad leader value": (
        lambda: workbook_bytes([_row(是否领导="也许")]),
        [(2, "是否领导", "请填写“是”或“否”。")],
    ),
    "missing name": (
        lambda: workbook_bytes([_row(姓名="")]),
        [(2, "姓名", "此项必填。")],
    ),
    "bad e-mail": (
        lambda: workbook_bytes([_row(电子邮箱="zhangsan@")]),
        [(2, "电子邮箱", "请输入有效的电子邮箱地址。")],
    ),
    "staff number with a sign": (
        lambda: workbook_bytes([_row(工号="BH#1001")]),
        [(2, "工号", "只能使用字母、数字、“-”和“_”。")],
    ),
    "name too long": (
        lambda: workbook_bytes([_row(姓名="张" * 65)]),
        [(2, "姓名", "超过 64 个字符。")],
    ),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_file_gives_precise_error_and_imports_nothing(org, kind):
    make, expected = BAD_FILES[kind]
    before = Official.objects.count(), User.objects.count()

    assert problems_of(make()) == expected
    assert (Official.objects.count(), User.objects.count()) == before


def test_one_bad_row_among_good_ones_imports_nothing(org):
    rows = [*GOOD_ROWS, _row(工号="BH1009", 部门="区外事办", 电子邮箱="")]
    assert problems_of(workbook_bytes(rows)) == [(5, "部门", "没有名为“区外事办”的部门。")]
    assert not Official.objects.exists()


def test_every_problem_in_the_file_is_reported(org):
    rows = [_row(手机号码="12", 是否领导="maybe"), _row(工号="BH2", 部门="无此部门", 电子邮箱="")]
    problems = problems_of(workbook_bytes(rows))
    assert [(row, column) for row, column, _ in problems] == [
        (2, "是否领导"),
        (2, "手机号码"),
        (3, "部门"),
    ]


def test_email_of_another_account_is_refused(org):
    UserFactory(username="someone", email="zhangsan@example.cn")
    assert problems_of(workbook_bytes([GOOD_ROWS[0]])) == [
        (2, "电子邮箱", "电子邮箱 zhangsan@example.cn 属于另一个账户。")
    ]


def test_username_taken_by_an_account_without_profile_is_refused(org):
    UserFactory(username="BH1001")
    assert problems_of(workbook_bytes([_row(电子邮箱="")])) == [
        (2, "工号", "用户名为 BH1001 的账户已存在。")
    ]


def test_file_over_the_size_limit_is_refused(org, settings):
    settings.XUEFA_MAX_IMPORT_BYTES = 1024 * 1024
    data = workbook_bytes(GOOD_ROWS) + b"\0" * (1024 * 1024)
    assert problems_of(data) == [(None, "", "文件超过 1 MB。")]


def test_template_has_the_columns_and_imports(org):
    workbook = openpyxl.load_workbook(io.BytesIO(roster.template_workbook()))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert list(rows[0]) == [
        "姓名", "工号", "部门", "科室", "职务", "职级", "是否领导干部", "手机号", "邮箱", "入职日期"
    ]  # fmt: skip
    result = roster.import_roster(roster.template_workbook())
    assert staff_numbers(result) == ["BH1001"]
    official = Official.objects.get(staff_number="BH1001")
    assert official.department == org["secretariat"]


# The admin screen ---------------------------------------------------------


@pytest.fixture
def hr_client(client, hr_user):
    client.force_login(hr_user)
    return client


def upload(client, data, name="roster.xlsx"):
    """Upload a file; returns the job page it leads to."""
    response = client.post(reverse("roster:upload"), {"file": as_file(data, name)})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("roster:job", args=[job.pk])
    return job, client.get(response["Location"])


def test_hr_previews_confirms_and_downloads_passwords_once(org, hr_client):
    job, page = upload(hr_client, workbook_bytes(GOOD_ROWS))

    html = page.content.decode()
    assert page.status_code == 200
    assert "BH1002" in html and "等待您确认" in html
    assert not Official.objects.filter(staff_number="BH1001").exists(), "nothing written yet"

    fingerprint = job.preview["fingerprint"]
    confirm = hr_client.post(reverse("roster:confirm", args=[job.pk]), {"fingerprint": fingerprint})
    assert confirm["Location"] == reverse("roster:job", args=[job.pk])
    assert Official.objects.filter(staff_number__in=["BH1001", "BH1002", "1003"]).count() == 3
    result = hr_client.get(confirm["Location"]).content.decode()
    assert "3 个新建" in result

    download = hr_client.post(reverse("roster:sealed", args=[job.pk]))
    assert download.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(download.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "工号", "用户名", "初始密码")
    assert {r[1] for r in rows[1:]} == {"BH1001", "BH1002", "1003"}
    assert authenticate(username=rows[1][2], password=rows[1][3]) is not None
    assert hr_client.post(reverse("roster:sealed", args=[job.pk])).status_code == 404


def test_a_second_confirm_imports_once(org, hr_client):
    job, _page = upload(hr_client, workbook_bytes(GOOD_ROWS))
    url = reverse("roster:confirm", args=[job.pk])
    hr_client.post(url, {"fingerprint": job.preview["fingerprint"]})
    hr_client.post(url, {"fingerprint": job.preview["fingerprint"]})
    assert Official.objects.filter(staff_number__in=["BH1001", "BH1002", "1003"]).count() == 3
    assert User.objects.filter(username="BH1001").count() == 1


def test_a_confirm_of_another_preview_imports_nothing(org, hr_client):
    job, _page = upload(hr_client, workbook_bytes(GOOD_ROWS))
    response = hr_client.post(reverse("roster:confirm", args=[job.pk]), {"fingerprint": "x"})
    assert response["Location"] == reverse("roster:job", args=[job.pk])
    assert not Official.objects.filter(staff_number="BH1001").exists()


def test_data_changed_since_the_preview_shows_a_new_preview(org, hr_client):
    job, _page = upload(hr_client, workbook_bytes(GOOD_ROWS))
    roster.import_roster(workbook_bytes(GOOD_ROWS[:1]))  # someone else imports meanwhile

    hr_client.post(
        reverse("roster:confirm", args=[job.pk]), {"fingerprint": job.preview["fingerprint"]}
    )

    job.refresh_from_db()
    assert job.phase == "preview" and job.status == "done"
    assert "预览之后数据发生了变化" in job.error
    assert Official.objects.filter(staff_number__in=["BH1001", "BH1002", "1003"]).count() == 1
    assert job.preview["counts"]["created"] == 2


def test_cancel_imports_nothing_and_forgets_the_file(org, hr_client):
    job, _page = upload(hr_client, workbook_bytes(GOOD_ROWS))
    response = hr_client.post(reverse("roster:cancel", args=[job.pk]))
    assert response["Location"] == reverse("roster:upload")
    job.refresh_from_db()
    assert (job.status, bytes(job.data)) == ("cancelled", b"")
    confirm = reverse("roster:confirm", args=[job.pk])
    hr_client.post(confirm, {"fingerprint": job.preview["fingerprint"]})
    assert not Official.objects.filter(staff_number="BH1001").exists()


def test_admin_shows_problems_by_row_and_column(org, hr_client):
    _job, page = upload(hr_client, workbook_bytes([_row(部门="区外事办")]))
    html = page.content.decode()
    assert "无法导入" in html
    assert "没有名为“区外事办”的部门。" in html
    assert 'id="import-confirm"' not in html
    assert not Official.objects.filter(staff_number="BH1001").exists()


def test_admin_upload_without_file_is_a_form_error(org, hr_client):
    response = hr_client.post(reverse("roster:upload"), {})
    assert response.status_code == 200
    assert "必需字段" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_template_download(hr_client):
    response = hr_client.get(reverse("roster:template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )


def test_another_hr_user_cannot_reach_someone_elses_upload(org, hr_client, client):
    job, _page = upload(hr_client, workbook_bytes(GOOD_ROWS))
    other = OfficialFactory(user=UserFactory(roles=["Official", "HR"])).user
    client.force_login(other)
    fingerprint = job.preview["fingerprint"]
    assert client.get(reverse("roster:job", args=[job.pk])).status_code == 404
    assert (
        client.post(
            reverse("roster:confirm", args=[job.pk]), {"fingerprint": fingerprint}
        ).status_code
        == 404
    )
    assert client.post(reverse("roster:sealed", args=[job.pk])).status_code == 404
    assert not Official.objects.filter(staff_number="BH1001").exists()


@pytest.mark.parametrize("name", ["roster:upload", "roster:template"])
def test_officials_and_organizers_cannot_import(client, organizer, name):
    client.force_login(OfficialFactory().user)
    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse(name), {"file": as_file(b"x")}).status_code == 403
    # Organizers work in the admin but may not import: Wagtail sends them back to
    # the dashboard with a message.
    client.force_login(organizer)
    response = client.post(reverse(name), {"file": as_file(workbook_bytes(GOOD_ROWS))})
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert not ImportJob.objects.exists()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("roster:upload"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert response.request["PATH_INFO"] == reverse("account_login")


# The management command ---------------------------------------------------


def test_command_imports_and_writes_credentials(org, tmp_path):
    source = tmp_path / "roster.xlsx"
    source.write_bytes(workbook_bytes(GOOD_ROWS))
    out = io.StringIO()
    credentials = tmp_path / "passwords.xlsx"

    call_command("import_roster", source, credentials=credentials, stdout=out)

    assert "3 created, 0 updated, 0 unchanged, 0 deactivated." in out.getvalue()
    assert len(list(openpyxl.load_workbook(credentials).active.iter_rows())) == 4


def test_command_reports_problems_and_fails(org, tmp_path):
    source = tmp_path / "roster.xlsx"
    source.write_bytes(workbook_bytes([_row(部门="区外事办")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported: 1 problem"):
        call_command("import_roster", source, stderr=err)
    assert "第 2 行" in err.getvalue()
    assert not Official.objects.exists()
