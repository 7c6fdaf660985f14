"""The study section (学法) of the annual rule-of-law report (年度法治政府建设情况报告),
drafted as a .docx from the records: the year-end figures, the meeting law-study agenda
and the figures other apps register with the `register_year_end_figures` hook
(明白纸, lobby screens). The organizer edits the draft; every figure carries a Word
footnote linking to the admin report that shows it, so each number can be checked.

Sentences are whole gettext messages with named placeholders, so translators can put
them in the report's own style (一是…二是…三是…). People's text (speakers' names,
agenda titles) goes into text runs only, which the XML writer escapes."""

import dataclasses
import io
import re

from django.db.models import Q
from django.urls import reverse
from django.utils import formats
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from wagtail import hooks

from docx import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from learning.models import AgendaItem, AgendaStatus, LecturePage, Speaker
from learning.models.study import Meeting

from ..models import SessionKind
from .yearend import year_end

# Other apps add figures here: fn(user, year) -> [{"key": "<area>.<name>", "label": str,
# "value": int, float or None, "url": the admin report showing this figure for this
# year and user}], in the user's report scope. Keys used in the text: briefings.sheets,
# .audience, .confirmed, .share (learning.briefings); screens.plays, .playtime_hours,
# .screens (content.yearend). A figure no paragraph uses is left out.
YEAR_END_FIGURES_HOOK = "register_year_end_figures"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
AGENDA_LIST = "wagtailsnippets_learning_agendaitem:list"
AGENDA_MEETINGS = (Meeting.EXECUTIVE, Meeting.PARTY_GROUP, Meeting.ALL_STAFF, Meeting.OTHER)
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
LINK_COLOUR = RGBColor(0x05, 0x63, 0xC1)
# The font Chinese government reports are set in; Word and LibreOffice substitute it
# where it is missing.
EAST_ASIAN_FONT = "SimSun"


@dataclasses.dataclass
class Figure:
    """One number in the text, with what its footnote says and links to."""

    key: str
    label: str
    value: object
    url: str

    @property
    def text(self):
        return formats.localize(self.value)


@dataclasses.dataclass
class Report:
    year: int
    scope: object
    figures: dict  # key -> Figure
    speakers: list  # names
    meetings: list  # [(meeting label, Figure, [titles])]

    def get(self, key):
        return self.figures.get(key)


def collect(request, year):
    """Everything the draft says, as `request.user` may see it (year_end's scope)."""
    figures = year_end(request.user, year)
    yearend_url = reverse("report_lists:yearend") + "?" + urlencode({"year": year})
    found = {}
    for key, label, value in _own_figures(figures):
        found[key] = Figure(key, label, value, request.build_absolute_uri(yearend_url))
    meetings = _agenda(request, year)
    for _label, figure, _titles in meetings:
        found[figure.key] = figure
    for figure in _hook_figures(request, year):
        found[figure.key] = figure
    return Report(year, figures.scope, found, _speaker_names(year), meetings)


def _own_figures(figures):
    """(key, label, value) of year_end(); the labels are the year-end page's rows."""
    exams = {exam.kind: exam for exam in figures.exams}
    annual, pre = exams[SessionKind.ANNUAL], exams[SessionKind.PRE_APPOINTMENT]
    return [
        ("lectures.held", _("Lectures held"), figures.lectures_held),
        ("lectures.speakers", _("Distinct speakers"), figures.speakers),
        ("study.sessions", _("Sessions held"), figures.study_sessions),
        ("study.attendances", _("Attendances"), figures.study_attendances),
        ("study.attendees", _("Officials attending"), figures.study_attendees),
        ("study.credit_hours", _("Credit hours awarded"), figures.study_credit_hours),
        ("exams.annual.participants", _("Annual exam: participants"), annual.participants),
        ("exams.annual.passed", _("Annual exam: passed"), annual.passed),
        ("exams.annual.pass_rate", _("Annual exam: pass rate (%)"), annual.pass_rate),
        ("exams.pre.participants", _("Pre-appointment exam: participants"), pre.participants),
        ("exams.pre.passed", _("Pre-appointment exam: passed"), pre.passed),
        ("observations.held", _("Observations held"), figures.observations),
        ("observations.attended", _("Attended (present or late)"), figures.observation_attended),
    ]


def _agenda(request, year):
    """[(meeting label, Figure of items held, [their titles])] for each meeting that held
    agenda items in the year, in the agenda's order (one query). The items are the
    organisation's meetings, so no department scope applies, as for year_end's events."""
    titles = {}
    rows = (
        AgendaItem.objects.for_year(year)
        .filter(status=AgendaStatus.HELD)
        .order_by("date", "pk")
        .values_list("meeting", "title")
    )
    for meeting, title in rows:
        titles.setdefault(meeting, []).append(title)
    labels = dict(Meeting.choices)
    meetings = []
    for meeting in AGENDA_MEETINGS:
        if meeting not in titles:
            continue
        query = urlencode({"year": year, "meeting": meeting, "status": AgendaStatus.HELD})
        url = request.build_absolute_uri(reverse(AGENDA_LIST) + "?" + query)
        label = _("Agenda items held: %(meeting)s") % {"meeting": labels[meeting]}
        figure = Figure(f"agenda.{meeting}", label, len(titles[meeting]), url)
        meetings.append((str(labels[meeting]), figure, list(dict.fromkeys(titles[meeting]))))
    return meetings


def _speaker_names(year):
    """Names of the year's lecturers, the same people year_end counts (one query)."""
    return list(
        Speaker.objects.filter(
            Q(lectures__in=LecturePage.objects.live().filter(date__year=year))
            | Q(study_sessions__date__year=year)
        )
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )


def _hook_figures(request, year):
    for hook in hooks.get_hooks(YEAR_END_FIGURES_HOOK):
        for item in hook(request.user, year) or ():
            url = request.build_absolute_uri(item["url"])
            yield Figure(item["key"], str(item["label"]), item["value"], url)


# --- The document ----------------------------------------------------------------------


def draft(request, year):
    """The drafted report for `year` as .docx bytes."""
    report = collect(request, year)
    writer = Writer()
    writer.title(
        _("%(year)s annual report on building a rule-of-law government: studying the law")
        % {"year": year}
    )
    writer.paragraph(
        _(
            "In %(year)s the study of the law by officials continued as planned. The "
            "figures below come from the study records; each note names the report "
            "that shows the figure."
        ),
        {"year": str(year)},
    )
    if report.scope is not None:
        writer.paragraph(
            _(
                "Attendance, participants and pass rates count only %(department)s and "
                "the units below it."
            ),
            {"department": report.scope.name},
        )
    for heading, sentences in _sections(report):
        writer.section(heading, sentences)
    return writer.save()


def _sections(report):
    return [
        # Translators: the report's section headings, e.g. 一、抓好关键少数。
        (_("I. Leading cadres first"), _leaders(report)),
        # Translators: e.g. 二、做好全面统筹。
        (_("II. Law study planned at meetings"), _meetings(report)),
        # Translators: e.g. 三、带头学法用法。
        (_("III. Exams, briefings and publicity"), _by_example(report)),
    ]


def _say(template, **values):
    return template, values


def _join(names):
    return pgettext("list separator", ", ").join(names)


def _leaders(report):
    """Lectures and speakers, pre-appointment tests, court observations."""
    get = report.get
    if not get("lectures.held").value:
        sentences = [_say(_("%(ordinal)s no law lectures were held this year."))]
    elif report.speakers:
        # Translators: one enumerated sentence of the report. %(ordinal)s is 一是, 二是,
        # 三是…; e.g. "一是举办法律专家讲座%(lectures)s场，由%(names)s等%(speakers)s位
        # 专家为领导班子和各单位主要负责同志授课。" Keep every placeholder.
        template = _(
            "%(ordinal)s %(lectures)s law lectures were held for the leadership and the "
            "heads of all units, given by %(speakers)s speakers: %(names)s."
        )
        sentences = [
            _say(
                template,
                lectures=get("lectures.held"),
                speakers=get("lectures.speakers"),
                names=_join(report.speakers),
            )
        ]
    else:
        template = _(
            "%(ordinal)s %(lectures)s law lectures were held for the leadership and the "
            "heads of all units."
        )
        sentences = [_say(template, lectures=get("lectures.held"))]
    if get("exams.pre.participants").value:
        template = _(
            "%(ordinal)s %(candidates)s newly appointed leaders took the pre-appointment "
            "law test, and %(passed)s of them passed."
        )
        sentences.append(
            _say(template, candidates=get("exams.pre.participants"), passed=get("exams.pre.passed"))
        )
    if get("observations.held").value:
        template = _(
            "%(ordinal)s %(observations)s court-trial observations were organised, with "
            "%(attended)s attendances by officials."
        )
        sentences.append(
            _say(
                template,
                observations=get("observations.held"),
                attended=get("observations.attended"),
            )
        )
    else:
        sentences.append(
            _say(_("%(ordinal)s no court-trial observations were organised this year."))
        )
    return sentences


def _meetings(report):
    """The agenda's law study by meeting, then collective study and its attendance."""
    sentences = [
        _say(
            # Translators: e.g. "一是在%(meeting)s上安排法律学习议题%(items)s次，
            # 学习了%(titles)s。"
            ngettext(
                "%(ordinal)s at the %(meeting)s, %(items)s law-study item was held: %(titles)s.",
                "%(ordinal)s at the %(meeting)s, %(items)s law-study items were held: %(titles)s.",
                figure.value,
            ),
            meeting=label,
            items=figure,
            titles=_join(titles),
        )
        for label, figure, titles in report.meetings
    ]
    if not sentences:
        template = _(
            "%(ordinal)s no law-study items on meeting agendas were recorded as held this year."
        )
        sentences.append(_say(template))
    get = report.get
    if get("study.sessions").value:
        template = _(
            "%(ordinal)s %(sessions)s collective-study sessions were held, with "
            "%(attendances)s attendances by %(attendees)s officials, who earned %(hours)s "
            "credit hours."
        )
        sentences.append(
            _say(
                template,
                sessions=get("study.sessions"),
                attendances=get("study.attendances"),
                attendees=get("study.attendees"),
                hours=get("study.credit_hours"),
            )
        )
    else:
        sentences.append(
            _say(_("%(ordinal)s no collective-study sessions were recorded this year."))
        )
    return sentences


def _by_example(report):
    """The annual exam, then the other apps' figures when they gave any."""
    get = report.get
    if get("exams.annual.participants").value:
        template = _(
            "%(ordinal)s %(participants)s officials took the annual law exam and %(passed)s "
            "passed, a pass rate of %(rate)s%%."
        )
        sentences = [
            _say(
                template,
                participants=get("exams.annual.participants"),
                passed=get("exams.annual.passed"),
                rate=get("exams.annual.pass_rate"),
            )
        ]
    else:
        sentences = [_say(_("%(ordinal)s no official took the annual law exam this year."))]
    share = get("briefings.share")
    if get("briefings.sheets") and share and share.value is not None:
        # Translators: 明白纸 are the plain-language briefing sheets.
        template = ngettext(
            "%(ordinal)s %(sheets)s plain-language briefing sheet was issued, and "
            "%(confirmed)s of %(audience)s expected read confirmations were made "
            "(%(share)s%%).",
            "%(ordinal)s %(sheets)s plain-language briefing sheets were issued, and "
            "%(confirmed)s of %(audience)s expected read confirmations were made "
            "(%(share)s%%).",
            get("briefings.sheets").value,
        )
        sentences.append(
            _say(
                template,
                sheets=get("briefings.sheets"),
                confirmed=get("briefings.confirmed"),
                audience=get("briefings.audience"),
                share=share,
            )
        )
    plays = get("screens.plays")
    if plays and plays.value:
        template = _(
            "%(ordinal)s rule-of-law publicity was played %(plays)s times on %(screens)s "
            "lobby screens, %(hours)s hours in all."
        )
        sentences.append(
            _say(
                template,
                plays=plays,
                screens=get("screens.screens"),
                hours=get("screens.playtime_hours"),
            )
        )
    return sentences


def ordinal(number):
    """The enumeration word of the report's style: 一是, 二是, 三是…"""
    words = [
        pgettext("enumeration", "First,"),
        pgettext("enumeration", "Second,"),
        pgettext("enumeration", "Third,"),
        pgettext("enumeration", "Fourth,"),
        pgettext("enumeration", "Fifth,"),
        pgettext("enumeration", "Sixth,"),
        pgettext("enumeration", "Seventh,"),
    ]
    return words[number] if number < len(words) else f"{number + 1}."


FOOTNOTES_XML = (
    f"<w:footnotes {nsdecls('w', 'r')}>"
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
    "</w:r></w:p></w:footnote></w:footnotes>"
)

FOOTNOTE_SETTINGS = (
    f'<w:footnotePr {nsdecls("w")}><w:footnote w:id="-1"/><w:footnote w:id="0"/></w:footnotePr>'
)


class Writer:
    """A python-docx document with real Word footnotes (python-docx has no footnote
    API: the footnotes part is added and related to the document here)."""

    def __init__(self):
        self.document = Document()
        self.footnotes = XmlPart(
            PackURI("/word/footnotes.xml"),
            CT.WML_FOOTNOTES,
            parse_xml(FOOTNOTES_XML),
            self.document.part.package,
        )
        self.document.part.relate_to(self.footnotes, RT.FOOTNOTES)
        # Word's own documents name the separators in the settings (before w:compat).
        compat = self.document.settings.element.find(qn("w:compat"))
        compat.addprevious(parse_xml(FOOTNOTE_SETTINGS))
        self.next_note = 1
        for style in ("Normal", "Title", "Heading 1"):
            fonts = self.document.styles[style].element.get_or_add_rPr().get_or_add_rFonts()
            fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
            fonts.attrib.pop(qn("w:eastAsiaTheme"), None)

    def title(self, text):
        self.document.add_heading(text, level=0)

    def section(self, heading, sentences):
        self.document.add_heading(heading, level=1)
        for number, (template, values) in enumerate(sentences):
            self.paragraph(template, {**values, "ordinal": ordinal(number)})

    def paragraph(self, template, values):
        """Write `template` (a translated message), putting each placeholder's value in
        its own run; a Figure gets a footnote right after its number."""
        paragraph = self.document.add_paragraph()
        for piece in _pieces(template, values):
            if isinstance(piece, Figure):
                paragraph.add_run(piece.text)
                self._footnote(paragraph, piece)
            else:
                paragraph.add_run(piece)
        return paragraph

    def _footnote(self, paragraph, figure):
        note_id = str(self.next_note)
        self.next_note += 1
        reference = paragraph.add_run()
        reference.font.superscript = True
        reference._r.append(_element("w:footnoteReference", id=note_id))
        note = _element("w:footnote", id=note_id)
        self.footnotes.element.append(note)
        text = Paragraph(OxmlElement("w:p"), None)
        note.append(text._p)
        mark = text.add_run()
        mark.font.superscript = True
        mark._r.append(OxmlElement("w:footnoteRef"))
        text.add_run(" ")
        text.paragraph_format.space_after = Pt(0)
        template = _("%(label)s: %(value)s. Source: %(url)s")
        values = {"label": figure.label, "value": figure.text, "url": figure.url}
        for piece in _pieces(template, values, links=("url",)):
            if isinstance(piece, Link):
                self._link(text, piece.url)
            else:
                text.add_run(piece)
        for run in text.runs:
            run.font.size = Pt(9)

    def _link(self, paragraph, url):
        rel_id = self.footnotes.relate_to(url, RT.HYPERLINK, is_external=True)
        link = OxmlElement("w:hyperlink", {qn("r:id"): rel_id})
        paragraph._p.append(link)
        run = Paragraph(link, None).add_run(url)
        run.font.underline = True
        run.font.size = Pt(9)
        run.font.color.rgb = LINK_COLOUR

    def save(self):
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()


@dataclasses.dataclass
class Link:
    url: str


def _element(tag, **attributes):
    return OxmlElement(tag, {qn(f"w:{name}"): value for name, value in attributes.items()})


def _pieces(template, values, links=()):
    """Split a translated message into literal text and its placeholders' values, so
    values are never parsed as part of the message (a name may contain "%" or "<")."""
    position = 0
    for match in PLACEHOLDER.finditer(template):
        literal = template[position : match.start()]
        if literal:
            yield literal
        position = match.end()
        name = match.group(1)
        if name is None:
            yield "%"
        elif name in links:
            yield Link(values[name])
        else:
            value = values[name]
            yield value if isinstance(value, Figure) else str(value)
    if template[position:]:
        yield template[position:]
