from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exams.question_io import QuestionImporter
from learning.imports import PlanChanged, write_preview


class Command(BaseCommand):
    help = (
        "Import a question bank file (.xlsx, .xls or .csv). Prints the preview first; a "
        "file with any problem imports nothing. Rows are matched by key, or by content "
        "when they have none, so importing a file twice adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the preview only; write nothing."
        )

    def handle(self, *args, path, dry_run=False, **options):
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        importer = QuestionImporter()
        preview = importer.preview(data, path.name)
        write_preview(preview, self.stdout, self.stderr)
        if not preview.can_apply:
            raise CommandError(f"Nothing imported: {preview.counts['errors']} problem(s).")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            result = importer.apply(data, path.name, preview.fingerprint, {})
        except PlanChanged:
            raise CommandError(
                "The bank changed between the preview and the import; nothing was written. "
                "Run the command again."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                "{created} created, {updated} updated, {unchanged} unchanged, "
                "{skipped} skipped.".format(**result)
            )
        )
