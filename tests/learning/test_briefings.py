"""明白纸 with read receipts: confirming (once, only for oneself, only while the sheet
is in force and meant for one), the right answers shown afterwards, the audit row,
the notice on first publication, and the page's next step."""

import datetime

from django.urls import reverse
from django.utils import timezone

from wagtail.models import PageLogEntry

import pytest

from learning.briefings import receipts
from learning.briefings.models import BriefingReceipt
from learning.models import Delivery, NoticeKind
from learning.models.study import Audience
from tests.factories import DepartmentFactory, OfficialFactory

from .briefing_factories import make_sheet, right_answers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def sheet(db):
    return make_sheet()


def confirm_url(sheet):
    return reverse("briefings:confirm", args=[sheet.pk])


def test_confirming_twice_keeps_the_first_receipt(sheet, official):
    first = receipts.confirm(sheet, official.user, right_answers(sheet, wrong=[1]))
    again = receipts.confirm(sheet, official.user, right_answers(sheet))
    assert first.created and not again.created
    assert again.receipt.pk == first.receipt.pk
    assert BriefingReceipt.objects.filter(sheet=sheet).count() == 1
    receipt = BriefingReceipt.objects.get()
    assert receipt.correct == 2 and len(receipt.answers) == 3


def test_answers_to_other_questions_and_unknown_letters_are_dropped(sheet, official):
    other = make_sheet("另一张")
    data = {**right_answers(other), f"q{sheet.questions.first().pk}": "Z"}
    receipt = receipts.confirm(sheet, official.user, data).receipt
    assert receipt.answers == {} and receipt.correct == 0


def test_a_post_naming_another_official_confirms_only_the_signed_in_one(client, sheet, official):
    other = OfficialFactory()
    client.force_login(official.user)
    data = {**right_answers(sheet), "official": other.pk, "user": other.user.pk}
    response = client.post(confirm_url(sheet), data)
    assert response.status_code == 302
    assert list(BriefingReceipt.objects.values_list("official_id", flat=True)) == [official.pk]


def test_wrong_answers_are_allowed_and_the_page_then_shows_the_right_ones(client, sheet, official):
    client.force_login(official.user)
    response = client.post(confirm_url(sheet), right_answers(sheet, wrong=[0]), follow=True)
    assert response.redirect_chain == [(sheet.url + "#answers", 302)]
    html = response.content.decode()
    assert 'id="briefing-form"' not in html
    assert html.count("is-wrong") == 1 and html.count("is-right") == 2
    assert "Right answer: B. 不可以" in html
    assert "微信不得传递涉密信息。" in html and "及时报告保密工作机构。" in html
    assert "2 of 3 answers were right" in html


def test_before_confirming_the_page_hides_the_answers(client, sheet, official):
    client.force_login(official.user)
    html = client.get(sheet.url).content.decode()
    assert 'id="briefing-form"' in html
    assert "Right answer" not in html and "微信不得传递涉密信息。" not in html


def test_a_confirmation_is_audited_with_its_address_and_browser(client, sheet, official):
    client.force_login(official.user)
    client.post(
        confirm_url(sheet),
        right_answers(sheet),
        REMOTE_ADDR="10.1.2.3",
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone)",
    )
    receipt = BriefingReceipt.objects.get()
    assert (receipt.client_ip, receipt.user_agent) == ("10.1.2.3", "Mozilla/5.0 (iPhone)")
    entry = PageLogEntry.objects.get(action=receipts.CONFIRMED)
    assert entry.page_id == sheet.pk and entry.user_id == official.user_id
    assert entry.data["official"] == official.pk and entry.data["correct"] == 3
    # A repeat writes nothing more.
    client.post(confirm_url(sheet), right_answers(sheet))
    assert PageLogEntry.objects.filter(action=receipts.CONFIRMED).count() == 1


def test_out_of_validity_is_refused(client, official):
    today = timezone.localdate()
    ahead = make_sheet(valid_from=today + datetime.timedelta(days=1))
    over = make_sheet(
        valid_from=today - datetime.timedelta(days=10), valid_to=today - datetime.timedelta(days=1)
    )
    client.force_login(official.user)
    for sheet in (ahead, over):
        with pytest.raises(receipts.BriefingRefused):
            receipts.confirm(sheet, official.user, {})
        assert client.post(confirm_url(sheet), right_answers(sheet)).status_code == 403
    assert not BriefingReceipt.objects.exists()


def test_only_the_audience_may_confirm(client):
    bureau = DepartmentFactory(name="司法局")
    office = DepartmentFactory(name="法治宣传科", parent=bureau)
    elsewhere = OfficialFactory()
    inside = OfficialFactory(department=office)
    leader = OfficialFactory(is_leader=True)
    for_bureau = make_sheet(audience=Audience.DEPARTMENTS, departments=[bureau])
    for_leaders = make_sheet(audience=Audience.LEADERS)
    assert receipts.confirm(for_bureau, inside.user, {}).created  # a sub-department
    assert receipts.confirm(for_leaders, leader.user, {}).created
    client.force_login(elsewhere.user)
    assert client.post(confirm_url(for_bureau), {}).status_code == 403
    assert client.post(confirm_url(for_leaders), {}).status_code == 403
    assert BriefingReceipt.objects.filter(official=elsewhere).count() == 0


def test_an_unpublished_sheet_cannot_be_confirmed(client, official):
    draft = make_sheet(publish=False)
    client.force_login(official.user)
    assert client.post(confirm_url(draft), {}).status_code == 404
    with pytest.raises(receipts.BriefingRefused):
        receipts.confirm(draft, official.user, {})


def test_a_user_without_an_official_profile_is_refused(sheet, hr_only_user):
    with pytest.raises(receipts.BriefingRefused):
        receipts.confirm(sheet, hr_only_user, {})


def test_signed_out_visitors_go_to_sign_in(client, sheet):
    response = client.post(confirm_url(sheet), {})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={confirm_url(sheet)}"
    response = client.get(sheet.url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_get_of_the_confirm_address_is_refused(client, sheet, official):
    client.force_login(official.user)
    assert client.get(confirm_url(sheet)).status_code == 405


def test_after_confirming_the_next_step_is_the_next_unconfirmed_sheet(client, official):
    first = make_sheet("第一张")
    second = make_sheet("第二张")
    client.force_login(official.user)
    html = client.post(confirm_url(first), {}, follow=True).content.decode()
    assert f'id="next-sheet" href="{second.url}"' in html
    html = client.post(confirm_url(second), {}, follow=True).content.decode()
    assert 'id="next-sheet"' not in html and 'id="back-to-dashboard"' in html


# --- Notices on first publication -------------------------------------------------------


@pytest.fixture
def email_only(settings):
    settings.XUEFA_NOTICE_CHANNELS = ["email"]


def test_first_publication_notifies_the_audience_once(
    email_only, django_capture_on_commit_callbacks
):
    leader = OfficialFactory(is_leader=True)
    OfficialFactory()  # not a leader: not told
    with django_capture_on_commit_callbacks(execute=True):
        sheet = make_sheet(audience=Audience.LEADERS)
    notices = Delivery.objects.filter(kind=NoticeKind.BRIEFING)
    assert list(notices.values_list("user_id", flat=True)) == [leader.user_id]
    assert sheet.title in notices.get().subject
    assert notices.get().url.endswith(sheet.url)
    with django_capture_on_commit_callbacks(execute=True):
        sheet.title = "保密明白纸（修订）"
        sheet.save_revision().publish()
    assert notices.count() == 1


def test_an_unpublished_sheet_notifies_nobody(email_only, django_capture_on_commit_callbacks):
    OfficialFactory()
    with django_capture_on_commit_callbacks(execute=True):
        make_sheet(publish=False)
    assert not Delivery.objects.exists()


def test_nothing_is_sent_before_the_publication_commits(email_only):
    OfficialFactory()
    make_sheet()  # the test's transaction never commits
    assert not Delivery.objects.exists()


@pytest.fixture
def hr_only_user(db):
    from tests.factories import UserFactory

    return UserFactory(roles=["HR"])
