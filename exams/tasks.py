"""Background work for exams on Django's tasks framework (django-tasks)."""

from django_tasks import task

from . import attempts


@task()
def submit_expired_attempts_task():
    """Submit attempts whose deadline and grace have passed, so results and reports
    do not wait for the official to come back. Returns how many were graded."""
    return attempts.submit_expired_attempts()


@task()
def run_export_task(job_id):
    """Build one background export (exams.reports.exports). Returns its final status,
    or None when another runner had already taken the job."""
    from .reports import exports

    return exports.run_job(job_id)
