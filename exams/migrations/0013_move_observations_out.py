"""Court observations moved to their own app, exams.observations (label
`observations`): their models leave the migration state of exams, state only. The
tables keep their names (exams_courtobservation and the rest) and now belong to
observations 0001, which created the models in its own state first; the database is
not touched. Deleted referring models first: no exams model refers to them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0012_observation_checkout"),
        ("observations", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AttendanceChange"),
                migrations.DeleteModel(name="Reflection"),
                migrations.DeleteModel(name="PlanObservation"),
                migrations.DeleteModel(name="Attendance"),
                migrations.DeleteModel(name="CourtObservation"),
            ],
            database_operations=[],
        ),
    ]
