"""Officials' mobile numbers sealed with SM4-GCM at rest while XUEFA_SM_CRYPTO is on
(GB/T 39786 storage confidentiality and integrity): the column holds no plain
number, the ORM, the admin, the exports and the roster import see plain numbers,
exact lookups find them through the HMAC-SM3 digest, key rotation leaves no value
needing an old key, and with the switch off everything is as before."""

import io

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import translation

import openpyxl
import pytest

from learning import crypto, import_jobs, roster
from learning.models import ImportJob, Official
from tests import messy_files
from tests.admin_forms import edit_form_data
from tests.factories import DepartmentFactory, OfficialFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not crypto.sm4_available(),
        reason="the cryptography package's OpenSSL has no SM4-GCM or HMAC-SM3: personal "
        "data cannot be sealed on this machine",
    ),
]

K1 = "k1:" + "01" * 16
K2 = "k2:" + "03" * 16
DIGEST_KEY = "02" * 32
ON = {"XUEFA_SM_CRYPTO": True, "XUEFA_SM4_KEY": K1, "XUEFA_SM3_DIGEST_KEY": DIGEST_KEY}
MOBILE = "13800001234"


def switched_on(**changes):
    return override_settings(**{**ON, **changes})


def stored(official):
    """(mobile, mobile_digest) as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT mobile, mobile_digest FROM learning_official WHERE id = %s", [official.pk]
        )
        return cursor.fetchone()


# --- At rest ------------------------------------------------------------------------------


def test_with_the_switch_on_the_column_holds_no_plain_number():
    with switched_on():
        official = OfficialFactory(mobile=MOBILE)
    mobile, digest = stored(official)
    assert MOBILE not in mobile and mobile.startswith("sm4gcm:k1:")
    assert len(digest) == 64 and MOBILE not in digest
    # The same number sealed twice differs (a fresh nonce each time); the digest does not.
    with switched_on():
        twin = OfficialFactory(mobile=MOBILE)
    assert stored(twin)[0] != mobile and stored(twin)[1] == digest


def test_the_orm_reads_back_the_plain_number():
    with switched_on():
        official = OfficialFactory(mobile=MOBILE)
        assert Official.objects.get(pk=official.pk).mobile == MOBILE
        assert list(Official.objects.values_list("mobile", flat=True)) == [MOBILE]


def test_a_blank_number_stays_blank_and_has_no_digest():
    with switched_on():
        official = OfficialFactory(mobile="")
        assert stored(official) == ("", None)
        assert Official.objects.filter(mobile="").get() == official


def test_a_changed_or_moved_sealed_value_does_not_open():
    with switched_on():
        official = OfficialFactory(mobile=MOBILE)
        sealed = stored(official)[0]
        tampered = sealed[:-2] + ("AA" if sealed[-2:] != "AA" else "BB")
        Official.objects.filter(pk=official.pk).update(mobile=tampered)
        with pytest.raises(crypto.TamperedValue):
            Official.objects.get(pk=official.pk)
        # Authenticated with its column: the same text does not open as another field's.
        with pytest.raises(crypto.TamperedValue):
            crypto.unseal(sealed, "learning.user.email")


# --- Lookups ------------------------------------------------------------------------------


def test_exact_and_in_lookups_find_the_number_through_its_digest():
    with switched_on():
        wang, li = OfficialFactory(mobile=MOBILE), OfficialFactory(mobile="13900009999")
        OfficialFactory(mobile="")
        with CaptureQueriesContext(connection) as queries:
            assert Official.objects.get(mobile=MOBILE) == wang
        assert '"mobile_digest" =' in queries[0]["sql"]
        assert set(Official.objects.filter(mobile__in=[MOBILE, "13900009999"])) == {wang, li}
        assert Official.objects.filter(mobile__in=[MOBILE, ""]).count() == 2
        assert not Official.objects.filter(mobile="13700000000").exists()
        assert Official.objects.exclude(mobile=MOBILE).count() == 2


def test_a_lookup_that_could_only_see_sealed_text_is_refused():
    with switched_on():
        OfficialFactory(mobile=MOBILE)
        with pytest.raises(Exception, match="only exact and __in lookups"):
            list(Official.objects.filter(mobile__startswith="138"))


def test_updates_and_bulk_updates_seal_and_keep_the_digest_in_step():
    with switched_on():
        official = OfficialFactory(mobile=MOBILE)
        Official.objects.filter(pk=official.pk).update(mobile="13900000001")
        assert stored(official)[0].startswith("sm4gcm:")
        assert Official.objects.get(mobile="13900000001") == official
        official.mobile = "13900000002"
        Official.objects.bulk_update([official], ["mobile"])
        assert stored(official)[0].startswith("sm4gcm:")
        assert Official.objects.get(mobile="13900000002") == official
        official.mobile = "13900000003"
        official.save(update_fields=["mobile"])
        assert Official.objects.get(mobile="13900000003") == official
        assert not Official.objects.filter(mobile="13900000002").exists()


# --- Where people see the number ------------------------------------------------------------


@pytest.fixture
def hr_client(client, hr_user):
    client.force_login(hr_user)
    return client


def test_hr_edits_a_number_in_the_admin_and_exports_it_in_plain_text(hr_client):
    with switched_on():
        official = OfficialFactory(mobile=MOBILE)
        url = f"/admin/officials/edit/{official.pk}/"
        data = edit_form_data(hr_client, url)
        assert data["mobile"] == MOBILE
        assert hr_client.post(url, {**data, "mobile": "13900000001"}).status_code == 302
        assert stored(official)[0].startswith("sm4gcm:")
        assert Official.objects.get(mobile="13900000001") == official
        export = hr_client.get("/admin/officials/?export=csv")
        assert "13900000001" in b"".join(export.streaming_content).decode()
        inspect = hr_client.get(f"/admin/officials/inspect/{official.pk}/").content.decode()
        assert "13900000001" in inspect and stored(official)[1] not in inspect


HEADER = ["姓名", "工号", "部门", "科室", "职务", "是否领导干部", "手机号码"]


def import_roster(rows):
    data = messy_files.xlsx([HEADER, *rows])
    preview, _plan = roster.plan_file(data, "roster.xlsx")
    assert not preview.errors, [str(p) for p in preview.errors]
    return roster.apply_file(data, "roster.xlsx", preview.fingerprint, {"deactivate": []})


def test_the_roster_import_seals_new_and_changed_numbers_and_exports_them_plain():
    DepartmentFactory(name="区财政局")
    with switched_on(PASSWORD_HASHERS=["learning.hashers.InitialSM3PasswordHasher"]):
        import_roster([["张三", "BH1001", "区财政局", "", "科员", "否", "13800001001"]])
        zhang = Official.objects.get(staff_number="BH1001")
        assert stored(zhang)[0].startswith("sm4gcm:")
        assert zhang.user.password.startswith("pbkdf2_sm3_initial$")
        again = import_roster([["张三", "BH1001", "区财政局", "", "科员", "否", "13800001001"]])
        assert again["unchanged"] == 1, "a sealed number compares as the plain one"
        changed = import_roster([["张三", "BH1001", "区财政局", "", "科员", "否", "13900001001"]])
        assert changed["updated"] == 1
        assert Official.objects.get(mobile="13900001001") == zhang
        sheet = openpyxl.load_workbook(io.BytesIO(roster.export_workbook())).active
        assert "13900001001" in [cell.value for cell in sheet[2]]


def test_initial_passwords_kept_for_download_are_sealed_with_sm4(hr_user):
    job = ImportJob.objects.create(kind="roster", requested_by=hr_user, filename="r.xlsx")
    credentials = [["张三", "BH1001", "BH1001", "Ab3dEf6hJk9m"]]
    with switched_on():
        job.sealed = import_jobs.seal(credentials)
        job.save(update_fields=["sealed"])
        assert job.sealed.startswith("sm4gcm:k1:") and "Ab3dEf6hJk9m" not in job.sealed
        assert import_jobs.take_sealed(job) == credentials
        assert import_jobs.take_sealed(job) is None, "taken once"


# --- Turning it on, rotating keys, turning it off ---------------------------------------------


def test_encrypt_personal_data_seals_numbers_stored_before_the_switch_and_is_idempotent():
    official = OfficialFactory(mobile=MOBILE)
    assert stored(official) == (MOBILE, None)
    with switched_on():
        out = io.StringIO()
        call_command("encrypt_personal_data", "--batch-size", "2", stdout=out)
        assert "learning.Official.mobile: 1 sealed" in out.getvalue()
        assert stored(official)[0].startswith("sm4gcm:k1:")
        assert Official.objects.get(mobile=MOBILE) == official
        out = io.StringIO()
        call_command("encrypt_personal_data", stdout=out)
        assert "learning.Official.mobile: 0 sealed" in out.getvalue()


def test_encrypt_personal_data_refuses_while_the_switch_is_off():
    with translation.override("en"), pytest.raises(CommandError, match="XUEFA_SM_CRYPTO is off"):
        call_command("encrypt_personal_data")


def test_a_changed_digest_key_is_applied_by_refresh_digests():
    with switched_on():
        official = OfficialFactory(mobile=MOBILE)
    with switched_on(XUEFA_SM3_DIGEST_KEY="04" * 32):
        assert not Official.objects.filter(mobile=MOBILE).exists()
        call_command("encrypt_personal_data", "--refresh-digests", stdout=io.StringIO())
        assert Official.objects.get(mobile=MOBILE) == official


def test_rotation_moves_every_value_to_the_new_key_and_the_old_key_is_no_longer_needed():
    with switched_on():
        officials = [OfficialFactory(mobile=f"1380000{n:04d}") for n in range(5)]
        digests = [stored(o)[1] for o in officials]
    with switched_on(XUEFA_SM4_KEY=K2), pytest.raises(crypto.UnknownKey):
        Official.objects.get(pk=officials[0].pk)
    with switched_on(XUEFA_SM4_KEY=K2, XUEFA_SM4_OLD_KEYS=[K1]):
        out = io.StringIO()
        call_command("rotate_sm4_key", "--batch-size", "2", stdout=out)
        assert "learning.Official.mobile: 5 moved to key k2" in out.getvalue()
        out = io.StringIO()
        call_command("rotate_sm4_key", stdout=out)
        assert "learning.Official.mobile: 0 moved to key k2" in out.getvalue()
    assert all(stored(o)[0].startswith("sm4gcm:k2:") for o in officials)
    assert [stored(o)[1] for o in officials] == digests
    with switched_on(XUEFA_SM4_KEY=K2):
        assert [Official.objects.get(pk=o.pk).mobile for o in officials] == [
            f"1380000{n:04d}" for n in range(5)
        ]
        assert Official.objects.get(mobile="13800000003") == officials[3]


def test_decrypt_stores_plain_numbers_again_once_the_switch_is_off():
    with switched_on():
        official = OfficialFactory(mobile=MOBILE)
        with (
            translation.override("en"),
            pytest.raises(CommandError, match="Turn XUEFA_SM_CRYPTO off first"),
        ):
            call_command("encrypt_personal_data", "--decrypt")
    with switched_on(XUEFA_SM_CRYPTO=False):
        assert Official.objects.get(pk=official.pk).mobile == MOBILE, "keys still open it"
        call_command("encrypt_personal_data", "--decrypt", stdout=io.StringIO())
    assert stored(official) == (MOBILE, None)


# --- With the switch off, nothing changes ---------------------------------------------------


def test_with_the_switch_off_and_no_key_the_field_is_a_plain_char_field():
    official = OfficialFactory(mobile=MOBILE)
    assert stored(official) == (MOBILE, None)
    field = Official._meta.get_field("mobile")
    assert field.get_db_converters(connection) == []
    with CaptureQueriesContext(connection) as queries:
        assert Official.objects.get(mobile=MOBILE) == official
    assert '"mobile_digest"' not in queries[0]["sql"].split("WHERE")[1]
    assert Official.objects.filter(mobile__startswith="138").get() == official
    Official.objects.filter(pk=official.pk).update(mobile="13900000001")
    official.mobile = "13900000002"
    Official.objects.bulk_update([official], ["mobile"])
    assert stored(official) == ("13900000002", None)


def test_the_column_holds_the_longest_sealed_value_of_its_length():
    longest_id = "k" * 16
    with switched_on(XUEFA_SM4_KEY=f"{longest_id}:" + "01" * 16):
        sealed = crypto.seal("𠀀" * 11, "learning.official.mobile")  # 4 UTF-8 bytes each
    assert len(sealed) == crypto.sealed_length(11) == 120
