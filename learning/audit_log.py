"""Audit records and their retention: each app names the records it keeps for the
audit trail through the `register_audit_log_models` Wagtail hook, so
purge_audit_log deletes them without importing the apps that own them.

A hook function takes no arguments and returns a list of AuditLogModel:

    @hooks.register("register_audit_log_models")
    def observation_audit_log_models():
        return [AuditLogModel("attendance changes", AttendanceChange, "changed_at")]
"""

import dataclasses

from django.db import models

from wagtail import hooks
from wagtail.models import ModelLogEntry, PageLogEntry


@dataclasses.dataclass(frozen=True)
class AuditLogModel:
    """A model whose rows are audit records, dated by `timestamp_field`; `label`
    names them in purge_audit_log's output."""

    label: str
    model: type[models.Model]
    timestamp_field: str

    def older_than(self, cutoff):
        """The records dated before `cutoff`."""
        return self.model._default_manager.filter(**{f"{self.timestamp_field}__lt": cutoff})


def audit_log_models():
    """Every AuditLogModel the apps register, in hook order (INSTALLED_APPS)."""
    found = []
    for hook in hooks.get_hooks("register_audit_log_models"):
        found.extend(hook())
    return found


def wagtail_log_models():
    """Wagtail's log: page entries, and entries of every other model it logs (exam
    sessions closed early or given exceptions among them). Registered by learning."""
    return [
        AuditLogModel("page log entries", PageLogEntry, "timestamp"),
        AuditLogModel("other log entries", ModelLogEntry, "timestamp"),
    ]
