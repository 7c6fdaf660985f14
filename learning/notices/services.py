"""Sending a notice: which channels apply, who can be reached on each, one `Delivery`
per person and channel, and the sending itself once the caller's transaction has
committed (inline for a few people, else as a background task), so neither a
rolled-back change nor a slow gateway reaches the person or holds up a request."""

import logging
from functools import partial

from django.conf import settings
from django.db import transaction

from django_tasks import task

from ..models import Delivery, DeliveryStatus, NoticeKind, NoticePreference, Official
from ..text import printable
from .backends import BACKENDS, Recipient, scrub

logger = logging.getLogger(__name__)

# Group robots post to a whole chat, so by default they carry only notices meant for
# everyone there, not a person's result or reminder.
GROUP_KINDS = [
    NoticeKind.EXAM_OPENING,
    NoticeKind.OBSERVATION_INVITATION,
    NoticeKind.BRIEFING,
    NoticeKind.SCREEN_OFFLINE,
]
DEFAULT_CHANNEL_KINDS = {"wecom_robot": GROUP_KINDS, "dingtalk_robot": GROUP_KINDS}


def enabled_channels():
    """The channels `XUEFA_NOTICE_CHANNELS` switches on, in its order, known ones only."""
    return [c for c in getattr(settings, "XUEFA_NOTICE_CHANNELS", ["email"]) if c in BACKENDS]


def optional_channels():
    """The enabled channels a person may switch off."""
    return [c for c in enabled_channels() if BACKENDS[c].optional]


def channels_for(kind):
    kinds = getattr(settings, "XUEFA_NOTICE_CHANNEL_KINDS", DEFAULT_CHANNEL_KINDS)
    return [c for c in enabled_channels() if c not in kinds or kind in kinds[c]]


def recipients(users, channels=None):
    """{user id: Recipient} for these users. The officials' profiles and the notice
    preferences are read (one query each) only when one of `channels` needs them."""
    users = list(users)
    backends = [BACKENDS[c] for c in (enabled_channels() if channels is None else channels)]
    ids = [user.pk for user in users]
    officials, preferences = {}, {}
    if ids and any(backend.needs_official for backend in backends):
        officials = {o.user_id: o for o in Official.objects.filter(user_id__in=ids)}
    if ids and any(backend.optional for backend in backends):
        preferences = {p.user_id: p for p in NoticePreference.objects.filter(user_id__in=ids)}
    return {
        user.pk: Recipient(user, officials.get(user.pk), preferences.get(user.pk)) for user in users
    }


def _active(users):
    seen, found = set(), []
    for user in users:
        if user is not None and user.pk not in seen and user.is_active:
            seen.add(user.pk)
            found.append(user)
    return found


def _build(kind, messages, sent_by):
    """Unsaved deliveries of `messages` ((user, subject, body, url)) on each channel of
    `kind`: pending, or skipped with the reason (opted out, no address)."""
    kind = NoticeKind(kind)
    channels = channels_for(kind)
    messages = [m for m in messages if m[0] is not None and m[0].is_active]
    if not channels or not messages:
        return []
    found = recipients({m[0].pk: m[0] for m in messages}.values(), channels)
    deliveries = []
    for user, subject, body, url in messages:
        recipient = found[user.pk]
        for channel in channels:
            backend = BACKENDS[channel]
            delivery = Delivery(
                kind=kind,
                subject=printable(subject)[:200],
                body=body or "",
                url=url or "",
                sent_by=sent_by,
                user=user,
                channel=channel,
            )
            delivery.recipient = recipient  # read again only if the sending is deferred
            if backend.optional and recipient.opted_out(channel):
                delivery.status = DeliveryStatus.OPTED_OUT
            elif address := backend.address(recipient):
                delivery.address = backend.mask(address)[:120]
            else:
                delivery.status = DeliveryStatus.NO_ADDRESS
            deliveries.append(delivery)
    return deliveries


def prepare(kind, users, *, subject, body, url="", sent_by=None):
    """The deliveries of a notice, saved, nothing sent yet: one per person and channel
    that applies, pending, or skipped with the reason (opted out, no address)."""
    messages = [(user, subject, body, url) for user in _active(users)]
    deliveries = _build(kind, messages, sent_by)
    Delivery.objects.bulk_create(deliveries, batch_size=500)
    return deliveries


def notify(kind, users, *, subject, body, url="", sent_by=None):
    """Send a notice of `kind` to `users` on every enabled channel that applies, and
    return its deliveries, one per person and channel: pending until the caller's
    transaction commits, then sent (inline for up to XUEFA_NOTICE_INLINE_MAX people,
    else by a background task). A gateway's failure is recorded, never raised."""
    deliveries = prepare(kind, users, subject=subject, body=body, url=url, sent_by=sent_by)
    pending = [d for d in deliveries if d.status == DeliveryStatus.PENDING]
    if pending:
        inline_max = int(getattr(settings, "XUEFA_NOTICE_INLINE_MAX", 3))
        if len({d.user_id for d in pending}) <= inline_max:
            transaction.on_commit(partial(send_deliveries, pending), robust=True)
        else:
            ids = [d.pk for d in pending]
            transaction.on_commit(partial(send_deliveries_task.enqueue, ids), robust=True)
    return deliveries


def send_each_now(kind, messages, *, sent_by=None):
    """Send a text of its own to each person now and record the outcomes, for work
    already in the background (a task): `messages` are (user, subject, body, url).
    The deliveries are written once, with their outcome: one insert however many."""
    deliveries = _build(kind, messages, sent_by)
    _dispatch([d for d in deliveries if d.status == DeliveryStatus.PENDING])
    Delivery.objects.bulk_create(deliveries, batch_size=500)
    return deliveries


def send_deliveries(deliveries):
    """Send saved pending deliveries now and save each outcome; for code already in
    the background (a task, a command, after a commit)."""
    deliveries = [d for d in deliveries if d.status == DeliveryStatus.PENDING]
    if not deliveries:
        return deliveries
    _dispatch(deliveries)
    Delivery.objects.bulk_update(
        deliveries, ["status", "error", "provider_message_id", "sent_at"], batch_size=500
    )
    return deliveries


def _dispatch(deliveries):
    """Send these pending deliveries, channel by channel; those with the same text on
    one channel go as one batch (one robot message, one WeCom call for many)."""
    _attach_recipients(deliveries)
    by_channel = {}
    for delivery in deliveries:
        batches = by_channel.setdefault(delivery.channel, {})
        batches.setdefault(delivery.content, []).append(delivery)
    for channel, batches in by_channel.items():
        backend = BACKENDS.get(channel)
        if backend is None:
            for batch in batches.values():
                for delivery in batch:
                    _failed(delivery, f"the channel {channel} is not known")
            continue
        with backend.session() as connection:
            for batch in batches.values():
                addressed = []
                for delivery in batch:
                    address = backend.address(delivery.recipient)
                    if address:
                        addressed.append((delivery, address))
                    else:
                        delivery.status = DeliveryStatus.NO_ADDRESS
                if addressed:
                    _send(backend, batch[0], addressed, connection)


def _attach_recipients(deliveries):
    """Addresses are kept only masked: a delivery sent later reads its person's again."""
    missing = [d for d in deliveries if getattr(d, "recipient", None) is None]
    if missing:
        channels = list({d.channel for d in missing} & set(BACKENDS))
        found = recipients({d.user_id: d.user for d in missing}.values(), channels)
        for delivery in missing:
            delivery.recipient = found[delivery.user_id]


def _send(backend, notice, addressed, connection):
    try:
        backend.send(notice, addressed, connection)
    except Exception as error:  # a backend's own bug must not lose the other channels
        logger.error("Notice backend %s failed: %s", backend.channel, type(error).__name__)
        for delivery, _address in addressed:
            if delivery.status == DeliveryStatus.PENDING:
                _failed(delivery, f"{type(error).__name__}: {error}")


def _failed(delivery, reason):
    delivery.status = DeliveryStatus.FAILED
    delivery.error = scrub(reason)[:1000]


@task()
def send_deliveries_task(delivery_ids):
    """Send these deliveries in the background (those still pending). Returns the
    number sent."""
    deliveries = list(
        Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.PENDING).select_related(
            "user"
        )
    )
    send_deliveries(deliveries)
    return sum(d.status == DeliveryStatus.SENT for d in deliveries)
