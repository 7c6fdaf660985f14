from django.core.management.base import BaseCommand

from exams.tasks import submit_expired_attempts_task


class Command(BaseCommand):
    help = (
        "Enqueue the task that submits expired exam attempts with what was saved. "
        "Run it every minute (cron or a systemd timer); with the immediate tasks "
        "backend it runs at once."
    )

    def handle(self, *args, **options):
        result = submit_expired_attempts_task.enqueue()
        self.stdout.write(f"Enqueued {result.id} ({result.status}).")
