from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Gone: background exports and imports are tasks now, run by the worker of the "
        "database tasks backend, `manage.py db_worker`. Housekeeping (interrupted and old "
        "jobs) is `manage.py purge_export_jobs`."
    )

    def add_arguments(self, parser):
        # The old options, so that an old service definition reaches the message below.
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, **options):
        raise CommandError(
            "run_export_jobs is no longer used. Run the tasks worker `manage.py db_worker` "
            "instead, and `manage.py purge_export_jobs --loop` (or purge_export_jobs from "
            "cron every few minutes) for interrupted and old jobs."
        )
