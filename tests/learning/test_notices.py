"""Notices (learning.notices): every backend's real client code against a local server
that records the requests; deliveries recorded per person and channel; a gateway's
failure recorded, never raised, the other channels still served; opt-out, missing
addresses, hostile text, sending after the commit; the opt-out page and the log."""

import base64
import datetime
import hashlib
import hmac
import json
import urllib.error
import urllib.parse

from django.core import mail
from django.db import transaction
from django.utils import translation

import pytest

from learning import roles
from learning.models import Delivery, DeliveryStatus, NoticePreference
from learning.notices import NoticeKind, http, notify, prepare, send_deliveries
from learning.notices.backends import aliyun_signature, dingtalk_sign, tc3_authorization
from tests.factories import OfficialFactory, UserFactory

from .notice_server import Answer, GatewayServer

PHONE_CHANNELS = ["email", "sms", "wecom", "wecom_robot", "dingtalk_robot"]
HOSTILE = "<script>alert(\"x\")</script> 'quoted' =cmd|' /C calc'!A0\n第二行 \\ \"end\""


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def gateway():
    server = GatewayServer().start()
    yield server
    server.stop()


@pytest.fixture
def channels(settings, gateway):
    """Every channel switched on and pointed at the recording server."""
    settings.XUEFA_NOTICE_CHANNELS = PHONE_CHANNELS
    settings.XUEFA_NOTICE_TIMEOUT = 1
    settings.XUEFA_NOTICE_INLINE_MAX = 3
    settings.XUEFA_SMS_BACKEND = "http"
    settings.XUEFA_SMS_SIGNATURE = "学法"
    settings.XUEFA_SMS_HTTP_URL = gateway.url + "/sms/send"
    settings.XUEFA_SMS_HTTP_METHOD = "POST"
    settings.XUEFA_SMS_HTTP_FORMAT = "json"
    settings.XUEFA_SMS_HTTP_AUTH_HEADER = "Authorization: Bearer sms-token"
    settings.XUEFA_SMS_HTTP_BODY = '{"to": "{mobile}", "content": "{text}", "tag": "xuefa"}'
    settings.XUEFA_SMS_HTTP_ID_FIELD = "data.id"
    settings.XUEFA_WECOM_API_BASE = gateway.url
    settings.XUEFA_WECOM_CORP_ID = "corp1"
    settings.XUEFA_WECOM_SECRET = "wecom-secret"
    settings.XUEFA_WECOM_AGENT_ID = "1000002"
    settings.XUEFA_WECOM_USER_ID = "staff_number"
    settings.XUEFA_WECOM_ROBOT_URL = gateway.url + "/cgi-bin/webhook/send?key=robot-key"
    settings.XUEFA_DINGTALK_ROBOT_URL = gateway.url + "/robot/send?access_token=ding-token"
    settings.XUEFA_DINGTALK_ROBOT_SECRET = "SEC-ding-secret"
    gateway.answer("/sms/send", body={"code": 0, "data": {"id": "sms-1"}})
    gateway.answer(
        "/cgi-bin/gettoken", body={"errcode": 0, "access_token": "TOKEN-1", "expires_in": 7200}
    )
    gateway.answer("/cgi-bin/message/send", body={"errcode": 0, "errmsg": "ok", "msgid": "wc-1"})
    return gateway


def by_channel(deliveries):
    return {d.channel: d for d in deliveries}


def saved(deliveries):
    return {d.channel: d for d in Delivery.objects.filter(pk__in=[d.pk for d in deliveries])}


@pytest.fixture
def zhang(db):
    return OfficialFactory(
        user=UserFactory(name="张三", email="zhang@example.cn", roles=[roles.OFFICIAL]),
        staff_number="E001",
        mobile="13812345678",
    )


def send(kind, users, capture, **kwargs):
    with capture(execute=True):
        return notify(
            kind,
            users,
            subject=kwargs.pop("subject", "年度考试已开放"),
            body=kwargs.pop("body", "请于本周内完成。"),
            url=kwargs.pop("url", "https://xuefa.example.cn/exams/1/"),
            **kwargs,
        )


# --- every channel, recorded ---------------------------------------------------------------


def test_each_channel_sends_its_own_request_and_records_a_delivery(
    channels, zhang, django_capture_on_commit_callbacks
):
    deliveries = send(NoticeKind.EXAM_OPENING, [zhang.user], django_capture_on_commit_callbacks)
    outcome = saved(deliveries)
    assert {c: d.status for c, d in outcome.items()} == {c: "sent" for c in PHONE_CHANNELS}
    assert all(d.sent_at is not None for d in outcome.values())
    assert outcome["sms"].provider_message_id == "sms-1"
    assert outcome["wecom"].provider_message_id == "wc-1"
    assert outcome["sms"].address == "138****5678"
    assert outcome["email"].address == "z***@example.cn"

    # E-mail: Django's mail.
    assert [m.to for m in mail.outbox] == [["zhang@example.cn"]]
    assert mail.outbox[0].subject == "年度考试已开放"
    assert "https://xuefa.example.cn/exams/1/" in mail.outbox[0].body

    # SMS: the generic gateway's body template, its auth header.
    (sms,) = channels.at("/sms/send")
    assert sms.method == "POST"
    assert sms.headers["authorization"] == "Bearer sms-token"
    assert sms.headers["content-type"].startswith("application/json")
    assert sms.json() == {
        "to": "13812345678",
        "content": "【学法】年度考试已开放 请于本周内完成。 https://xuefa.example.cn/exams/1/",
        "tag": "xuefa",
    }

    # WeCom: a token fetched with the corp id and secret, then message/send with it.
    (token,) = channels.at("/cgi-bin/gettoken")
    assert token.query == {"corpid": "corp1", "corpsecret": "wecom-secret"}
    (message,) = channels.at("/cgi-bin/message/send")
    assert message.query == {"access_token": "TOKEN-1"}
    assert message.json() == {
        "touser": "E001",
        "agentid": 1000002,
        "msgtype": "textcard",
        "textcard": {
            "title": "年度考试已开放",
            "description": "请于本周内完成。",
            "url": "https://xuefa.example.cn/exams/1/",
        },
    }

    # WeCom robot: the webhook's key, the recipient mentioned by mobile.
    (robot,) = channels.at("/cgi-bin/webhook/send")
    assert robot.query == {"key": "robot-key"}
    assert robot.json()["text"]["mentioned_mobile_list"] == ["13812345678"]
    assert robot.json()["text"]["content"].startswith("年度考试已开放\n请于本周内完成。")

    # DingTalk robot: signed with HMAC-SHA256 over "timestamp\nsecret".
    (ding,) = channels.at("/robot/send")
    assert ding.query["access_token"] == "ding-token"
    timestamp = ding.query["timestamp"]
    expected = base64.b64encode(
        hmac.new(
            b"SEC-ding-secret", f"{timestamp}\nSEC-ding-secret".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert ding.query["sign"] == expected
    assert abs(int(timestamp) / 1000 - datetime.datetime.now().timestamp()) < 60
    assert ding.json()["at"] == {"atMobiles": ["13812345678"], "isAtAll": False}
    assert ding.json()["msgtype"] == "text"


def test_the_mobile_number_is_never_stored_or_logged_in_full(
    channels, zhang, django_capture_on_commit_callbacks, caplog
):
    channels.answer("/sms/send", status=500, body={"error": "13812345678 is not reachable"})
    channels.answer("/robot/send", body={"errcode": 1, "errmsg": "bad mobile +8613812345678"})
    deliveries = send(NoticeKind.EXAM_OPENING, [zhang.user], django_capture_on_commit_callbacks)
    outcome = saved(deliveries)
    assert outcome["sms"].status == outcome["dingtalk_robot"].status == "failed"
    assert "138****5678 is not reachable" in outcome["sms"].error
    assert "+86138****5678" in outcome["dingtalk_robot"].error
    stored = list(Delivery.objects.values_list("address", "error", "provider_message_id"))
    assert "13812345678" not in json.dumps(stored)
    assert "13812345678" not in caplog.text


def test_a_gateway_answering_500_fails_its_delivery_and_the_others_still_go(
    channels, zhang, django_capture_on_commit_callbacks
):
    channels.answer("/sms/send", status=500, body={"error": "gateway down"})
    channels.answer("/robot/send", body={"errcode": 310000, "errmsg": "sign not match"})
    deliveries = send(NoticeKind.EXAM_OPENING, [zhang.user], django_capture_on_commit_callbacks)
    outcome = saved(deliveries)
    assert outcome["sms"].status == DeliveryStatus.FAILED
    assert outcome["sms"].error.startswith("HTTP 500:")
    assert "gateway down" in outcome["sms"].error
    assert outcome["sms"].sent_at is None
    assert outcome["dingtalk_robot"].status == DeliveryStatus.FAILED
    assert "310000" in outcome["dingtalk_robot"].error
    assert "sign not match" in outcome["dingtalk_robot"].error
    for channel in ("email", "wecom", "wecom_robot"):
        assert outcome[channel].status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


def test_a_gateway_that_does_not_answer_in_time_fails_with_the_reason(
    channels, zhang, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_NOTICE_TIMEOUT = 0.3
    channels.answer("/sms/send", status=200, body={"data": {"id": "late"}}, delay=1.5)
    deliveries = send(NoticeKind.EXAM_OPENING, [zhang.user], django_capture_on_commit_callbacks)
    outcome = saved(deliveries)
    assert outcome["sms"].status == DeliveryStatus.FAILED
    assert outcome["sms"].error == "no answer within 0.3 s"
    assert outcome["email"].status == outcome["wecom"].status == DeliveryStatus.SENT
    assert len(channels.at("/sms/send")) == 1  # a timeout is not retried


def test_a_gateway_nobody_listens_on_fails_without_raising(
    channels, zhang, settings, django_capture_on_commit_callbacks
):
    closed = GatewayServer()
    url = closed.url
    closed.httpd.server_close()  # the port is free: the connection is refused
    settings.XUEFA_SMS_HTTP_URL = url + "/sms/send"
    deliveries = send(NoticeKind.EXAM_OPENING, [zhang.user], django_capture_on_commit_callbacks)
    outcome = saved(deliveries)
    assert outcome["sms"].status == DeliveryStatus.FAILED
    assert outcome["sms"].error.startswith("connection failed:")
    assert outcome["email"].status == DeliveryStatus.SENT


def test_a_gateway_that_stops_answering_is_not_asked_a_thousand_times(
    channels, db, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_NOTICE_CHANNELS = ["sms"]
    settings.XUEFA_NOTICE_TIMEOUT = 0.3
    channels.answer("/sms/send", status=200, body={"data": {"id": "late"}}, delay=1)
    officials = OfficialFactory.create_batch(5)
    send(NoticeKind.EXAM_OPENING, [o.user for o in officials], django_capture_on_commit_callbacks)
    errors = sorted(Delivery.objects.values_list("error", flat=True))
    assert (
        errors
        == ["no answer within 0.3 s"] * 3 + ["not tried: the gateway did not answer 3 times"] * 2
    )
    assert len(channels.at("/sms/send")) == 3


def test_a_refused_connection_is_tried_once_more_and_no_more(monkeypatch):
    calls = []

    def refused_once(request):
        calls.append(request.full_url)
        if len(calls) == 1:
            raise urllib.error.URLError(ConnectionRefusedError(111, "refused"))
        return http.Response(200, b'{"ok": true}')

    monkeypatch.setattr(http, "_open", refused_once)
    assert http.call("GET", "http://127.0.0.1:9/x").json() == {"ok": True}
    assert len(calls) == 2

    calls.clear()

    def too_slow(request):
        calls.append(request.full_url)
        raise TimeoutError

    monkeypatch.setattr(http, "_open", too_slow)
    with pytest.raises(http.GatewayError, match="no answer within"):
        http.call("GET", "http://127.0.0.1:9/x")
    assert len(calls) == 1  # a timeout is never retried


def test_a_backend_bug_is_recorded_and_the_other_channels_still_go(
    channels, zhang, monkeypatch, django_capture_on_commit_callbacks
):
    from learning.notices import backends

    def broken(notice, mobile):
        raise KeyError("template")

    monkeypatch.setitem(backends.SMS_GATEWAYS, "http", broken)
    deliveries = send(NoticeKind.EXAM_OPENING, [zhang.user], django_capture_on_commit_callbacks)
    outcome = saved(deliveries)
    assert outcome["sms"].status == DeliveryStatus.FAILED
    assert outcome["sms"].error == "KeyError: 'template'"
    assert outcome["wecom"].status == DeliveryStatus.SENT


# --- who is reached --------------------------------------------------------------------


def test_opted_out_channels_are_skipped_but_email_stays(
    channels, zhang, django_capture_on_commit_callbacks
):
    NoticePreference.objects.create(user=zhang.user, opted_out=["sms", "wecom", "email"])
    deliveries = send(NoticeKind.EXAM_OPENING, [zhang.user], django_capture_on_commit_callbacks)
    outcome = saved(deliveries)
    assert outcome["sms"].status == outcome["wecom"].status == DeliveryStatus.OPTED_OUT
    assert outcome["email"].status == DeliveryStatus.SENT  # cannot be switched off
    assert not channels.at("/sms/send") and not channels.at("/cgi-bin/message/send")
    assert len(mail.outbox) == 1


def test_people_without_an_address_are_recorded_as_skipped(
    channels, db, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_WECOM_USER_ID = "none"
    no_mobile = OfficialFactory(user=UserFactory(email=""), mobile="")
    staff = UserFactory(roles=[roles.ORGANIZER])  # no Official profile at all
    deliveries = send(
        NoticeKind.SCREEN_OFFLINE, [no_mobile.user, staff], django_capture_on_commit_callbacks
    )
    rows = {(d.user_id, d.channel): d.status for d in Delivery.objects.all()}
    assert rows[(no_mobile.user.pk, "email")] == DeliveryStatus.NO_ADDRESS
    assert rows[(no_mobile.user.pk, "sms")] == DeliveryStatus.NO_ADDRESS
    assert rows[(no_mobile.user.pk, "wecom")] == DeliveryStatus.NO_ADDRESS
    assert rows[(staff.pk, "email")] == DeliveryStatus.SENT
    assert rows[(staff.pk, "sms")] == DeliveryStatus.NO_ADDRESS
    assert len(deliveries) == 10
    assert not channels.at("/sms/send")
    assert not channels.at("/robot/send")  # nobody to mention


def test_robots_carry_no_personal_notices_by_default(
    channels, zhang, django_capture_on_commit_callbacks
):
    deliveries = send(NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks)
    assert set(by_channel(deliveries)) == {"email", "sms", "wecom"}
    assert not channels.at("/robot/send") and not channels.at("/cgi-bin/webhook/send")


def test_only_the_channels_switched_on_are_used(
    channels, zhang, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_NOTICE_CHANNELS = ["email", "no-such-channel"]
    deliveries = send(NoticeKind.EXAM_OPENING, [zhang.user], django_capture_on_commit_callbacks)
    assert [d.channel for d in deliveries] == ["email"]
    assert not channels.requests


def test_inactive_users_and_duplicates_are_left_out(
    channels, zhang, django_capture_on_commit_callbacks
):
    gone = OfficialFactory(user=UserFactory(is_active=False))
    deliveries = send(
        NoticeKind.RESULT, [zhang.user, zhang.user, gone.user], django_capture_on_commit_callbacks
    )
    assert {d.user_id for d in deliveries} == {zhang.user.pk}
    assert len(deliveries) == 3


# --- hostile text ---------------------------------------------------------------------------


def test_hostile_text_is_sent_as_text_json_escaped(
    channels, zhang, django_capture_on_commit_callbacks
):
    deliveries = send(
        NoticeKind.EXAM_OPENING,
        [zhang.user],
        django_capture_on_commit_callbacks,
        subject=HOSTILE,
        body=HOSTILE,
        url="",
    )
    assert {d.status for d in saved(deliveries).values()} == {DeliveryStatus.SENT}
    one_line = " ".join(HOSTILE.split())
    (sms,) = channels.at("/sms/send")
    assert sms.json()["content"] == f"【学法】{one_line} {one_line}"
    assert sms.json()["to"] == "13812345678"  # the text did not break out of its field
    (message,) = channels.at("/cgi-bin/message/send")
    assert message.json()["msgtype"] == "text"
    assert message.json()["text"]["content"] == f"{one_line}\n{HOSTILE}"
    (ding,) = channels.at("/robot/send")
    assert ding.json()["text"]["content"] == f"{one_line}\n{HOSTILE}"
    assert ding.json()["at"]["atMobiles"] == ["13812345678"]
    assert mail.outbox[0].subject == one_line  # no header injection by a newline


def test_hostile_text_in_a_form_gateway_stays_in_its_field(
    channels, zhang, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_SMS_HTTP_FORMAT = "form"
    settings.XUEFA_SMS_HTTP_BODY = '{"phone": "{mobile}", "msg": "{text}"}'
    settings.XUEFA_SMS_SIGNATURE = ""
    send(
        NoticeKind.RESULT,
        [zhang.user],
        django_capture_on_commit_callbacks,
        subject="a&phone=13900000000",
        body="=cmd|' /C calc'!A0",
        url="",
    )
    (sms,) = channels.at("/sms/send")
    assert sms.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sms.form() == {"phone": "13812345678", "msg": "a&phone=13900000000 =cmd|' /C calc'!A0"}


# --- when sending happens -----------------------------------------------------------------


def test_nothing_is_sent_before_the_commit_nor_after_a_rollback(channels, zhang):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(NoticeKind.RESULT, [zhang.user], subject="结果", body="")
        raise RuntimeError("the caller's change failed")
    assert not channels.requests and not mail.outbox
    assert not Delivery.objects.exists()


def test_deliveries_are_pending_until_the_commit(
    channels, zhang, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        deliveries = notify(NoticeKind.RESULT, [zhang.user], subject="结果", body="")
        assert {d.status for d in deliveries} == {DeliveryStatus.PENDING}
        assert not channels.requests and not mail.outbox
    assert len(callbacks) == 1
    callbacks[0]()
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}  # the caller's copies too


def test_many_recipients_go_through_a_task(
    channels, db, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_NOTICE_CHANNELS = ["email", "wecom"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    officials = OfficialFactory.create_batch(5)
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = notify(
            NoticeKind.EXAM_OPENING, [o.user for o in officials], subject="开考", body=""
        )
    assert len(deliveries) == 10
    assert not mail.outbox and not channels.requests  # queued, not sent in the request
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 10

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        notify(NoticeKind.EXAM_OPENING, [o.user for o in officials], subject="开考", body="")
    assert len(mail.outbox) == 5
    (message,) = channels.at("/cgi-bin/message/send")  # one message for the five
    assert sorted(message.json()["touser"].split("|")) == sorted(o.staff_number for o in officials)
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 10


def test_send_deliveries_sends_each_pending_delivery_once(channels, zhang):
    deliveries = prepare(NoticeKind.RESULT, [zhang.user], subject="结果", body="")
    send_deliveries(deliveries)
    send_deliveries(deliveries)
    assert len(mail.outbox) == 1 and len(channels.at("/sms/send")) == 1


# --- WeCom's access token -------------------------------------------------------------------


def test_the_wecom_token_is_cached_and_renewed_when_expired(
    channels, zhang, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_NOTICE_CHANNELS = ["wecom"]
    send(NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks)
    send(NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks)
    assert len(channels.at("/cgi-bin/gettoken")) == 1
    assert len(channels.at("/cgi-bin/message/send")) == 2

    channels.answer(
        "/cgi-bin/message/send",
        Answer(body={"errcode": 42001, "errmsg": "access_token expired"}),
        Answer(body={"errcode": 0, "errmsg": "ok", "msgid": "wc-2"}),
    )
    channels.answer(
        "/cgi-bin/gettoken", body={"errcode": 0, "access_token": "TOKEN-2", "expires_in": 7200}
    )
    deliveries = send(NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks)
    assert saved(deliveries)["wecom"].provider_message_id == "wc-2"
    assert channels.at("/cgi-bin/message/send")[-1].query == {"access_token": "TOKEN-2"}


def test_wecom_reports_unknown_users_one_by_one(
    channels, zhang, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_NOTICE_CHANNELS = ["wecom"]
    other = OfficialFactory(user=UserFactory(username="e404"))
    settings.XUEFA_WECOM_USER_ID = "username"
    zhang.user.username = "zhangsan"
    zhang.user.save()
    channels.answer(
        "/cgi-bin/message/send",
        body={"errcode": 0, "errmsg": "ok", "invaliduser": "e404", "msgid": "wc-3"},
    )
    deliveries = send(
        NoticeKind.RESULT, [zhang.user, other.user], django_capture_on_commit_callbacks
    )
    statuses = {d.user_id: (d.status, d.address) for d in Delivery.objects.all()}
    assert statuses[zhang.user.pk] == (DeliveryStatus.SENT, "zhangsan")
    assert statuses[other.user.pk] == (DeliveryStatus.FAILED, "e404")
    assert channels.at("/cgi-bin/message/send")[0].json()["touser"] == "zhangsan|e404"
    assert len(deliveries) == 2


# --- Aliyun and Tencent Cloud SMS ---------------------------------------------------------


def test_aliyun_signature_matches_the_documented_example():
    """The example of Aliyun's SMS signature documentation (testId / testSecret)."""
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_tencent_signature_matches_the_documented_example():
    """The worked example of Tencent Cloud's API 3.0 signature documentation."""
    payload = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    authorization = tc3_authorization(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        service="cvm",
        headers={
            "content-type": "application/json; charset=utf-8",
            "host": "cvm.tencentcloudapi.com",
        },
        payload=payload,
        timestamp=1551113065,
    )
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_dingtalk_signature_is_hmac_sha256_of_timestamp_and_secret():
    digest = hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()
    assert dingtalk_sign("SECabc", 1700000000000) == base64.b64encode(digest).decode()


@pytest.fixture
def aliyun(channels, settings):
    settings.XUEFA_NOTICE_CHANNELS = ["sms"]
    settings.XUEFA_SMS_BACKEND = "aliyun"
    settings.XUEFA_SMS_ALIYUN_ENDPOINT = channels.url + "/"
    settings.XUEFA_SMS_ALIYUN_ACCESS_KEY_ID = "LTAI-test"
    settings.XUEFA_SMS_ALIYUN_ACCESS_KEY_SECRET = "aliyun-secret"
    settings.XUEFA_SMS_ALIYUN_TEMPLATE = "SMS_123"
    channels.answer("/", body={"Code": "OK", "Message": "OK", "BizId": "biz-1", "RequestId": "r1"})
    return channels


def test_aliyun_sms_request_is_signed_and_carries_the_template(
    aliyun, zhang, django_capture_on_commit_callbacks
):
    deliveries = send(
        NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks, subject=HOSTILE
    )
    assert saved(deliveries)["sms"].provider_message_id == "biz-1"
    (request,) = aliyun.at("/")
    assert request.method == "POST"
    params = request.form()
    signature = params.pop("Signature")
    assert signature == aliyun_signature(params, "aliyun-secret", "POST")
    assert params["Action"] == "SendSms" and params["Version"] == "2017-05-25"
    assert params["PhoneNumbers"] == "13812345678"
    assert params["SignName"] == "学法" and params["TemplateCode"] == "SMS_123"
    assert params["SignatureMethod"] == "HMAC-SHA1" and params["AccessKeyId"] == "LTAI-test"
    template = json.loads(params["TemplateParam"])
    assert template["url"] == "https://xuefa.example.cn/exams/1/"
    assert template["subject"] == " ".join(HOSTILE.split())[:34] + "…"
    # Spaces are %20 in the body, as the signature's encoding has them.
    assert "+" not in request.body.decode()


def test_aliyun_refusal_is_recorded(aliyun, zhang, django_capture_on_commit_callbacks):
    aliyun.answer("/", body={"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"})
    deliveries = send(NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks)
    sms = saved(deliveries)["sms"]
    assert sms.status == DeliveryStatus.FAILED
    assert sms.error == "Aliyun isv.BUSINESS_LIMIT_CONTROL: 触发流控"


@pytest.fixture
def tencent(channels, settings):
    settings.XUEFA_NOTICE_CHANNELS = ["sms"]
    settings.XUEFA_SMS_BACKEND = "tencent"
    settings.XUEFA_SMS_TENCENT_ENDPOINT = channels.url + "/"
    settings.XUEFA_SMS_TENCENT_SECRET_ID = "AKID-test"
    settings.XUEFA_SMS_TENCENT_SECRET_KEY = "tencent-key"
    settings.XUEFA_SMS_TENCENT_SDK_APP_ID = "1400000001"
    settings.XUEFA_SMS_TENCENT_TEMPLATE = "449739"
    channels.answer(
        "/",
        body={
            "Response": {
                "SendStatusSet": [
                    {"SerialNo": "serial-1", "Code": "Ok", "Message": "send success"}
                ],
                "RequestId": "r1",
            }
        },
    )
    return channels


def test_tencent_sms_request_is_signed_and_carries_the_template(
    tencent, zhang, django_capture_on_commit_callbacks
):
    deliveries = send(NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks)
    assert saved(deliveries)["sms"].provider_message_id == "serial-1"
    (request,) = tencent.at("/")
    headers = request.headers
    assert headers["x-tc-action"] == "SendSms" and headers["x-tc-version"] == "2021-01-11"
    assert headers["x-tc-region"] == "ap-guangzhou"
    expected = tc3_authorization(
        secret_id="AKID-test",
        secret_key="tencent-key",
        service="sms",
        headers={
            "content-type": headers["content-type"],
            "host": headers["host"],
            "x-tc-action": "SendSms",
        },
        payload=request.body,
        timestamp=int(headers["x-tc-timestamp"]),
    )
    assert headers["authorization"] == expected
    assert request.json() == {
        "PhoneNumberSet": ["+8613812345678"],
        "SmsSdkAppId": "1400000001",
        "SignName": "学法",
        "TemplateId": "449739",
        "TemplateParamSet": ["年度考试已开放", "https://xuefa.example.cn/exams/1/"],
    }


def test_tencent_refusal_is_recorded(tencent, zhang, django_capture_on_commit_callbacks):
    tencent.answer(
        "/",
        body={
            "Response": {
                "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad sign"},
                "RequestId": "r2",
            }
        },
    )
    deliveries = send(NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks)
    assert saved(deliveries)["sms"].error == "Tencent AuthFailure.SignatureFailure: bad sign"


def test_generic_gateway_by_get_puts_the_fields_in_the_query(
    channels, zhang, settings, django_capture_on_commit_callbacks
):
    settings.XUEFA_NOTICE_CHANNELS = ["sms"]
    settings.XUEFA_SMS_HTTP_METHOD = "GET"
    settings.XUEFA_SMS_HTTP_URL = channels.url + "/sms/send?user=xuefa"
    send(NoticeKind.RESULT, [zhang.user], django_capture_on_commit_callbacks, subject="a&b=c")
    (request,) = channels.at("/sms/send")
    assert request.method == "GET"
    assert request.query["user"] == "xuefa"
    assert request.query["to"] == "13812345678"
    assert request.query["content"].startswith("【学法】a&b=c ")


# --- the opt-out page -----------------------------------------------------------------------

PAGE = "/me/notices/"


def test_the_page_lists_optional_channels_and_masked_addresses(client, zhang, channels):
    client.force_login(zhang.user)
    page = client.get(PAGE).content.decode()
    for label in ("SMS", "WeCom work notification", "WeCom group robot", "DingTalk group robot"):
        assert f"> {label}</label>" in page or f">{label}</label>" in page or label in page
    assert 'name="receive" value="email"' not in page  # e-mail cannot be switched off
    assert page.count('name="receive"') == 4
    assert page.count("checked") == 4
    assert "138****5678" in page and "13812345678" not in page
    assert "/me/notices/" in client.get("/accounts/password/change/").content.decode()


def test_switching_channels_off_and_on(client, zhang, channels):
    client.force_login(zhang.user)
    response = client.post(PAGE, {"receive": ["wecom", "dingtalk_robot"]})
    assert response.status_code == 302 and response["Location"] == PAGE
    preference = NoticePreference.objects.get(user=zhang.user)
    assert preference.opted_out == ["sms", "wecom_robot"]
    page = client.get(PAGE).content.decode()
    assert page.count("checked") == 2
    client.post(PAGE, {"receive": ["sms", "wecom", "wecom_robot", "dingtalk_robot"]})
    preference.refresh_from_db()
    assert preference.opted_out == []


def test_a_choice_about_a_channel_switched_off_now_is_kept(client, zhang, settings, channels):
    NoticePreference.objects.create(user=zhang.user, opted_out=["wecom"])
    settings.XUEFA_NOTICE_CHANNELS = ["email", "sms"]
    client.force_login(zhang.user)
    client.post(PAGE, {"receive": []})
    assert NoticePreference.objects.get(user=zhang.user).opted_out == ["sms", "wecom"]


def test_the_page_refuses_what_it_must(client, zhang, channels):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(PAGE, {"receive": []}).status_code == 302
    assert not NoticePreference.objects.exists()

    client.force_login(zhang.user)
    response = client.post(PAGE, {"receive": ["sms", "<script>"]})
    assert response.status_code == 200
    page = response.content.decode()
    assert "&lt;script&gt; is not one of the available choices" in page
    assert "<script> is not" not in page
    # E-mail cannot be switched off, so it is no choice to make.
    response = client.post(PAGE, {"receive": ["email"]})
    assert "email is not one of the available choices" in response.content.decode()
    assert not NoticePreference.objects.exists()
    assert client.put(PAGE).status_code == 405

    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(zhang.user)
    assert csrf_client.post(PAGE, {"receive": []}).status_code == 403
    assert not NoticePreference.objects.exists()


def test_the_page_escapes_what_people_typed(client, db, channels):
    official = OfficialFactory(user=UserFactory(email="a@example.cn"), staff_number='<b>"x"</b>')
    client.force_login(official.user)
    page = client.get(PAGE).content.decode()
    assert '<b>"x"</b>' not in page and "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in page


# --- the delivery log ---------------------------------------------------------------------

LOG = "/admin/notices/deliveries/"


def test_hr_and_organizers_read_the_log_with_masked_numbers(
    client, zhang, hr_user, organizer, channels, django_capture_on_commit_callbacks
):
    channels.answer("/sms/send", status=500, body={"error": "<img src=x onerror=alert(1)>"})
    send(
        NoticeKind.EXAM_OPENING,
        [zhang.user],
        django_capture_on_commit_callbacks,
        subject="<script>alert(1)</script>",
    )
    for user in (hr_user, organizer):
        client.force_login(user)
        page = client.get(LOG).content.decode()
        assert "138****5678" in page and "13812345678" not in page
        assert "<script>alert(1)</script>" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;" in page
        filtered = client.get(LOG, {"channel": "sms", "status": "failed"}).content.decode()
        assert filtered.count("138****5678") >= 1
        assert "z***@example.cn" not in filtered
        by_kind = client.get(LOG, {"kind": "result"}).content.decode()
        assert "138****5678" not in by_kind
        delivery = Delivery.objects.get(channel="sms")
        inspect = client.get(f"{LOG}inspect/{delivery.pk}/")
        assert inspect.status_code == 200
        assert "13812345678" not in inspect.content.decode()


def test_the_log_is_read_only_and_closed_to_officials(client, zhang, hr_user, superuser):
    client.force_login(zhang.user)
    assert client.get(LOG).status_code == 403
    client.force_login(hr_user)
    assert client.get(LOG + "add/").status_code == 404
    assert client.get(LOG + "edit/1/").status_code == 404
    assert client.get(LOG + "delete/1/").status_code == 404
    client.force_login(superuser)
    assert client.get(LOG).status_code == 200
    client.logout()
    response = client.get(LOG)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_log_is_in_the_reports_menu_for_hr(client, hr_user):
    client.force_login(hr_user)
    page = client.get("/admin/").content.decode()
    assert urllib.parse.quote(LOG) in page or LOG in page
