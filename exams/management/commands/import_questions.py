from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exams.question_io import ImportRefused, import_xlsx


class Command(BaseCommand):
    help = (
        "Import questions from an xlsx file in the question-bank template. The whole "
        "file is checked first; any error imports nothing. Rows with a key update it."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path, **options):
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > settings.XUEFA_MAX_IMPORT_BYTES:
            raise CommandError(
                f"{path} is larger than XUEFA_MAX_IMPORT_BYTES "
                f"({settings.XUEFA_MAX_IMPORT_BYTES} bytes)"
            )
        try:
            result = import_xlsx(path.read_bytes())
        except ImportRefused as refused:
            for error in refused.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(refused.errors)} problem(s); nothing imported.") from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {result.created}, updated {result.updated} questions.")
        )
