"""Attempts under way follow changes to their terms, whatever saves them: the admin,
code or a cascade. Signals rather than ExamSession.save() and delete(), which a
queryset's delete() (and modelcluster's removal of an inline) would bypass. A
queryset's update() sends none: it must call attempts.refresh_deadlines itself.

Connected by ExamsConfig.ready() (`connect`)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .attempts import forget_paper, refresh_deadlines
from .models import Attempt, AttemptState, DeviceRule, ExamSession, SessionOverride


def session_saved(sender, instance, created, raw=False, using=None, **kwargs):
    """Window or duration may have changed. Again once the edit commits, so an attempt
    started meanwhile from the old terms does not keep them."""
    if created or raw:
        instance.loaded_device_rule = instance.device_rule
        return
    refresh_deadlines(instance)
    if instance.device_rule == DeviceRule.ANY and instance.loaded_device_rule != DeviceRule.ANY:
        # Any device again: attempts bound under the old rule are free.
        instance.attempts.filter(state=AttemptState.IN_PROGRESS).exclude(device="").update(
            device=""
        )
    instance.loaded_device_rule = instance.device_rule
    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(lambda: refresh_deadlines(instance), using=using)


def override_changed(sender, instance, raw=False, **kwargs):
    """One person's extra time or window changed: only their attempt moves."""
    if raw:
        return
    refresh_deadlines(instance.session_id, instance.official_id)


def attempt_saved(sender, instance, created, **kwargs):
    """A new attempt under an id seen before (SQLite reuses the ids of rolled-back
    rows) must not find the old attempt's paper kept in this process."""
    if created:
        forget_paper(instance.pk)


def connect():
    post_save.connect(attempt_saved, sender=Attempt, dispatch_uid="exam-attempt-paper")
    post_save.connect(session_saved, sender=ExamSession, dispatch_uid="exam-session-deadlines")
    post_save.connect(
        override_changed, sender=SessionOverride, dispatch_uid="exam-override-saved-deadlines"
    )
    post_delete.connect(
        override_changed, sender=SessionOverride, dispatch_uid="exam-override-deleted-deadlines"
    )
