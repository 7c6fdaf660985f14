"""Background work for exams on Django's tasks framework (django-tasks)."""

from django_tasks import task

from . import attempts


@task()
def submit_expired_attempts_task():
    """Submit attempts whose deadline and grace have passed, so results and reports
    do not wait for the official to come back. Returns how many were graded."""
    return attempts.submit_expired_attempts()
