"""Audit entries for changes that move exam results: closing a session early,
per-person exceptions (extra time, extra attempts, own window), marks given to
hand-marked answers and the results they settle (exams.marking). They go to Wagtail's
log (ModelLogEntry) beside its own create/edit/delete entries, so they show in the
session's history and follow the same retention (purge_audit_log)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from wagtail.log_actions import log

SESSION_CLOSED = "xuefa.exam_session.close"
OVERRIDES_CHANGED = "xuefa.exam_session.overrides"
ANSWER_MARKED = "xuefa.marking.mark"
MARK_CHANGED = "xuefa.marking.change"
RESULT_AFTER_MARKING = "xuefa.marking.result"


def register_actions(actions):
    actions.register_action(
        SESSION_CLOSED, _("Close exam session early"), _("Exam session closed early")
    )
    actions.register_action(
        OVERRIDES_CHANGED, _("Change exam exceptions"), _("Per-person exceptions changed")
    )
    actions.register_action(ANSWER_MARKED, _("Mark an answer"), _("Answer marked"))
    actions.register_action(MARK_CHANGED, _("Change a mark"), _("Mark changed"))
    actions.register_action(
        RESULT_AFTER_MARKING,
        _("Settle a result after marking"),
        _("Result settled after marking"),
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


def _text(value):
    """Decimals as text; booleans, None and text as they are (JSON holds them)."""
    return str(value) if isinstance(value, Decimal) else value


def log_marking(attempt, answer, marking, before, user):
    """Log a mark given (`before` None) or changed, on the attempt it belongs to: the
    answer, round, marker, and the mark before and after."""
    after = {
        "element_points": [str(p) for p in marking.element_points],
        "points": str(marking.points),
        "comment": marking.comment,
    }
    return log(
        attempt,
        ANSWER_MARKED if before is None else MARK_CHANGED,
        user=user,
        data={
            "answer": answer.pk,
            "position": answer.position,
            "round": marking.round,
            "marker": marking.marker_id,
            "before": before,
            "after": after,
        },
    )


def log_result_after_marking(attempt, before, after, user):
    """Log the attempt's result as it was and as marking has settled it."""
    return log(
        attempt,
        RESULT_AFTER_MARKING,
        user=user,
        data={
            "before": {field: _text(value) for field, value in before.items()},
            "after": {field: _text(value) for field, value in after.items()},
        },
    )
