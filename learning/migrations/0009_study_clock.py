import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0008_importjob"),
    ]

    operations = [
        migrations.CreateModel(
            name="StudyClock",
            fields=[
                (
                    "official",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="study_clock",
                        serialize=False,
                        to="learning.official",
                        verbose_name="official",
                    ),
                ),
                ("anchor_at", models.DateTimeField(verbose_name="measured up to")),
            ],
            options={
                "verbose_name": "study clock",
                "verbose_name_plural": "study clocks",
            },
        ),
    ]
