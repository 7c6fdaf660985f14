from django.core.management.base import BaseCommand

from content.tasks import screen_housekeeping_task


class Command(BaseCommand):
    help = (
        "Enqueue the task that writes the screens' last-seen times to the database and "
        "purges old plays. Polls start it themselves while screens are on; run it every "
        "few minutes from cron too so the database catches up when they go quiet."
    )

    def handle(self, *args, **options):
        result = screen_housekeeping_task.enqueue()
        self.stdout.write(f"Enqueued {result.id} ({result.status}).")
