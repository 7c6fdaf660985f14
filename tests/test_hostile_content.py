"""Text that organizers, HR or the roster set reaches every output as text, never as
markup, formulas, links, images or template code: names, departments, positions,
lecture, series, plan, session, exam and observation titles, question texts and
publicity cards, each holding a hostile payload, through every PDF, xlsx, HTML page,
JSON document and e-mail the project writes.

Each output is one entry of OUTPUTS: a function that renders it from a world whose
text fields all hold the payload, and says what kind of output it is. A new output
joins OUTPUTS; a new background export kind must be covered by one of them."""

import contextlib
import dataclasses
import datetime
import json
import re
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

import pytest
import reportlab.lib.utils
from openpyxl import load_workbook
from pypdf import PdfReader

from content import screens
from content.models import PublicityItem
from exams import attempts as engine
from exams.models import ExportJob, ExportStatus, PlanExam, SessionCandidate, SessionKind
from exams.observations.admin_views import attendees_xlsx
from exams.observations.models import Attendance, PlanObservation, Status
from exams.question_io import export_xlsx, template_xlsx
from exams.reports import behind, exports, reminders
from exams.statistics import statistics_xlsx
from learning import roster
from learning.models import ReportScope, Speaker, User
from tests.content.factories import (
    PlaylistEntryFactory,
    PlaylistFactory,
    PublicityItemFactory,
    ScreenFactory,
    ScreenPlaylistFactory,
)
from tests.exams.factories import (
    ExamSessionFactory,
    LawTopicFactory,
    QuestionFactory,
    fixed_paper,
)
from tests.exams.observation_factories import CourtObservationFactory
from tests.exams.report_fixtures import finished_attempt
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory
from tests.learning.factories import complete, make_lecture, make_plan, make_series, make_session

pytestmark = pytest.mark.django_db

# name: (payload, what a reader must see of it). Control characters and line
# separators are not text a PDF or an e-mail can show: they are dropped or become spaces.
PAYLOADS = {
    "link": ('<a href="http://evil.example/">x</a>',) * 2,
    "image": ('<img src="/etc/passwd"/>',) * 2,
    "font": ("<font color=red size=50>",) * 2,
    "hyperlink": ('=HYPERLINK("http://evil.example","x")',) * 2,
    "plus": ("+SUM(1)",) * 2,
    "minus": ("-1+1",) * 2,
    "at": ("@cmd",) * 2,
    "template-variable": ("{{ settings.SECRET_KEY }}",) * 2,
    "template-tag": ("{% debug %}",) * 2,
    "controls": ("a\x00b\x07c\x1bd\u2028e\x7ff", "abcd ef"),
    "cjk-extension-b": ("𠮷𡈼",) * 2,
}
VISIBLE = dict(PAYLOADS.values())
# PostgreSQL text cannot hold NUL (forms refuse it with Django's
# ProhibitNullCharactersValidator before it gets that far): there the controls
# payload goes in without it.
VISIBLE.update({payload.replace("\x00", ""): shown for payload, shown in PAYLOADS.values()})
MARKUP = ('<a href="http://evil.example/">', "<img src=", "<font color=red")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclasses.dataclass
class World:
    payload: str
    year: int
    official: object
    hr: object
    superuser: object
    lecture: object
    series: object
    annual: object
    annual_attempt: object
    pre_appointment: object
    certificate_attempt: object
    observation: object
    screen: object


def _people(text):
    bureau = DepartmentFactory(name=text)
    office = DepartmentFactory(name=text, parent=bureau)
    user = UserFactory(name=text, roles=["Official"], email="hostile@example.cn")
    official = OfficialFactory(user=user, department=office, position=text, rank=text)
    hr = UserFactory(roles=["HR"])
    ReportScope.objects.create(user=hr, department=bureau)  # the year-end figures name it
    return official, hr


def _study(text, official, year):
    topic = LawTopicFactory(name=text)
    speaker = Speaker.objects.create(name=text, title=text, affiliation=text)
    series = make_series(title=text)
    today = timezone.localdate()
    lecture = make_lecture(
        title=text, parent=series, topics=[topic], speakers=[speaker], summary=text, date=today
    )
    missing = make_lecture(title=text, occasion=text, date=today)
    plan = make_plan(year=year, title=text, lectures=[lecture, missing], series=[series])
    plan.required_credit_hours = 2
    plan.save()
    complete(official, lecture, when=timezone.now() - datetime.timedelta(hours=1))
    make_session(attendees=[official], title=text, date=today, credit_minutes=30)
    return plan, topic, lecture, series


def _annual_exam(text, topic, official, plan, year):
    question = QuestionFactory(
        topic=topic, stem=text, option_a=text, option_b=text, explanation=text, legal_basis=text
    )
    annual = ExamSessionFactory(title=text, year=year, paper=fixed_paper([question]))
    PlanExam.objects.create(plan=plan, session=annual)
    attempt = engine.start_attempt(annual, official)
    engine.save_answer(attempt.pk, official, 1, "B")
    engine.submit_attempt(attempt)
    # Closed, so the result and the notebook show the key and the explanation too.
    annual.closes_at = timezone.now() - datetime.timedelta(minutes=1)
    annual.save(update_fields=["closes_at"])
    return annual, attempt


def _pre_appointment(text, official, year):
    session = ExamSessionFactory(
        kind=SessionKind.PRE_APPOINTMENT, title=text, year=year, for_everyone=False
    )
    SessionCandidate.objects.create(session=session, official=official, intended_post=text)
    when = timezone.now() - datetime.timedelta(hours=2)
    return session, finished_attempt(session, official, 80, when=when)


def _observation(text, official, plan):
    starts = timezone.now() - datetime.timedelta(days=2)
    observation = CourtObservationFactory(
        title=text,
        court=text,
        courtroom=text,
        case_summary=text,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        registration_deadline=starts - datetime.timedelta(days=1),
        attendee_list_fields=["position", "department"],
    )
    PlanObservation.objects.create(plan=plan, observation=observation)
    Attendance.objects.create(observation=observation, official=official, status=Status.PRESENT)
    return observation


def _screen(text, lecture):
    screen = ScreenFactory(name=text, location=text)
    playlist = PlaylistFactory(name=text)
    ScreenPlaylistFactory(screen=screen, playlist=playlist)
    PlaylistEntryFactory(
        playlist=playlist, item__title=text, item__headline=text, item__points=text
    )
    quotation = PublicityItemFactory(
        title=text, kind=PublicityItem.Kind.QUOTATION, headline=text, quote=text, citation=text
    )
    highlight = PublicityItemFactory(title=text, kind=PublicityItem.Kind.LECTURE, lecture=lecture)
    PlaylistEntryFactory(playlist=playlist, item=quotation)
    PlaylistEntryFactory(playlist=playlist, item=highlight)
    return screen


def _build(text):
    year = timezone.localdate().year
    official, hr = _people(text)
    plan, topic, lecture, series = _study(text, official, year)
    annual, annual_attempt = _annual_exam(text, topic, official, plan, year)
    pre_appointment, certificate_attempt = _pre_appointment(text, official, year)
    return World(
        payload=text,
        year=year,
        official=official,
        hr=hr,
        superuser=UserFactory(is_superuser=True, is_staff=True),
        lecture=lecture,
        series=series,
        annual=annual,
        annual_attempt=annual_attempt,
        pre_appointment=pre_appointment,
        certificate_attempt=certificate_attempt,
        observation=_observation(text, official, plan),
        screen=_screen(text, lecture),
    )


@contextlib.contextmanager
def _rolled_back():
    """A transaction undone at the end, as TestCase.setUpTestData keeps its data:
    each test runs in a savepoint inside it."""
    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        yield
    finally:
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture(
    scope="module",
    params=[payload for payload, _visible in PAYLOADS.values()],
    ids=list(PAYLOADS),
)
def world(request, django_db_setup, django_db_blocker):
    """Every text field people set holds the payload. Built once per payload, since
    every output reads the same world and each test's changes are rolled back."""
    payload = request.param
    if connection.vendor == "postgresql":
        payload = payload.replace("\x00", "")
    with django_db_blocker.unblock(), _rolled_back():
        screens.forget_documents()
        yield _build(payload)
        screens.forget_documents()


@pytest.fixture(autouse=True)
def _reportlab_opens_no_images(monkeypatch):
    """An <img src> reaching reportlab would make it open a path on the server."""

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"reportlab was asked to open an image: {args!r}")

    monkeypatch.setattr(reportlab.lib.utils.ImageReader, "__init__", refuse)


# Outputs -----------------------------------------------------------------------------


@dataclasses.dataclass
class Output:
    kind: str  # "pdf", "xlsx", "html", "json" or "email"
    content: object  # bytes, or the list of e-mails sent
    shows_text: bool = True  # False for an output of figures only


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _get(user, url, params=None, kind="html"):
    response = _client(user).get(url, params or {})
    assert response.status_code == 200, (url, response.status_code)
    return Output(kind, b"".join(response) if response.streaming else response.content)


def _export(world, kind):
    """Request a background export, run it and download it (its file name holds the
    department's name)."""
    job = exports.request_export(
        world.hr,
        kind,
        {"year": str(world.year), "department": str(world.official.department.get_parent().pk)},
    )
    exports.run_job(job.pk)
    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == ExportStatus.DONE, job.error
    return _get(world.hr, reverse("exams_exports:download", args=[job.pk])).content


def _admin(world, name, *args, **params):
    return _get(world.hr, reverse(name, args=args), {"year": world.year, **params})


def official_record_pdf(world):
    return _get(world.official.user, reverse("exams:record_pdf"), kind="pdf")


def hr_record_pdf(world):
    url = reverse("exams_exports:record_pdf", args=[world.official.pk])
    return _get(world.hr, url, {"year": world.year}, kind="pdf")


def study_records_export(world):
    return Output("pdf", _export(world, "study_records"))


def completion_export(world):
    return Output("xlsx", _export(world, "completion"))


def candidate_certificate(world):
    attempt = world.certificate_attempt
    url = reverse("exams:certificate", args=[attempt.session_id, attempt.pk])
    return _get(world.official.user, url, kind="pdf")


def hr_certificate(world):
    url = reverse("report_lists:certificate", args=[world.certificate_attempt.pk])
    return _get(world.hr, url, kind="pdf")


def completion_xlsx(world):
    return Output("xlsx", _admin(world, "completion_report:xlsx").content)


def behind_xlsx(world):
    return Output("xlsx", _admin(world, "report_lists:behind_export").content)


def register_xlsx(world):
    return Output("xlsx", _admin(world, "report_lists:register_export").content)


def year_end_xlsx(world):
    return Output("xlsx", _admin(world, "report_lists:yearend_export").content, shows_text=False)


def roster_xlsx(world):
    return Output("xlsx", roster.export_workbook())


def roster_template(world):
    return Output("xlsx", roster.template_workbook(), shows_text=False)


def initial_passwords(world):
    official = world.official
    created = [(official.name, official.staff_number, "Ab3dEf7hJk9m")]
    return Output("xlsx", roster.credentials_workbook(created))


def question_export_xlsx(world):
    return Output("xlsx", export_xlsx())


def question_template(world):
    return Output("xlsx", template_xlsx())


def exam_statistics_xlsx(world):
    return Output("xlsx", statistics_xlsx(world.annual))


def attendee_list_xlsx(world):
    request = RequestFactory().get("/")
    request.user = world.superuser
    return Output("xlsx", attendees_xlsx(request, world.observation.pk).content)


def reminder_email(world):
    found = behind.still_behind([world.official.pk], world.year)
    result = reminders.send_reminders(found.rows(), world.year, world.hr)
    assert result.sent == [world.official], result
    return Output("email", list(mail.outbox))


def attempt_page(world):
    """An attempt in progress: the stem and options are shown while it is sat."""
    session = ExamSessionFactory(title=world.payload, year=world.year, paper=world.annual.paper)
    attempt = engine.start_attempt(session, world.official)
    return _get(world.official.user, reverse("exams:attempt", args=[session.pk, attempt.pk]))


def my_exports_page(world):
    _export(world, "study_records")
    return _get(world.hr, reverse("exams_exports:index"))


def reminder_notices(world):
    """The messages HR reads after reminding: who could not be reached, by name."""
    User.objects.filter(pk=world.official.user_id).update(email="")
    response = _client(world.hr).post(
        reverse("report_lists:remind"), {"year": world.year, "everyone": "1"}, follow=True
    )
    assert response.status_code == 200
    assert len(list(response.context["messages"])) >= 1
    return Output("html", response.content)


def screen_playlist_json(world):
    return _get(world.superuser, f"/screens/{world.screen.token}/playlist.json", kind="json")


def _page(user_of, url_of, params=None):
    return lambda world: _get(user_of(world), url_of(world), params)


def _official(world):
    return world.official.user


def _hr(world):
    return world.hr


def _superuser(world):
    return world.superuser


def _report_page(name, *args_of):
    def render(world):
        return _admin(world, name, *[arg(world) for arg in args_of])

    return render


OUTPUTS = {
    # PDF
    "official's record PDF": official_record_pdf,
    "HR's record PDF": hr_record_pdf,
    "study records export": study_records_export,
    "candidate's certificate": candidate_certificate,
    "HR's certificate": hr_certificate,
    # xlsx
    "completion xlsx": completion_xlsx,
    "completion export": completion_export,
    "who is behind xlsx": behind_xlsx,
    "pre-appointment register xlsx": register_xlsx,
    "year-end xlsx": year_end_xlsx,
    "roster export": roster_xlsx,
    "roster template": roster_template,
    "initial passwords": initial_passwords,
    "question export": question_export_xlsx,
    "question template": question_template,
    "exam statistics": exam_statistics_xlsx,
    "attendee list xlsx": attendee_list_xlsx,
    # e-mail and notices
    "reminder e-mail": reminder_email,
    "reminder notices": reminder_notices,
    "my exports page": my_exports_page,
    # screens
    "screen playlist": screen_playlist_json,
    "screen player": _page(_superuser, lambda w: f"/screens/{w.screen.token}/"),
    # HTML pages
    "dashboard": _page(_official, lambda w: "/"),
    "lecture index": _page(_official, lambda w: "/lectures/"),
    "series page": _page(_official, lambda w: w.series.url),
    "lecture page": _page(_official, lambda w: w.lecture.url),
    "study record page": _page(_official, lambda w: reverse("learning:record")),
    "exams index": _page(_official, lambda w: reverse("exams:index")),
    "exam session page": _page(_official, lambda w: reverse("exams:session", args=[w.annual.pk])),
    "exam result page": _page(
        _official,
        lambda w: reverse("exams:result", args=[w.annual.pk, w.annual_attempt.pk]),
    ),
    "attempt page": attempt_page,
    "notebook": _page(_official, lambda w: reverse("exams:notebook")),
    "observations": _page(_official, lambda w: reverse("observations:index")),
    "observation page": _page(
        _official, lambda w: reverse("observations:detail", args=[w.observation.pk])
    ),
    "exam statistics page": _page(
        _superuser, lambda w: reverse("exams_admin:statistics", args=[w.annual.pk])
    ),
    "completion report": _report_page("completion_report:index"),
    "completion department": _report_page(
        "completion_report:department", lambda w: w.official.department.get_parent().pk
    ),
    "completion official": _report_page("completion_report:official", lambda w: w.official.pk),
    "who is behind": _report_page("report_lists:behind"),
    "pre-appointment register": _report_page("report_lists:register"),
    "year-end figures": _report_page("report_lists:yearend"),
    "year-end print": _report_page("report_lists:yearend_print"),
    "attendance sheet": _page(
        _superuser, lambda w: reverse("observation_tools:sheet", args=[w.observation.pk])
    ),
    "check-in screen": _page(
        _superuser, lambda w: reverse("observation_tools:checkin_screen", args=[w.observation.pk])
    ),
    "attendee list": _page(
        _superuser, lambda w: reverse("observation_tools:attendees", args=[w.observation.pk])
    ),
}

# The background export kinds (exams/reports/export_kinds.py) and the output above
# that renders each.
EXPORT_KINDS = {"completion": "completion export", "study_records": "study records export"}


# Checks ------------------------------------------------------------------------------


def _squeezed(text):
    """Text without white space: a PDF table wraps a long title over lines."""
    return "".join(text.split())


def check_pdf(content, payload):
    assert content.startswith(b"%PDF")
    reader = PdfReader(BytesIO(content))
    for page in reader.pages:
        assert "/Annots" not in page, "a link or other annotation"
        resources = page.get("/Resources") or {}
        assert not resources.get("/XObject"), "an image or form drawn from text"
        for font in (resources.get("/Font") or {}).values():
            # A UCS-2 CMap maps no character beyond the BMP (𠮷 would show blank).
            assert "UCS2" not in str(font.get_object().get("/Encoding"))
    assert b"/URI" not in content and b"/Link" not in content
    text = "".join(page.extract_text() for page in reader.pages)
    assert not CONTROLS.search(text)
    assert _squeezed(VISIBLE[payload]) in _squeezed(text)


def _cell_text(value):
    """A cell's text with Excel's _xHHHH_ escapes of control characters decoded."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda match: chr(int(match[1], 16)), str(value))


def check_xlsx(content, payload):
    workbook = load_workbook(BytesIO(content), data_only=False)
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    if payload is not None:
        holding = [cell for cell in cells if payload in _cell_text(cell.value)]
        assert holding, "the payload is missing"
        assert {cell.data_type for cell in holding} == {"s"}


def check_html(content, payload):
    html = content.decode()
    for markup in MARKUP:
        assert markup not in html
    assert escape(payload) in html
    assert settings.SECRET_KEY not in html


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_json(content, payload):
    document = json.loads(content)
    assert payload in list(_strings(document))


def check_email(messages, payload):
    assert messages, "no e-mail was sent"
    for message in messages:
        assert message.content_subtype == "plain"
        assert not getattr(message, "alternatives", None)
        assert not CONTROLS.search(message.subject + message.body.replace("\t", ""))
        assert VISIBLE[payload] in message.body
        assert settings.SECRET_KEY not in message.body
        message.message().as_bytes()  # the message serialises for sending


CHECKS = {
    "pdf": check_pdf,
    "xlsx": check_xlsx,
    "html": check_html,
    "json": check_json,
    "email": check_email,
}


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_hostile_text_stays_text_in_every_output(output, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rendered = OUTPUTS[output](world)
    CHECKS[rendered.kind](rendered.content, world.payload if rendered.shows_text else None)


def test_every_background_export_kind_is_rendered_above():
    assert {export_kind.kind for export_kind in exports.kinds()} == set(EXPORT_KINDS)
    assert set(EXPORT_KINDS.values()) <= set(OUTPUTS)


def test_paragraphs_are_built_only_by_the_escaping_helper():
    """reportlab reads a Paragraph's text as markup (links, images, fonts): the project
    builds its Paragraphs in exams/pdf.py only, which escapes what it is given."""
    root = Path(__file__).resolve().parent.parent
    sources = [
        path
        for app in ("learning", "exams", "content", "site")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
    ]
    building = [
        str(path.relative_to(root))
        for path in sources
        if re.search(r"\bParagraph\(", path.read_text())
        and "reportlab" in path.read_text()  # python-docx's Paragraph takes no markup
        and path != root / "exams" / "pdf.py"
    ]
    assert building == []
