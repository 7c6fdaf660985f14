from django.core.management.base import BaseCommand

from django_tasks.base import TaskResultStatus

from exams.notices import send_exam_opening_notices_task


class Command(BaseCommand):
    help = (
        "Enqueue the task that tells officials an exam session they are expected at is "
        "open (e-mail, SMS, WeCom, DingTalk as XUEFA_NOTICE_CHANNELS says). Each official "
        "hears of a session once, however often this runs: run it from cron or a systemd "
        "timer, e.g. every 10 minutes."
    )

    def handle(self, *args, **options):
        result = send_exam_opening_notices_task.enqueue()
        if result.status == TaskResultStatus.SUCCESSFUL:
            for title, count in (result.return_value or {}).items():
                self.stdout.write(f"{title}: {count} official(s) notified.")
            if not result.return_value:
                self.stdout.write("Nobody new to notify.")
        elif result.status == TaskResultStatus.FAILED:
            self.stderr.write(f"Task {result.id} failed.")
        else:
            self.stdout.write(f"Enqueued {result.id} ({result.status}).")
