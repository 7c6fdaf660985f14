import time

from django.core.management.base import BaseCommand

from django_tasks.base import TaskResultStatus

from exams.tasks import submit_expired_attempts_task


class Command(BaseCommand):
    help = (
        "Enqueue the task that submits expired exam attempts with what was saved. Once "
        "by default (for cron or a systemd timer, every minute); with --loop it keeps "
        "doing so every --interval seconds, as a service. The immediate tasks backend "
        "runs the task at once; with the database backend (production) the worker "
        "`manage.py db_worker` runs it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds between runs (--loop)."
        )

    def handle(self, *args, loop=False, interval=60.0, **options):
        while True:
            result = submit_expired_attempts_task.enqueue()
            if not loop:
                self.stdout.write(f"Enqueued {result.id} ({result.status}).")
                return
            if result.status == TaskResultStatus.FAILED:
                self.stderr.write(f"Task {result.id} failed; trying again in {interval:g} s.")
            elif result.status == TaskResultStatus.SUCCESSFUL and result.return_value:
                self.stdout.write(f"Submitted {result.return_value} expired attempt(s).")
            time.sleep(interval)
