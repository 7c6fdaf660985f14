"""The channels a notice can go through. Each backend knows a person's address on its
channel (`address`), how to show it in the log (`mask`) and how to send one notice to
a batch of addresses (`send`), recording the outcome on each `Delivery`; it raises
nothing for a gateway's failure."""

import base64
import contextlib
import datetime
import hashlib
import hmac
import json
import logging
import re
import smtplib
import time
import urllib.parse
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from ..models import DeliveryStatus, NoticeChannel
from ..text import printable
from . import http
from .http import GatewayError

logger = logging.getLogger(__name__)


def _setting(name, default=""):
    return getattr(settings, name, default)


def mask_mobile(mobile):
    """138****5678: enough for a clerk to recognise, not enough to dial."""
    if len(mobile) < 7:
        return "*" * len(mobile)
    return f"{mobile[:3]}{'*' * (len(mobile) - 7)}{mobile[-4:]}"


def mask_email(email):
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def one_line(text):
    return " ".join(printable(text).split())


def text_lines(text):
    """`text` with its line breaks kept and every other control character gone."""
    return "\n".join(printable(line).rstrip() for line in (text or "").splitlines()).strip()


def plain_text(notice, limit=None):
    """Subject, body and link as plain text; `limit` shortens the body to one line."""
    body = text_lines(notice.body)
    if limit is not None:
        body = " ".join(body.split())
    if limit is not None and len(body) > limit:
        body = body[: max(limit - 1, 0)] + "…"
    parts = [one_line(notice.subject), body, notice.url]
    return "\n".join(part for part in parts if part)


class Recipient:
    """A user with what the backends need to reach them, read once per batch."""

    def __init__(self, user, official=None, preference=None):
        self.user = user
        self.official = official
        self.preference = preference

    @property
    def mobile(self):
        # Official.mobile opens the sealed value; never logged in full.
        return (self.official.mobile or "").strip() if self.official else ""

    def opted_out(self, channel):
        return bool(self.preference and channel in (self.preference.opted_out or []))


class ConnectionFailed:
    """What a backend's session yields when it could not connect: every send fails."""

    def __init__(self, error):
        self.reason = f"{type(error).__name__}: {error}"


class Backend:
    channel = None
    optional = True  # a person may switch it off (so their preference is read)
    needs_official = True  # the address comes from the official's profile

    @contextlib.contextmanager
    def session(self):
        """Whatever one send_deliveries shares across its batches (a connection)."""
        yield None

    def address(self, recipient):
        raise NotImplementedError

    def mask(self, address):
        return address

    def send(self, notice, batch, connection=None):
        """Send `notice` to `batch`, a list of (Delivery, address)."""
        raise NotImplementedError


def sent(delivery, message_id=""):
    delivery.status = DeliveryStatus.SENT
    delivery.error = ""
    delivery.provider_message_id = str(message_id or "")[:128]
    delivery.sent_at = timezone.now()


MOBILE_IN_TEXT = re.compile(r"(?<!\d)(\+?86)?(1\d{2})\d{4}(\d{4})(?!\d)")


def scrub(text):
    """`text` with any mainland mobile number in it masked: a gateway's error may
    quote the number it refused."""
    return MOBILE_IN_TEXT.sub(lambda m: f"{m[1] or ''}{m[2]}****{m[3]}", str(text))


def failed(delivery, reason):
    delivery.status = DeliveryStatus.FAILED
    delivery.error = scrub(reason)[:1000]
    delivery.sent_at = None
    logger.warning(
        "Notice (%s) to user %s on %s failed: %s",
        delivery.kind,
        delivery.user_id,
        delivery.channel,
        delivery.error,
    )


# --- E-mail ------------------------------------------------------------------------------


class EmailBackend(Backend):
    """Django's mail: one message per person over one connection. E-mail is the
    channel every notice may use, so it cannot be switched off."""

    channel = NoticeChannel.EMAIL
    optional = False
    needs_official = False

    def address(self, recipient):
        return (recipient.user.email or "").strip()

    def mask(self, address):
        return mask_email(address)

    @contextlib.contextmanager
    def session(self):
        """One connection to the mail server for everything sent in a batch."""
        connection = get_connection()
        try:
            connection.open()
        except (smtplib.SMTPException, OSError) as error:
            yield ConnectionFailed(error)
            return
        try:
            yield connection
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.close()

    def send(self, notice, batch, connection=None):
        if isinstance(connection, ConnectionFailed):
            for delivery, _address in batch:
                failed(delivery, connection.reason)
            return
        if connection is None:
            with self.session() as opened:
                return self.send(notice, batch, opened)
        body = text_lines(notice.body)
        if notice.url and notice.url not in body:
            body = "\n\n".join(part for part in [body, notice.url] if part)
        for delivery, address in batch:
            message = EmailMessage(
                one_line(notice.subject),
                body,
                settings.DEFAULT_FROM_EMAIL,
                [address],
                connection=connection,
            )
            try:
                if message.send():
                    sent(delivery)
                else:
                    failed(delivery, "the mail server accepted nothing")
            except (smtplib.SMTPException, OSError, ValueError) as error:
                failed(delivery, f"{type(error).__name__}: {error}")


# --- SMS ---------------------------------------------------------------------------------


# A gateway that does not answer this many texts in a row is not asked for the rest of
# the batch: a thousand timeouts would hold a worker for over an hour.
GIVE_UP_AFTER = 3


class SmsBackend(Backend):
    """Text messages to the official's mobile, through the gateway `XUEFA_SMS_BACKEND`
    names: a generic HTTP gateway, Aliyun SMS or Tencent Cloud SMS."""

    channel = NoticeChannel.SMS

    def address(self, recipient):
        return recipient.mobile

    def mask(self, address):
        return mask_mobile(address)

    def send(self, notice, batch, connection=None):
        gateway = SMS_GATEWAYS.get(_setting("XUEFA_SMS_BACKEND", "http"))
        if gateway is None:
            for delivery, _address in batch:
                failed(delivery, f"unknown XUEFA_SMS_BACKEND {_setting('XUEFA_SMS_BACKEND')!r}")
            return
        unreachable = 0
        for delivery, mobile in batch:
            if unreachable >= GIVE_UP_AFTER:
                failed(delivery, f"not tried: the gateway did not answer {GIVE_UP_AFTER} times")
                continue
            try:
                sent(delivery, gateway(notice, mobile))
                unreachable = 0
            except GatewayError as error:
                failed(delivery, error)
                unreachable = unreachable + 1 if error.unreachable else 0


def sms_text(notice):
    text = plain_text(notice, limit=int(_setting("XUEFA_SMS_BODY_CHARS", 200)))
    text = " ".join(text.split("\n"))
    signature = _setting("XUEFA_SMS_SIGNATURE")
    return f"【{signature}】{text}" if signature else text


def _fill(template, values):
    """The body template with each "{name}" in its strings replaced by its value: the
    values are inserted as data, then the whole encoded once, so nothing in them can
    break out of a JSON string or a form field."""
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
    return template


def _dig(data, path):
    for part in path.split("."):
        if not isinstance(data, dict):
            return ""
        data = data.get(part, "")
    return data if isinstance(data, str | int) else ""


def send_sms_http(notice, mobile):
    """A generic gateway: `XUEFA_SMS_HTTP_URL`, method, one auth header and a body
    template (JSON or form) with {mobile}, {text}, {subject} and {url}."""
    url = _setting("XUEFA_SMS_HTTP_URL")
    if not url:
        raise GatewayError("XUEFA_SMS_HTTP_URL is not set")
    values = {
        "mobile": mobile,
        "text": sms_text(notice),
        "subject": one_line(notice.subject),
        "url": notice.url,
    }
    try:
        template = json.loads(_setting("XUEFA_SMS_HTTP_BODY") or '{"mobile": "{mobile}"}')
    except ValueError:
        raise GatewayError("XUEFA_SMS_HTTP_BODY is not JSON") from None
    payload = _fill(template, values)
    headers = {}
    auth = _setting("XUEFA_SMS_HTTP_AUTH_HEADER")
    if auth:
        name, _colon, value = auth.partition(":")
        headers[name.strip()] = value.strip()
    method = _setting("XUEFA_SMS_HTTP_METHOD", "POST").upper()
    if method == "GET":
        answer = http.call("GET", http.with_query(url, payload), headers=headers)
    elif _setting("XUEFA_SMS_HTTP_FORMAT", "json") == "form":
        body = urllib.parse.urlencode(payload).encode()
        answer = http.call(
            method,
            url,
            body=body,
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
    else:
        answer = http.post_json(url, payload, headers=headers)
    id_field = _setting("XUEFA_SMS_HTTP_ID_FIELD")
    return _dig(answer.json(), id_field) if id_field else ""


def pop_encode(value):
    """Aliyun's percent-encoding for RPC signatures: RFC 3986, UTF-8, only A-Z a-z 0-9
    - _ . ~ left as they are (so a space is %20, * is %2A)."""
    return urllib.parse.quote(str(value), safe="-_.~")


def aliyun_signature(params, secret, method="GET"):
    """Aliyun RPC API signature, version 1.0: HMAC-SHA1 with key `secret&` over
    METHOD&%2F&encode(canonical query), the query's parameters sorted by name."""
    canonical = "&".join(f"{pop_encode(key)}={pop_encode(params[key])}" for key in sorted(params))
    string_to_sign = f"{method}&{pop_encode('/')}&{pop_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def send_sms_aliyun(notice, mobile):
    """Aliyun SMS (dysmsapi SendSms, 2017-05-25) with the template
    `XUEFA_SMS_ALIYUN_TEMPLATE`, whose variables are ${subject} and ${url}."""
    key_id = _setting("XUEFA_SMS_ALIYUN_ACCESS_KEY_ID")
    secret = _setting("XUEFA_SMS_ALIYUN_ACCESS_KEY_SECRET")
    if not (key_id and secret):
        raise GatewayError("the Aliyun AccessKey is not set")
    params = {
        "AccessKeyId": key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": mobile,
        "RegionId": _setting("XUEFA_SMS_ALIYUN_REGION", "cn-hangzhou"),
        "SignName": _setting("XUEFA_SMS_SIGNATURE"),
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": str(uuid.uuid4()),
        "SignatureVersion": "1.0",
        "TemplateCode": _setting("XUEFA_SMS_ALIYUN_TEMPLATE"),
        "TemplateParam": json.dumps(template_values(notice), ensure_ascii=False),
        "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2017-05-25",
    }
    params["Signature"] = aliyun_signature(params, secret, "POST")
    body = "&".join(f"{pop_encode(k)}={pop_encode(v)}" for k, v in params.items()).encode()
    endpoint = _setting("XUEFA_SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
    answer = http.call(
        "POST", endpoint, body=body, content_type="application/x-www-form-urlencoded"
    ).json()
    if answer.get("Code") != "OK":
        raise GatewayError(f"Aliyun {answer.get('Code')}: {answer.get('Message', '')}"[:300])
    return answer.get("BizId", "")


def template_values(notice):
    """A template's variables: the subject (short, as carriers limit a variable's
    length) and the link (the site when the notice has none)."""
    limit = int(_setting("XUEFA_SMS_TEMPLATE_CHARS", 35))
    subject = one_line(notice.subject)
    if len(subject) > limit:
        subject = subject[: limit - 1] + "…"
    return {"subject": subject, "url": notice.url or settings.WAGTAILADMIN_BASE_URL}


def tc3_authorization(*, secret_id, secret_key, service, headers, payload, timestamp):
    """Tencent Cloud API 3.0 signature (TC3-HMAC-SHA256) of a POST to "/": the
    canonical request over the signed `headers` ({lower-case name: value}, host and
    content-type at least) and the payload's SHA-256, signed with the key derived from
    the UTC date, the service and "tc3_request"."""
    date = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")
    names = sorted(headers)
    canonical_headers = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"TC3{secret_key}".encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


def send_sms_tencent(notice, mobile):
    """Tencent Cloud SMS (SendSms, 2021-01-11) with the template
    `XUEFA_SMS_TENCENT_TEMPLATE`, whose parameters are {1} the subject, {2} the link."""
    secret_id = _setting("XUEFA_SMS_TENCENT_SECRET_ID")
    secret_key = _setting("XUEFA_SMS_TENCENT_SECRET_KEY")
    if not (secret_id and secret_key):
        raise GatewayError("the Tencent Cloud SecretId/SecretKey is not set")
    endpoint = _setting("XUEFA_SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com/")
    host = urllib.parse.urlsplit(endpoint).netloc
    values = template_values(notice)
    payload = json.dumps(
        {
            "PhoneNumberSet": [f"+86{mobile}" if not mobile.startswith("+") else mobile],
            "SmsSdkAppId": _setting("XUEFA_SMS_TENCENT_SDK_APP_ID"),
            "SignName": _setting("XUEFA_SMS_SIGNATURE"),
            "TemplateId": _setting("XUEFA_SMS_TENCENT_TEMPLATE"),
            "TemplateParamSet": [values["subject"], values["url"]],
        },
        ensure_ascii=False,
    ).encode()
    timestamp = int(time.time())
    content_type = "application/json; charset=utf-8"
    authorization = tc3_authorization(
        secret_id=secret_id,
        secret_key=secret_key,
        service="sms",
        headers={"content-type": content_type, "host": host, "x-tc-action": "SendSms"},
        payload=payload,
        timestamp=timestamp,
    )
    headers = {
        "Authorization": authorization,
        "X-TC-Action": "SendSms",
        "X-TC-Version": "2021-01-11",
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": _setting("XUEFA_SMS_TENCENT_REGION", "ap-guangzhou"),
    }
    answer = http.call(
        "POST", endpoint, body=payload, content_type=content_type, headers=headers
    ).json()
    response = answer.get("Response", {}) if isinstance(answer, dict) else {}
    if "Error" in response:
        error = response["Error"]
        raise GatewayError(f"Tencent {error.get('Code')}: {error.get('Message', '')}"[:300])
    statuses = response.get("SendStatusSet") or [{}]
    status = statuses[0]
    if status.get("Code") != "Ok":
        raise GatewayError(f"Tencent {status.get('Code')}: {status.get('Message', '')}"[:300])
    return status.get("SerialNo", "")


SMS_GATEWAYS = {"http": send_sms_http, "aliyun": send_sms_aliyun, "tencent": send_sms_tencent}


# --- WeCom -------------------------------------------------------------------------------

WECOM_TOKEN_KEY = "xuefa:notices:wecom-token"  # noqa: S105 (a cache key)
WECOM_TOKEN_EXPIRED = {40014, 42001}  # invalid, expired access_token


def _wecom_base():
    return _setting("XUEFA_WECOM_API_BASE", "https://qyapi.weixin.qq.com").rstrip("/")


def wecom_token(refresh=False):
    """The WeCom app's access_token, from the cache while it lasts (WeCom allows few
    token requests; a token lives two hours)."""
    corp_id = _setting("XUEFA_WECOM_CORP_ID")
    key = f"{WECOM_TOKEN_KEY}:{corp_id}:{_setting('XUEFA_WECOM_AGENT_ID')}"
    token = None if refresh else cache.get(key)
    if token:
        return token
    if not (corp_id and _setting("XUEFA_WECOM_SECRET")):
        raise GatewayError("XUEFA_WECOM_CORP_ID / XUEFA_WECOM_SECRET are not set")
    answer = http.get(
        f"{_wecom_base()}/cgi-bin/gettoken",
        {"corpid": corp_id, "corpsecret": _setting("XUEFA_WECOM_SECRET")},
    ).json()
    if answer.get("errcode") or not answer.get("access_token"):
        raise GatewayError(f"WeCom gettoken {answer.get('errcode')}: {answer.get('errmsg', '')}")
    lifetime = int(answer.get("expires_in", 7200))
    cache.set(key, answer["access_token"], max(lifetime - 300, 60))
    return answer["access_token"]


class WecomBackend(Backend):
    """WeCom work notifications (应用消息) from the app `XUEFA_WECOM_AGENT_ID` to each
    person's WeCom user id: their staff number or username, as `XUEFA_WECOM_USER_ID`
    says (the WeCom directory synchronised from the roster uses one of them)."""

    channel = NoticeChannel.WECOM
    BATCH = 1000  # WeCom's limit of user ids in one message

    def address(self, recipient):
        source = _setting("XUEFA_WECOM_USER_ID", "staff_number")
        if source == "staff_number" and recipient.official:
            return recipient.official.staff_number
        if source == "username":
            return recipient.user.username
        return ""

    def message(self, notice, user_ids):
        message = {
            "touser": "|".join(user_ids),
            "agentid": int(_setting("XUEFA_WECOM_AGENT_ID") or 0),
        }
        if notice.url:
            body = " ".join(text_lines(notice.body).split())[:500]
            message |= {
                "msgtype": "textcard",
                "textcard": {
                    "title": one_line(notice.subject)[:128],
                    "description": body or one_line(notice.subject),
                    "url": notice.url,
                },
            }
        else:
            message |= {"msgtype": "text", "text": {"content": plain_text(notice)}}
        return message

    def post(self, payload):
        for attempt in (1, 2):
            token = wecom_token(refresh=attempt == 2)
            answer = http.post_json(
                http.with_query(f"{_wecom_base()}/cgi-bin/message/send", {"access_token": token}),
                payload,
            ).json()
            if answer.get("errcode") in WECOM_TOKEN_EXPIRED and attempt == 1:
                continue
            return answer
        return answer  # pragma: no cover

    def send(self, notice, batch, connection=None):
        for start in range(0, len(batch), self.BATCH):
            part = batch[start : start + self.BATCH]
            try:
                answer = self.post(self.message(notice, [address for _d, address in part]))
                if answer.get("errcode"):
                    raise GatewayError(f"WeCom {answer.get('errcode')}: {answer.get('errmsg', '')}")
            except GatewayError as error:
                for delivery, _address in part:
                    failed(delivery, error)
                continue
            invalid = set(filter(None, str(answer.get("invaliduser", "")).split("|")))
            for delivery, address in part:
                if address in invalid:
                    failed(delivery, "WeCom: unknown or unreachable user id")
                else:
                    sent(delivery, answer.get("msgid", ""))


# --- Group robots ---------------------------------------------------------------------------


class RobotBackend(Backend):
    """A group chat's robot (webhook): one message to the group for each notice,
    mentioning the recipients by mobile number. Every delivery of the batch shares the
    outcome."""

    def address(self, recipient):
        return recipient.mobile

    def mask(self, address):
        return mask_mobile(address)

    def webhook(self):
        raise NotImplementedError

    def payload(self, notice, mobiles):
        raise NotImplementedError

    def send(self, notice, batch, connection=None):
        try:
            url = self.webhook()
            answer = http.post_json(url, self.payload(notice, [a for _d, a in batch])).json()
            if answer.get("errcode"):
                raise GatewayError(
                    f"{self.channel.label} {answer.get('errcode')}: {answer.get('errmsg', '')}"
                )
        except GatewayError as error:
            for delivery, _address in batch:
                failed(delivery, error)
            return
        for delivery, _address in batch:
            sent(delivery, answer.get("msgid", ""))


class WecomRobotBackend(RobotBackend):
    channel = NoticeChannel.WECOM_ROBOT

    def webhook(self):
        url = _setting("XUEFA_WECOM_ROBOT_URL")
        if not url:
            raise GatewayError("XUEFA_WECOM_ROBOT_URL is not set")
        return url

    def payload(self, notice, mobiles):
        return {
            "msgtype": "text",
            "text": {"content": plain_text(notice), "mentioned_mobile_list": mobiles},
        }


def dingtalk_sign(secret, timestamp_ms):
    """DingTalk robot signing: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class DingtalkRobotBackend(RobotBackend):
    channel = NoticeChannel.DINGTALK_ROBOT

    def webhook(self):
        url = _setting("XUEFA_DINGTALK_ROBOT_URL")
        if not url:
            raise GatewayError("XUEFA_DINGTALK_ROBOT_URL is not set")
        secret = _setting("XUEFA_DINGTALK_ROBOT_SECRET")
        if secret:
            timestamp = int(time.time() * 1000)
            url = http.with_query(
                url, {"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)}
            )
        return url

    def payload(self, notice, mobiles):
        return {
            "msgtype": "text",
            "text": {"content": plain_text(notice)},
            "at": {"atMobiles": mobiles, "isAtAll": False},
        }


BACKENDS = {
    backend.channel: backend
    for backend in (
        EmailBackend(),
        SmsBackend(),
        WecomBackend(),
        WecomRobotBackend(),
        DingtalkRobotBackend(),
    )
}
