import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from django_tasks_db.models import DBTaskResult

from exams.reports import exports
from learning import import_jobs


class Command(BaseCommand):
    help = (
        "Housekeeping of background jobs: mark exports and imports whose worker died "
        "(no progress for XUEFA_EXPORT_STALE_MINUTES, 30) as failed, forget imports' "
        "initial passwords after XUEFA_IMPORT_SEALED_HOURS, and delete exports (with "
        "their files), imports and finished task results older than --days (default: "
        "XUEFA_EXPORT_KEEP_DAYS, 7). Once by default (cron or a systemd timer, every few "
        "minutes); with --loop it keeps doing so every --interval seconds, as a service."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds between runs (--loop)."
        )

    def handle(self, *args, days=None, loop=False, interval=60.0, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more.")
        while True:
            try:
                stale, deleted, imports, results = self.housekeeping(days)
            except DatabaseError as error:
                if not loop:
                    raise
                self.stderr.write(f"Housekeeping failed ({error}); trying again later.")
            else:
                if not loop or stale or deleted or imports or results:
                    self.stdout.write(
                        f"{stale} interrupted job(s) marked failed; deleted {deleted} "
                        f"export(s), {imports} import(s) and {results} task result(s)."
                    )
            if not loop:
                return
            time.sleep(interval)
            # A service outlives connections: drop a broken or expired one, as Django
            # does between requests.
            close_old_connections()

    def housekeeping(self, days):
        stale = exports.fail_stale_jobs() + import_jobs.fail_stale_jobs()
        deleted = exports.purge_jobs(days)
        imports = import_jobs.purge_jobs(days)
        # What the database tasks backend (django-tasks-db) keeps of finished tasks.
        keep = exports.keep_days() if days is None else days
        cutoff = timezone.now() - datetime.timedelta(days=keep)
        results, _details = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
        return stale, deleted, imports, results
