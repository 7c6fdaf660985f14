from django.db import migrations

# An answer row is written once at the start and then updated by every save of its
# question and by the grading. PostgreSQL can make such an update "HOT" (the new row
# version on the same page, no index touched) only where the page has room; packed
# full, as inserted by default, most updates instead wrote a row version elsewhere
# plus an entry in each of the table's three indexes. Pages keep 30% free for them.
# PostgreSQL only (SQLite has no such setting); existing pages keep their layout
# until rewritten, new answers get the room.
FILLFACTOR = 70


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'ALTER TABLE "exams_answer" SET (fillfactor = {FILLFACTOR})')


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "exams_answer" RESET (fillfactor)')


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0006_answer_attempt_index_covered"),
    ]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
