"""The public verification page (/verify/<code>/): no sign-in, GET only, kept out of
search engines; it shows exactly the kind, title, date, band, the holder's name
partly masked and whether the certificate is valid or since when revoked; an unknown
code is a plain 404; codes are read in any case with spaces and hyphens; look-ups are
limited per client address. And HR's look-up of a code in the back office."""

import datetime
import re
from html.parser import HTMLParser

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import pytest

from exams import certificates, results
from exams.models import Certificate
from learning.models import ReportScope
from tests.factories import DepartmentFactory, OfficialFactory, UserFactory

from .certificate_helpers import sit
from .factories import ExamSessionFactory, fixed_paper

pytestmark = pytest.mark.django_db

LIMIT = 30  # look-ups per client address in ten minutes (certificate_views.VERIFY_RATE)


@pytest.fixture
def issued(bank):
    """王小明 (staff number ZF2026, 法制科) passed 年度法律知识考试 with 80 points: good."""
    department = DepartmentFactory(name="法制科")
    official = OfficialFactory(
        user=UserFactory(name="王小明"), staff_number="ZF2026", department=department
    )
    session = ExamSessionFactory(title="年度法律知识考试", paper=fixed_paper(bank))
    attempt = sit(session, official, right=8)
    return certificates.issue_for_attempt(attempt)


def page(code):
    return reverse("verify:certificate", args=[code])


class Fields(HTMLParser):
    """The data-field values of the certificate shown, and every text node."""

    def __init__(self):
        super().__init__()
        self.fields, self.texts, self._field = {}, [], None

    def handle_starttag(self, tag, attrs):
        self._field = dict(attrs).get("data-field")

    def handle_data(self, data):
        if data.strip():
            self.texts.append(data.strip())
            if self._field:
                self.fields[self._field] = data.strip()
                self._field = None


def shown(response):
    parser = Fields()
    parser.feed(response.content.decode())
    return parser


# What it shows --------------------------------------------------------------------


def test_a_stranger_sees_exactly_what_the_certificate_states(client, issued):
    response = client.get(page(issued.code))
    assert response.status_code == 200
    parsed = shown(response)
    assert parsed.fields == {
        "kind": str(Certificate(kind="exam").get_kind_display()),
        "title": "年度法律知识考试",
        "date": f"{issued.issued_on:%Y-%m-%d}",
        "band": "良好",
        "holder": "王*明",
    }
    html = response.content.decode()
    assert 'data-status="valid"' in html
    # Nothing beyond: no full name, staff number, department, score or attempt.
    for private in ("王小明", "ZF2026", "法制科", "80.00", "80.0", "/admin/"):
        assert private not in html, private


def test_names_are_masked(client, issued):
    cases = {
        "王小明": "王*明",
        "王明": "王*",
        "王": "王*",
        "欧阳明月": "欧**月",
        " 司马青 ": "司*青",
    }
    for name, masked in cases.items():
        assert certificates.mask_name(name) == masked
    Certificate.objects.filter(pk=issued.pk).update(holder_name="欧阳明月")
    assert shown(client.get(page(issued.code))).fields["holder"] == "欧**月"


def test_a_revoked_certificate_says_since_when_but_not_why(client, issued, organizer):
    results.void_result(issued.attempt, "经查系他人代考", organizer)
    issued.refresh_from_db()
    response = client.get(page(issued.code))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-status="revoked"' in html and 'data-status="valid"' not in html
    assert timezone.localtime(issued.revoked_at).strftime("%Y-%m-%d") in html
    assert "经查系他人代考" not in html and "代考" not in html


def certificate_lookups(queries):
    return [q["sql"] for q in queries if "exams_certificate" in q["sql"]]


def test_an_unknown_code_is_a_plain_404(client, issued):
    other = "0" * 20 if issued.code != "0" * 20 else "1" * 20
    # Malformed codes take the same path: one look-up, the same page; nothing tells
    # a near miss from nonsense.
    for code in (other, "abc", issued.code[:-1], "<script>alert(1)<\\script>", "x" * 300):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page(code))
        assert response.status_code == 404, code
        assert len(certificate_lookups(queries.captured_queries)) == 1
        html = response.content.decode()
        assert "data-unknown" in html and "data-certificate" not in html
        assert "<script>alert" not in html


def test_a_known_code_takes_one_query(client, issued, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert client.get(page(issued.code)).status_code == 200


def test_codes_are_read_in_any_case_with_spaces_and_hyphens(client, issued):
    grouped = certificates.grouped_code(issued.code)
    for typed in (issued.code.lower(), grouped, grouped.replace("-", " "), f" {grouped} "):
        response = client.get(page(typed))
        assert response.status_code == 200, typed
        assert shown(response).fields["title"] == "年度法律知识考试"
    # Full-width characters from a Chinese keyboard, and O typed for 0, I or L for 1.
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in issued.code)
    assert client.get(page(fullwidth)).status_code == 200
    assert certificates.normalise_code("o1-Il") == "0111"


def test_the_form_sends_a_typed_code_to_its_page(client, issued):
    form = client.get(reverse("verify:form"))
    assert form.status_code == 200 and 'name="code"' in form.content.decode()
    typed = certificates.grouped_code(issued.code).lower().replace("-", " ")
    response = client.get(reverse("verify:form"), {"code": typed})
    assert response.status_code == 302 and response["Location"] == page(issued.code)
    # Whatever else is typed around the code is left out, slashes included.
    odd = client.get(reverse("verify:form"), {"code": f"{issued.code[:10]}/{issued.code[10:]}"})
    assert odd.status_code == 302 and odd["Location"] == page(issued.code)
    blank = client.get(reverse("verify:form"), {"code": " - "})
    assert blank.status_code == 200 and "errorlist" in blank.content.decode()


def test_no_sign_in_get_only_noindex_and_no_inline_code(client, issued):
    response = client.get(page(issued.code))
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    # CSP-clean: no inline script or style for the policy to block.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html and "<style" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert client.post(page(issued.code)).status_code == 405
    assert client.post(reverse("verify:form")).status_code == 405
    # A signed-in official sees the same masked page.
    client.force_login(OfficialFactory().user)
    assert shown(client.get(page(issued.code))).fields["holder"] == "王*明"


def test_the_page_is_chinese_by_default(client, issued):
    html = client.get(page(issued.code)).content.decode()
    assert '<html lang="zh-hans">' in html and "等次" in html


# Rate limit -----------------------------------------------------------------------


def test_lookups_are_limited_per_client_address(client, issued):
    for number in range(LIMIT):
        code = issued.code if number % 2 else "Z" * 20
        assert client.get(page(code)).status_code in (200, 404), number
    refused = client.get(page(issued.code))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 600
    html = refused.content.decode()
    assert "data-limited" in html and "data-certificate" not in html
    assert refused["X-Robots-Tag"] == "noindex, nofollow"
    # The typing form still opens; another address is not limited.
    assert client.get(reverse("verify:form")).status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.9").get(page(issued.code)).status_code == 200


def test_behind_the_proxy_each_client_address_counts_apart(settings, issued):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    first = Client(HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    second = Client(HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    for _ in range(LIMIT):
        assert first.get(page(issued.code)).status_code == 200
    assert first.get(page(issued.code)).status_code == 429
    assert second.get(page(issued.code)).status_code == 200


# HR's look-up ---------------------------------------------------------------------


def lookup(client, code):
    return client.get(reverse("certificates_admin:lookup"), {"code": code})


def test_hr_sees_the_whole_record_of_a_code(hr_client, issued, organizer):
    results.void_result(issued.attempt, "经查系他人代考", organizer)
    response = lookup(hr_client, certificates.grouped_code(issued.code).lower())
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-certificate-record" in html and "data-revoked" in html
    for fact in ("王小明", "ZF2026", "法制科", "年度法律知识考试", "经查系他人代考"):
        assert fact in html, fact
    inspect = reverse("exams_attempts:inspect", args=[issued.attempt_id])
    assert f'href="{inspect}"' in html


def test_hr_is_told_of_an_unknown_code_and_of_one_outside_their_scope(hr_client, hr_user, issued):
    assert "data-not-found" in lookup(hr_client, "Z" * 20).content.decode()
    ReportScope.objects.create(user=hr_user, department=DepartmentFactory(name="别的局"))
    html = lookup(hr_client, issued.code).content.decode()
    assert "data-not-found" in html and "王小明" not in html


def test_the_lookup_is_refused_to_officials_and_strangers(client, issued):
    url = reverse("certificates_admin:lookup")
    anonymous = client.get(url, {"code": "ABC"})
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/admin/login/?next=/admin/certificates/%3Fcode%3DABC"
    client.force_login(OfficialFactory().user)
    assert client.get(url, {"code": issued.code}).status_code == 403


def test_organizers_may_look_up_too(organizer_client, issued):
    assert "王小明" in lookup(organizer_client, issued.code).content.decode()


def test_the_issue_date_is_the_local_day(client, bank):
    """A pass submitted at 00:30 in Beijing (the 16th in UTC) is dated the 17th."""
    shanghai = datetime.timezone(datetime.timedelta(hours=8))
    session = ExamSessionFactory(
        paper=fixed_paper(bank),
        opens_at=datetime.datetime(2026, 3, 1, tzinfo=shanghai),
        closes_at=datetime.datetime(2026, 3, 31, tzinfo=shanghai),
    )
    started = datetime.datetime(2026, 3, 17, 0, 10, tzinfo=shanghai)
    attempt = sit(
        session,
        OfficialFactory(),
        right=9,
        now=started,
        submitted=started + datetime.timedelta(minutes=20),
    )
    certificate = certificates.issue_for_attempt(attempt)
    assert shown(client.get(page(certificate.code))).fields["date"] == "2026-03-17"
