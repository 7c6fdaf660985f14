import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0007_user_manager_reads_by_pk"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=32, verbose_name="kind")),
                ("filename", models.CharField(max_length=200, verbose_name="file name")),
                ("data", models.BinaryField(blank=True, default=b"", verbose_name="file contents")),
                ("size", models.PositiveIntegerField(default=0, verbose_name="size")),
                (
                    "phase",
                    models.CharField(
                        choices=[("preview", "Preview"), ("apply", "Import")],
                        default="preview",
                        max_length=10,
                        verbose_name="phase",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="queued",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("done", models.PositiveIntegerField(default=0, verbose_name="done")),
                ("total", models.PositiveIntegerField(default=0, verbose_name="total")),
                ("preview", models.JSONField(blank=True, default=dict, verbose_name="preview")),
                ("options", models.JSONField(blank=True, default=dict, verbose_name="options")),
                ("result", models.JSONField(blank=True, default=dict, verbose_name="result")),
                ("sealed", models.TextField(blank=True, verbose_name="sealed result")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("language", models.CharField(blank=True, max_length=16, verbose_name="language")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="updated at"),
                ),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="finished at"),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="import_jobs",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="requested by",
                    ),
                ),
            ],
            options={
                "verbose_name": "import",
                "verbose_name_plural": "imports",
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["status", "created_at"], name="learning_im_status_1d0cf6_idx"
                    )
                ],
            },
        ),
    ]
