import django.db.models.deletion
from django.db import migrations, models

# The unique (attempt, position) index leads with attempt_id and serves every lookup
# by attempt; the foreign key's own index only slowed each start's INSERT of the
# answers. Only the index is dropped: Django's AlterField would also drop and re-add
# the foreign key (a full re-validation on PostgreSQL, a table copy on SQLite).
INDEX = "exams_answer_attempt_id_325476e6"


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0005_export_jobs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="answer",
                    name="attempt",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="exams.attempt",
                        verbose_name="attempt",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX "{INDEX}" ON "exams_answer" ("attempt_id")',
                ),
            ],
        ),
    ]
