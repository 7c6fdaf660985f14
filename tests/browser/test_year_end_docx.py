"""The demo organizer opens the year-end figures, clicks the .docx button and gets the
drafted report: a .docx named for the year, in the report's enumerated style."""

import pytest
from docx import Document

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_organizer_downloads_the_drafted_report(page, live_server, demo_data):
    from django.utils import translation

    from exams.reports.yearend_docx import ordinal
    from learning.models import AgendaItem

    # The demo's expert lecture by 付士成, held some weeks before the demo was loaded.
    year = AgendaItem.objects.get(status="held").date.year
    sign_in(page, live_server, "organizer")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/admin/reports/year-end/?year={year}")
    with page.expect_download() as download:
        page.locator("a[data-yearend-docx]").click()
    assert download.value.suggested_filename == f"year-end-{year}.docx"
    text = "\n".join(p.text for p in Document(download.value.path()).paragraphs)
    # The browser asks for Chinese: the enumeration is the zh-hans one (一是 once the
    # lead's translation is in; the English source until then).
    with translation.override("zh-hans"):
        first = ordinal(0)
    assert first in text
    assert "付士成" in text  # the demo's expert lecturer, from the records
    assert str(year) in text
