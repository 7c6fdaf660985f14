import time

from django.core.management.base import BaseCommand

from exams.reports import exports
from learning import import_jobs

PURGE_EVERY_SECONDS = 3600


class Command(BaseCommand):
    help = (
        "Run queued background exports and large imports (the worker). Once by default; "
        "with --loop it keeps polling, marks jobs whose worker died as failed and purges "
        "old ones hourly. Needed in production with XUEFA_EXPORT_WORKER = True."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds between polls (--loop)."
        )

    def handle(self, *args, loop=False, interval=2.0, **options):
        last_purge = None
        while True:
            stale = exports.fail_stale_jobs() + import_jobs.fail_stale_jobs()
            started = exports.run_queued_jobs()
            imported = import_jobs.run_queued_jobs()
            if started or imported or stale or not loop:
                self.stdout.write(
                    f"Ran {started} export(s) and {imported} import step(s); "
                    f"{stale} interrupted job(s) marked failed."
                )
            if not loop:
                return
            if last_purge is None or time.monotonic() - last_purge > PURGE_EVERY_SECONDS:
                exports.purge_jobs()
                import_jobs.purge_jobs()
                last_purge = time.monotonic()
            if not started and not imported:
                time.sleep(interval)
