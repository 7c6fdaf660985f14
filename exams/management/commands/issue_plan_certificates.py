from django.core.management.base import BaseCommand

from django_tasks.base import TaskResultStatus

from exams.certificates import issue_plan_certificates_task


class Command(BaseCommand):
    help = (
        "Issue the certificates (合格证书) of study plans that promise one to every "
        "official who has completed them: this year's and last year's plans, or those "
        "of --year. Safe to run again; run it nightly (cron or a systemd timer). With "
        "--exams, also every passed annual or pre-appointment exam that has no "
        "certificate yet (after an upgrade). The immediate tasks backend runs the task "
        "at once; with the database backend the worker `manage.py db_worker` runs it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, action="append", dest="years", help="A plan year (repeatable)."
        )
        parser.add_argument(
            "--exams", action="store_true", help="Also issue missing exam certificates."
        )

    def handle(self, *args, years=None, exams=False, **options):
        result = issue_plan_certificates_task.enqueue(years=years, exams=exams)
        if result.status == TaskResultStatus.SUCCESSFUL:
            self.stdout.write(f"Issued {result.return_value} certificate(s).")
        elif result.status == TaskResultStatus.FAILED:
            self.stderr.write(f"Task {result.id} failed.")
        else:
            self.stdout.write(f"Enqueued {result.id} ({result.status}).")
