from django.core.management.base import BaseCommand

from exams.reports import exports


class Command(BaseCommand):
    help = (
        "Delete background exports (and their files) older than --days "
        "(default: the XUEFA_EXPORT_KEEP_DAYS setting, 7). Run it daily from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days=None, **options):
        if days is not None and days < 0:
            from django.core.management.base import CommandError

            raise CommandError("--days must be 0 or more.")
        count = exports.purge_jobs(days)
        self.stdout.write(f"Deleted {count} export(s).")
