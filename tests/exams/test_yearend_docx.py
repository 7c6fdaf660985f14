"""The drafted year-end report (.docx): every figure in the text equals the figure of
the report its footnote links to, the links open for the organizer and show the
figure, HR limited to a subtree gets its subtree's figures, an empty year still makes
an honest document, and people's text stays literal text."""

import datetime
import io
import re
import shutil
import subprocess
import zipfile

from django.test import RequestFactory
from django.utils import translation

from wagtail import hooks

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

from content.models import PlayLog
from exams.models import SessionKind
from exams.reports import yearend, yearend_docx
from learning.models import AgendaStatus
from tests.content.factories import PublicityItemFactory, ScreenFactory
from tests.factories import AgendaItemFactory
from tests.learning.factories import SpeakerFactory, make_lecture, make_session

from . import report_fixtures
from .report_fixtures import official, org, scoped
from .test_report_yearend import YEAR, world  # noqa: F401  (the hand-counted world)

pytestmark = pytest.mark.django_db
URL = "/admin/reports/year-end.docx"


@pytest.fixture
def organizer(db):
    return report_fixtures.organizer_user()


@pytest.fixture
def agenda(world):  # noqa: F811
    """Held in 2026: two items at the executive meeting, one at the party group
    meeting; a planned and a cancelled 2026 item and a held 2025 item are left out."""
    AgendaItemFactory(title="学习《民法典》", status=AgendaStatus.HELD)
    AgendaItemFactory(title="学习《保密法》", status=AgendaStatus.HELD)
    AgendaItemFactory(title="学习党章", meeting="party_group", status=AgendaStatus.HELD)
    AgendaItemFactory(title="计划中")
    AgendaItemFactory(title="取消", status=AgendaStatus.CANCELLED, cancel_reason="改期")
    AgendaItemFactory(title="旧", status=AgendaStatus.HELD, date=datetime.date(2025, 3, 1))


@pytest.fixture
def plays(world):  # noqa: F811
    """Two screens play in 2026 (60 s, 90 s, 30 min); one play in 2025 is left out."""
    item = PublicityItemFactory()
    first, second = ScreenFactory(), ScreenFactory()
    for n, (screen, seconds, when) in enumerate(
        [
            (first, 60, datetime.datetime(2026, 2, 1, 9, tzinfo=datetime.UTC)),
            (first, 90, datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC)),
            (second, 1800, datetime.datetime(2026, 11, 1, 9, tzinfo=datetime.UTC)),
            (second, 600, datetime.datetime(2025, 11, 1, 9, tzinfo=datetime.UTC)),
        ]
    ):
        PlayLog.objects.create(
            screen=screen, item=item, play_id=f"p{n}", started_at=when, duration=seconds
        )


def _draft(user, year=YEAR):
    request = RequestFactory().get("/admin/reports/year-end.docx", {"year": year})
    request.user = user
    with translation.override("en"):
        return yearend_docx.draft(request, year)


def _read(content):
    """(document, [(footnote text, body value before its mark, [link urls])])."""
    document = Document(io.BytesIO(content))
    notes_part = next(
        rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.FOOTNOTES
    )
    root = etree.fromstring(notes_part.blob)
    notes = {}
    for note in root.iter(qn("w:footnote")):
        if int(note.get(qn("w:id"))) < 1:
            continue
        text = "".join(t.text for t in note.iter(qn("w:t")))
        links = [
            notes_part.rels[h.get(qn("r:id"))].target_ref for h in note.iter(qn("w:hyperlink"))
        ]
        notes[note.get(qn("w:id"))] = (text, links)
    found = []
    for paragraph in document.paragraphs:
        before = None
        for run in paragraph._p.iter(qn("w:r")):
            reference = run.find(qn("w:footnoteReference"))
            if reference is None:
                before = "".join(t.text for t in run.iter(qn("w:t")))
                continue
            text, links = notes[reference.get(qn("w:id"))]
            found.append((text, before, links))
    return document, found


def _figures(content):
    """{footnote label: (value in the text, value in the note, url)}."""
    _document, found = _read(content)
    figures = {}
    for text, body_value, links in found:
        label, value = re.match(r" (.*): (.*)\. Source: ", text).groups()
        assert len(links) == 1 and text.endswith(links[0])
        figures[label] = (body_value, value, links[0])
    return figures


def _text(content):
    return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)


def test_each_figure_is_the_backing_reports_figure(world, agenda, plays, organizer):  # noqa: F811
    figures = _figures(_draft(organizer))
    expected = yearend.year_end(organizer, YEAR)
    annual = next(e for e in expected.exams if e.kind == SessionKind.ANNUAL)
    pre = next(e for e in expected.exams if e.kind == SessionKind.PRE_APPOINTMENT)
    hand_counted = {
        "Lectures held": (2, expected.lectures_held),
        "Distinct speakers": (3, expected.speakers),
        "Sessions held": (2, expected.study_sessions),
        "Attendances": (3, expected.study_attendances),
        "Officials attending": (2, expected.study_attendees),
        "Credit hours awarded": (3.5, expected.study_credit_hours),
        "Annual exam: participants": (2, annual.participants),
        "Annual exam: passed": (2, annual.passed),
        "Annual exam: pass rate (%)": (100.0, annual.pass_rate),
        "Pre-appointment exam: participants": (1, pre.participants),
        "Pre-appointment exam: passed": (0, pre.passed),
        "Observations held": (2, expected.observations),
        "Attended (present or late)": (2, expected.observation_attended),
        "Agenda items held: District executive meeting": (2, 2),
        "Agenda items held: Party group meeting": (1, 1),
        "Plays on the screens": (3, 3),
        "Hours played on the screens": (0.5, 0.5),  # 1,950 s
        "Screens that played": (2, 2),
    }
    assert set(figures) == set(hand_counted)
    for label, (by_hand, computed) in hand_counted.items():
        assert by_hand == computed, label
        body_value, note_value, _url = figures[label]
        assert body_value == note_value == str(by_hand), label


def test_the_text_is_in_the_seeds_enumerated_style(world, agenda, plays, organizer):  # noqa: F811
    text = _text(_draft(organizer))
    assert "First, 2 law lectures were held" in text
    assert "given by 3 speakers: 付, 李, 陈." in text
    assert "at the District executive meeting, 2 law-study items were held: 学习《民法典》" in text
    assert "Second, at the Party group meeting, 1 law-study item was held: 学习党章." in text
    assert "计划中" not in text and "取消" not in text and "旧" not in text
    assert "a pass rate of 100.0%." in text
    # No hook gave 明白纸 figures: that paragraph is left out, not made up.
    assert "briefing sheets" not in text


def test_footnote_links_open_for_the_organizer_and_show_the_figure(
    world,  # noqa: F811
    agenda,
    plays,
    organizer,
    client,
):
    figures = _figures(_draft(organizer))
    client.force_login(organizer)
    for label, (value, _note, url) in figures.items():
        assert url.startswith("http://testserver/admin/"), label
        response = client.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200, label
        if "items_count" in response.context:  # the agenda's filtered listing: "N matches"
            assert str(response.context["items_count"]) == value, label
            assert re.search(rf"(?<!\d){re.escape(value)}(?!\d)", response.text), label
        else:  # a figure in a table cell or a <strong>
            assert re.search(rf">\s*{re.escape(value)}\s*<", response.text), label
    plays_page = client.get(figures["Plays on the screens"][2].removeprefix("http://testserver"))
    assert plays_page.context["hours"] == 0.5 and plays_page.context["total"] == 3


def test_a_hook_adds_the_briefing_paragraph(world, organizer):  # noqa: F811
    def briefings(user, year):
        return [
            {"key": "briefings.sheets", "label": "Sheets", "value": 3, "url": "/admin/b/"},
            {"key": "briefings.audience", "label": "Audience", "value": 8, "url": "/admin/b/"},
            {"key": "briefings.confirmed", "label": "Confirmed", "value": 7, "url": "/admin/b/"},
            {"key": "briefings.share", "label": "Share", "value": 87.5, "url": "/admin/b/?y=1"},
        ]

    with hooks.register_temporarily(yearend_docx.YEAR_END_FIGURES_HOOK, briefings):
        content = _draft(organizer)
    assert "3 plain-language briefing sheets were issued, and 7 of 8" in _text(content)
    assert "(87.5%)." in _text(content)
    figures = _figures(content)
    assert figures["Share"] == ("87.5", "87.5", "http://testserver/admin/b/?y=1")


def test_hr_limited_to_a_subtree_gets_its_figures(world, hr_user_east):  # noqa: F811
    figures = _figures(_draft(hr_user_east))
    assert figures["Lectures held"][0] == "2"  # the events are the organisation's
    assert "Pre-appointment exam: participants" not in figures  # 丙 is in 西区
    assert figures["Sessions held"][0] == "2"
    assert figures["Attended (present or late)"][0] == "2"
    text = _text(_draft(hr_user_east))
    assert "count only 东区 and the units below it" in text
    assert "pre-appointment law test" not in text  # nobody in scope took it
    # HR may not open the play counts, so the screens' figures are not theirs.
    assert "Plays on the screens" not in figures


@pytest.fixture
def hr_user_east(world):  # noqa: F811
    return scoped(report_fixtures.hr(), world["east"])


def test_an_empty_year_is_an_honest_document(organizer):
    content = _draft(organizer, 2030)
    text = _text(content)
    assert "First, no law lectures were held this year." in text
    assert "no law-study items on meeting agendas were recorded as held this year" in text
    assert "no collective-study sessions were recorded this year" in text
    assert "no official took the annual law exam this year" in text
    assert "no court-trial observations were organised this year" in text
    assert "Second, no court-trial observations" in text  # numbering skips nothing
    assert "pre-appointment" not in text and "screens" not in text


def test_peoples_text_stays_literal(organizer):
    hostile = '<w:t>付士成</w:t> & "=1+1" %(x)s %%'
    make_lecture("讲座", date=datetime.date(YEAR, 3, 1), speakers=[SpeakerFactory(name=hostile)])
    AgendaItemFactory(title="=1+1<script>", status=AgendaStatus.HELD)
    text = _text(_draft(organizer))
    assert f"speakers: {hostile}." in text
    assert "item was held: =1+1<script>." in text


def test_the_download(world, organizer, client):  # noqa: F811
    client.force_login(organizer)
    page = client.get("/admin/reports/year-end/", {"year": YEAR})
    assert f'href="{URL}?year={YEAR}"' in page.text
    response = client.get(URL, {"year": YEAR})
    assert response.status_code == 200
    assert response["Content-Type"] == yearend_docx.CONTENT_TYPE
    assert response["Content-Disposition"] == f'attachment; filename="year-end-{YEAR}.docx"'
    assert "一是" in _text(response.content) or "First," in _text(response.content)


def test_a_bad_year_goes_back_to_the_figures_page(organizer, client):
    client.force_login(organizer)
    response = client.get(URL, {"year": "soon"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/reports/year-end/?year=soon"


def test_officials_are_refused(world, client):  # noqa: F811
    client.force_login(official(org()[0], "丁", "X001").user)
    assert client.get(URL, {"year": YEAR}).status_code == 403


def test_hr_may_download(world, client):  # noqa: F811
    client.force_login(report_fixtures.hr())
    assert client.get(URL, {"year": YEAR}).status_code == 200


def _grow(n):
    east, _office, _west = org()
    for i in range(n):
        person = official(east, f"员{i}", f"G{n}{i:04d}")
        speaker = SpeakerFactory(name=f"专家{n}-{i}")
        make_lecture(f"讲座{n}-{i}", date=datetime.date(YEAR, 3, 1), speakers=[speaker])
        make_session(attendees=[person], lecturer=speaker, date=datetime.date(YEAR, 4, 1))
        AgendaItemFactory(title=f"议题{n}-{i}", status=AgendaStatus.HELD)


def test_queries_stay_flat_as_the_year_grows(organizer, django_assert_max_num_queries):
    _grow(2)
    with django_assert_max_num_queries(40) as small:
        _draft(organizer)
    _grow(12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        _draft(organizer)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_libreoffice_reads_real_footnotes_with_links(world, organizer, tmp_path):  # noqa: F811
    """LibreOffice imports the notes as footnotes (text:note), each with its link."""
    source = tmp_path / "year-end.docx"
    source.write_bytes(_draft(organizer))
    command = ["soffice", "--headless", "--convert-to", "odt", "--outdir", str(tmp_path)]
    subprocess.run([*command, str(source)], check=True, capture_output=True, timeout=120)  # noqa: S603
    with zipfile.ZipFile(tmp_path / "year-end.odt") as odt:
        root = etree.fromstring(odt.read("content.xml"))
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    notes = root.findall(f".//{{{text_ns}}}note[@{{{text_ns}}}note-class='footnote']")
    assert len(notes) == len(_figures(source.read_bytes()))
    first = notes[0]
    assert "Lectures held: 2. Source:" in "".join(first.itertext())
    link = first.find(f".//{{{text_ns}}}a")
    href = link.get("{http://www.w3.org/1999/xlink}href")
    assert href == "http://testserver/admin/reports/year-end/?year=2026"
