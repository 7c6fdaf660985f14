"""Court observations become an app of their own (label `observations`), state only.

The models keep their tables (`db_table` exams_*, the index its name): this creates
them in the migration state of this app, exams 0013 then deletes them from that of
exams, and neither touches the database. The content types follow the models, and
with them the permissions on them (and the groups and users granted those), Wagtail's
log entries and anything else keyed by content type: exams.view_attendance becomes
observations.view_attendance. A new database has no content types yet, so there
this step changes nothing."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import modelcluster.fields
import modelsearch.index

import exams.observations.models

MOVED_MODELS = (
    "courtobservation",
    "attendance",
    "attendancechange",
    "reflection",
    "planobservation",
)


def _relabel(apps, schema_editor, old, new):
    """Give the moved models' content types the `new` app label. The rows under `old`
    are the ones in use until now, so they win: a row `new` already has was made by
    a post_migrate of a partial `migrate` (from the models as they are in the code,
    or in the migration state) and is deleted first, with its permissions; the role
    sync at the end of `migrate` grants the roles theirs again."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = ContentType.objects.using(schema_editor.connection.alias)
    moving = list(
        content_types.filter(app_label=old, model__in=MOVED_MODELS).values_list("model", flat=True)
    )
    content_types.filter(app_label=new, model__in=moving).delete()
    content_types.filter(app_label=old, model__in=moving).update(app_label=new)


def content_types_to_observations(apps, schema_editor):
    _relabel(apps, schema_editor, "exams", "observations")


def content_types_back_to_exams(apps, schema_editor):
    _relabel(apps, schema_editor, "observations", "exams")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The last exams migration that changed these models.
        ("exams", "0012_observation_checkout"),
        ("learning", "0004_lectures_study"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CourtObservation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("title", models.CharField(max_length=200, verbose_name="title")),
                        ("court", models.CharField(max_length=100, verbose_name="court")),
                        (
                            "courtroom",
                            models.CharField(blank=True, max_length=100, verbose_name="courtroom"),
                        ),
                        (
                            "case_type",
                            models.CharField(
                                choices=[
                                    ("administrative", "Administrative litigation"),
                                    ("civil", "Civil"),
                                    ("criminal", "Criminal"),
                                    ("other", "Other"),
                                ],
                                default="administrative",
                                max_length=16,
                                verbose_name="case type",
                            ),
                        ),
                        ("case_summary", models.TextField(blank=True, verbose_name="case summary")),
                        ("starts_at", models.DateTimeField(verbose_name="starts at")),
                        ("ends_at", models.DateTimeField(verbose_name="ends at")),
                        (
                            "meeting_point",
                            models.CharField(
                                blank=True,
                                help_text="Where attendees gather before entering the court, and when.",
                                max_length=200,
                                verbose_name="meeting point",
                            ),
                        ),
                        (
                            "capacity",
                            models.PositiveIntegerField(
                                default=30,
                                help_text="Seats in the public gallery for us; invitees and registrants take one each.",
                                validators=[django.core.validators.MinValueValidator(1)],
                                verbose_name="capacity",
                            ),
                        ),
                        (
                            "credit_minutes",
                            models.PositiveSmallIntegerField(
                                default=120, verbose_name="credit minutes"
                            ),
                        ),
                        (
                            "registration_deadline",
                            models.DateTimeField(verbose_name="registration deadline"),
                        ),
                        (
                            "open_registration",
                            models.BooleanField(
                                default=True,
                                help_text="Any official may register; otherwise only invitees can.",
                                verbose_name="open registration",
                            ),
                        ),
                        (
                            "late_after_minutes",
                            models.PositiveSmallIntegerField(
                                default=10,
                                help_text="A check-in this many minutes after the start counts as late.",
                                verbose_name="late after (minutes)",
                            ),
                        ),
                        (
                            "checkin_opens_minutes_before",
                            models.PositiveSmallIntegerField(
                                default=60,
                                help_text="Scanning the check-in code counts from this many minutes before the start.",
                                verbose_name="check-in opens (minutes before the start)",
                            ),
                        ),
                        (
                            "checkin_closes_minutes_after",
                            models.PositiveSmallIntegerField(
                                default=0,
                                help_text="Scanning the check-in code counts until this many minutes after the scheduled end (0: check-in closes at the end). Organizers can still mark attendance by hand.",
                                verbose_name="check-in closes (minutes after the end)",
                            ),
                        ),
                        (
                            "uses_checkout",
                            models.BooleanField(
                                default=False,
                                help_text="Officials scan the code again at the end, from 30 minutes before it until an hour after; the hours are credited at the check-out. An organizer marking someone present vouches for the whole hearing.",
                                verbose_name="check-out",
                            ),
                        ),
                        (
                            "reflection_required",
                            models.BooleanField(
                                default=False, verbose_name="reflection required for credit"
                            ),
                        ),
                        (
                            "reflection_due_days",
                            models.PositiveSmallIntegerField(
                                default=7,
                                help_text="Reflections can be submitted until this many days after the end.",
                                verbose_name="reflection due (days)",
                            ),
                        ),
                        (
                            "attendee_list_fields",
                            exams.observations.models.MultipleChoiceJSONField(
                                blank=True,
                                default=exams.observations.models.default_attendee_fields,
                                help_text="What the court's security needs besides names.",
                                item_choices=[
                                    ("staff_number", "Staff number"),
                                    ("department", "Department"),
                                    ("position", "Position"),
                                    ("mobile", "Mobile"),
                                ],
                                verbose_name="attendee list columns",
                            ),
                        ),
                        (
                            "venue_latitude",
                            models.FloatField(
                                blank=True,
                                help_text="Decimal degrees, e.g. 39.0256 (WGS 84, as phones report it).",
                                null=True,
                                validators=[
                                    django.core.validators.MinValueValidator(-90),
                                    django.core.validators.MaxValueValidator(90),
                                ],
                                verbose_name="venue latitude",
                            ),
                        ),
                        (
                            "venue_longitude",
                            models.FloatField(
                                blank=True,
                                help_text="Decimal degrees, e.g. 117.6512.",
                                null=True,
                                validators=[
                                    django.core.validators.MinValueValidator(-180),
                                    django.core.validators.MaxValueValidator(180),
                                ],
                                verbose_name="venue longitude",
                            ),
                        ),
                        (
                            "venue_radius_m",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="With the venue's position and a radius, a scan counts only from a phone that shares its location within this distance of the venue. Leave empty for no location check.",
                                null=True,
                                validators=[django.core.validators.MinValueValidator(10)],
                                verbose_name="check-in radius (metres)",
                            ),
                        ),
                        (
                            "single_use_codes",
                            models.BooleanField(
                                default=False,
                                help_text="Each code checks in one official only, who must already be signed in when scanning; the screen then shows a new code. Stops a photographed code being used by someone else, but people scanning one screen check in one after another.",
                                verbose_name="single-use check-in codes",
                            ),
                        ),
                        (
                            "venue_networks",
                            models.TextField(
                                blank=True,
                                help_text="The venue's own Wi-Fi addresses or ranges (e.g. 203.0.113.0/24), one per line. Check-ins from them are not flagged when several come from one address.",
                                verbose_name="venue network addresses",
                            ),
                        ),
                        (
                            "closed_at",
                            models.DateTimeField(
                                blank=True, editable=False, null=True, verbose_name="closed at"
                            ),
                        ),
                        (
                            "invited_departments",
                            modelcluster.fields.ParentalManyToManyField(
                                blank=True,
                                help_text="Every official in these departments (and below) is invited.",
                                related_name="+",
                                to="learning.department",
                                verbose_name="invited departments",
                            ),
                        ),
                        (
                            "invited_officials",
                            modelcluster.fields.ParentalManyToManyField(
                                blank=True,
                                related_name="+",
                                to="learning.official",
                                verbose_name="invited officials",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "court observation",
                        "verbose_name_plural": "court observations",
                        "db_table": "exams_courtobservation",
                        "ordering": ["-starts_at"],
                    },
                    bases=(modelsearch.index.Indexed, models.Model),
                ),
                migrations.CreateModel(
                    name="Attendance",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("invited", "Invited"),
                                    ("registered", "Registered"),
                                    ("present", "Present"),
                                    ("late", "Late"),
                                    ("excused", "Excused"),
                                    ("absent", "Absent"),
                                    ("withdrawn", "Withdrawn"),
                                ],
                                default="registered",
                                max_length=16,
                                verbose_name="status",
                            ),
                        ),
                        (
                            "registered_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="registered at"
                            ),
                        ),
                        (
                            "checked_in_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="checked in at"
                            ),
                        ),
                        (
                            "checked_out_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="checked out at"
                            ),
                        ),
                        (
                            "official",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="observation_attendance",
                                to="learning.official",
                                verbose_name="official",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "attendance",
                        "verbose_name_plural": "attendance",
                        "db_table": "exams_attendance",
                        "ordering": [
                            "observation",
                            "official__department__path",
                            "official__staff_number",
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="AttendanceChange",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "changed_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="changed at"
                            ),
                        ),
                        (
                            "old_status",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("invited", "Invited"),
                                    ("registered", "Registered"),
                                    ("present", "Present"),
                                    ("late", "Late"),
                                    ("excused", "Excused"),
                                    ("absent", "Absent"),
                                    ("withdrawn", "Withdrawn"),
                                ],
                                max_length=16,
                                verbose_name="old status",
                            ),
                        ),
                        (
                            "new_status",
                            models.CharField(
                                choices=[
                                    ("invited", "Invited"),
                                    ("registered", "Registered"),
                                    ("present", "Present"),
                                    ("late", "Late"),
                                    ("excused", "Excused"),
                                    ("absent", "Absent"),
                                    ("withdrawn", "Withdrawn"),
                                ],
                                max_length=16,
                                verbose_name="new status",
                            ),
                        ),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("self", "Official (self service)"),
                                    ("check_in", "QR check-in"),
                                    ("check_out", "QR check-out"),
                                    ("organizer", "Organizer"),
                                    ("close", "Closing the event"),
                                ],
                                max_length=16,
                                verbose_name="how",
                            ),
                        ),
                        (
                            "client_ip",
                            models.GenericIPAddressField(
                                blank=True, null=True, verbose_name="client address"
                            ),
                        ),
                        (
                            "distance_m",
                            models.PositiveIntegerField(
                                blank=True, null=True, verbose_name="distance from venue (m)"
                            ),
                        ),
                        (
                            "redeemed_code",
                            models.CharField(
                                blank=True,
                                editable=False,
                                max_length=80,
                                null=True,
                                unique=True,
                                verbose_name="redeemed code",
                            ),
                        ),
                        (
                            "attendance",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="changes",
                                to="observations.attendance",
                                verbose_name="attendance",
                            ),
                        ),
                        (
                            "changed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="changed by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "attendance change",
                        "verbose_name_plural": "attendance changes",
                        "db_table": "exams_attendancechange",
                        "ordering": ["-changed_at", "-pk"],
                    },
                ),
                migrations.AddField(
                    model_name="attendance",
                    name="observation",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attendance",
                        to="observations.courtobservation",
                        verbose_name="court observation",
                    ),
                ),
                migrations.CreateModel(
                    name="PlanObservation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("sort_order", models.IntegerField(blank=True, editable=False, null=True)),
                        (
                            "observation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="observations.courtobservation",
                                verbose_name="court observation",
                            ),
                        ),
                        (
                            "plan",
                            modelcluster.fields.ParentalKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="required_observations",
                                to="learning.studyplan",
                                verbose_name="study plan",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "required court observation",
                        "verbose_name_plural": "required court observations",
                        "db_table": "exams_planobservation",
                        "ordering": ["sort_order"],
                        "abstract": False,
                    },
                ),
                migrations.CreateModel(
                    name="Reflection",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("text", models.TextField(verbose_name="reflection")),
                        (
                            "file",
                            models.FileField(
                                blank=True,
                                help_text="Optional: PDF, Word, text or image, at most 10 MB.",
                                upload_to=exams.observations.models.reflection_upload_to,
                                validators=[
                                    django.core.validators.FileExtensionValidator(
                                        ["pdf", "doc", "docx", "txt", "jpg", "jpeg", "png"]
                                    ),
                                    exams.observations.models.validate_reflection_size,
                                ],
                                verbose_name="file",
                            ),
                        ),
                        (
                            "submitted_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="submitted at"
                            ),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="updated at"
                            ),
                        ),
                        (
                            "attendance",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reflection",
                                to="observations.attendance",
                                verbose_name="attendance",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "reflection",
                        "verbose_name_plural": "reflections",
                        "db_table": "exams_reflection",
                    },
                ),
                migrations.AddConstraint(
                    model_name="courtobservation",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                        name="observation_ends_after_start",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="courtobservation",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("capacity__gte", 1)), name="observation_capacity_min"
                    ),
                ),
                migrations.AddIndex(
                    model_name="attendance",
                    index=models.Index(
                        fields=["official", "status"], name="exams_atten_officia_91036e_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="attendance",
                    constraint=models.UniqueConstraint(
                        fields=("observation", "official"), name="unique_observation_attendance"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="attendance",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            (
                                "status__in",
                                [
                                    "invited",
                                    "registered",
                                    "present",
                                    "late",
                                    "excused",
                                    "absent",
                                    "withdrawn",
                                ],
                            )
                        ),
                        name="observation_attendance_status_valid",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="attendance",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("checked_in_at__isnull", True),
                            models.Q(
                                ("status__in", ["invited", "registered", "withdrawn"]),
                                _negated=True,
                            ),
                            _connector="OR",
                        ),
                        name="observation_checked_in_status",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="planobservation",
                    constraint=models.UniqueConstraint(
                        fields=("plan", "observation"), name="unique_plan_observation"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_observations, content_types_back_to_exams),
    ]
