"""Periodic background work of exams on Django's tasks framework (django-tasks).

Tasks that belong to one feature are defined beside it: an export's in
exams.reports.exports (`run_export_task`), reminders' in exams.reports.reminders."""

from django_tasks import task

from . import attempts


@task()
def submit_expired_attempts_task():
    """Submit attempts whose deadline and grace have passed, so results and reports
    do not wait for the official to come back. Returns how many were graded."""
    return attempts.submit_expired_attempts()
