"""Every xlsx the site writes keeps text as text: a name, stem or option that starts
with "=", "+", "-" or "@" comes back as the same text, never as a formula that Excel
would run when the file is opened (CSV/formula injection).

Each output is one entry of OUTPUTS: a function that puts the hostile text where a
person could type it and returns the file's bytes."""

from io import BytesIO

from django.test import RequestFactory
from django.utils import timezone

import pytest
from openpyxl import load_workbook

from exams import attempts
from exams.observations import services
from exams.observations.admin_views import attendees_xlsx
from exams.question_io import export_xlsx, template_xlsx
from exams.reports.completion import build_report, report_xlsx
from exams.statistics import statistics_xlsx
from learning import roster
from tests.exams.factories import ExamSessionFactory, LawTopicFactory, QuestionFactory, fixed_paper
from tests.exams.observation_factories import CourtObservationFactory
from tests.factories import OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-1+1", "@SUM(A1)"]


def question_template(text):
    LawTopicFactory(name=text, sort_order=0)  # the template's example rows name it
    return template_xlsx()


def question_export(text):
    QuestionFactory(stem=text, option_a=text, explanation=text, legal_basis=text)
    return export_xlsx()


def exam_statistics(text):
    session = ExamSessionFactory(paper=fixed_paper([QuestionFactory(stem=text)]))
    official = OfficialFactory(user__name=text)
    attempts.submit_attempt(attempts.start_attempt(session, official))
    return statistics_xlsx(session)


def observation_attendees(text):
    observation = CourtObservationFactory(attendee_list_fields=["position"])
    services.register(OfficialFactory(user__name=text, position=text), observation)
    request = RequestFactory().get("/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    return attendees_xlsx(request, observation.pk).content


def roster_export(text):
    OfficialFactory(user__name=text, position=text, rank=text)
    return roster.export_workbook()


def roster_initial_passwords(text):
    return roster.credentials_workbook([(text, "BH1", "Ab3dEf7hJk9m")])


def completion_report(text):
    OfficialFactory(user__name=text, position=text)
    year = timezone.localdate().year
    return report_xlsx(build_report(year, user=UserFactory(is_superuser=True, is_staff=True)))


OUTPUTS = {
    "roster export": roster_export,
    "roster initial passwords": roster_initial_passwords,
    "completion report": completion_report,
    "question template": question_template,
    "question export": question_export,
    "exam statistics": exam_statistics,
    "observation attendees": observation_attendees,
}


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_text_that_looks_like_a_formula_stays_text(output, text):
    workbook = load_workbook(BytesIO(OUTPUTS[output](text)), data_only=False)
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert text in {c.value for c in cells}
