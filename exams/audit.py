"""Audit entries for changes that move exam results: closing a session early and
per-person exceptions (extra time, extra attempts, own window). They go to Wagtail's
log (ModelLogEntry) beside its own create/edit/delete entries, so they show in the
session's history and follow the same retention (purge_audit_log)."""

from django.utils.translation import gettext_lazy as _

from wagtail.log_actions import log

SESSION_CLOSED = "xuefa.exam_session.close"
OVERRIDES_CHANGED = "xuefa.exam_session.overrides"


def register_actions(actions):
    actions.register_action(
        SESSION_CLOSED, _("Close exam session early"), _("Exam session closed early")
    )
    actions.register_action(
        OVERRIDES_CHANGED, _("Change exam exceptions"), _("Per-person exceptions changed")
    )


def overrides_snapshot(session):
    """Each person's exception as stored now, in a form a log entry can hold."""
    return {
        str(o.official_id): {
            "extra_minutes": o.extra_minutes,
            "extra_attempts": o.extra_attempts,
            "opens_at": o.opens_at.isoformat() if o.opens_at else None,
            "closes_at": o.closes_at.isoformat() if o.closes_at else None,
        }
        for o in type(session).objects.get(pk=session.pk).overrides.all()
    }


def log_overrides_change(session, before, user):
    """Log the exceptions before and after an edit, when they differ."""
    after = overrides_snapshot(session)
    if after != before:
        log(session, OVERRIDES_CHANGED, user=user, data={"before": before, "after": after})


def log_session_closed(session, user, closed_at, deadlines_cut):
    return log(
        session,
        SESSION_CLOSED,
        user=user,
        data={"closed_at": closed_at.isoformat(), "deadlines_cut": deadlines_cut},
    )
