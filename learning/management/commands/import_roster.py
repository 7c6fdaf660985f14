from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from learning import imports, roster


class Command(BaseCommand):
    help = (
        "Import HR's roster (.xlsx, .xls or .csv): creates or updates officials by staff "
        "number. Prints the preview first; a file with any problem imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the preview only; write nothing."
        )
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="Deactivate the active officials of the file's departments who are not in it.",
        )
        parser.add_argument(
            "--credentials",
            type=Path,
            help="Write the initial passwords of new accounts to this xlsx file "
            "(otherwise they are printed).",
        )

    def handle(self, *args, file, dry_run=False, deactivate_missing=False, credentials=None, **o):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        preview, plan = roster.plan_file(data, file.name)
        imports.write_preview(preview, self.stdout, self.stderr)
        if plan is None:
            raise CommandError(f"Nothing imported: {preview.counts['errors']} problem(s).")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        options = {"deactivate": [m["id"] for m in preview.missing] if deactivate_missing else []}
        result = roster.apply_file(data, file.name, preview.fingerprint, options)
        created = result.pop("sealed")
        if created and credentials:
            credentials.write_bytes(roster.credentials_workbook(created))
            self.stdout.write(f"Initial passwords written to {credentials}")
        elif created:
            for name, staff_number, password in created:
                self.stdout.write(f"{staff_number}\t{name}\t{password}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result['created']} created, {result['updated']} updated, "
                f"{result['unchanged']} unchanged, {result['deactivated']} deactivated."
            )
        )
