from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from learning import roster


class Command(BaseCommand):
    help = (
        "Import HR's roster (xlsx): creates or updates officials by staff number. "
        "A file with any problem imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--credentials",
            type=Path,
            help="Write the initial passwords of new accounts to this xlsx file "
            "(otherwise they are printed).",
        )

    def handle(self, *args, file, credentials=None, **options):
        try:
            with file.open("rb") as fileobj:
                result = roster.import_roster(fileobj)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        except roster.RosterError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"Nothing imported: {len(error.problems)} problem(s).") from error

        created = [(o.user.name, o.staff_number, password) for o, password in result.created]
        if created and credentials:
            credentials.write_bytes(roster.credentials_workbook(created))
            self.stdout.write(f"Initial passwords written to {credentials}")
        elif created:
            for name, staff_number, password in created:
                self.stdout.write(f"{staff_number}\t{name}\t{password}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.created)} created, {len(result.updated)} updated, "
                f"{result.unchanged} unchanged."
            )
        )
