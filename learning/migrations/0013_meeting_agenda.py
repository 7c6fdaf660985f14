import django.db.models.deletion
import modelcluster.fields
import modelsearch.index
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("learning", "0012_notices"),
    ]

    operations = [
        migrations.CreateModel(
            name="AgendaItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField(verbose_name="date")),
                ("meeting", models.CharField(choices=[("executive", "District executive meeting"), ("party_group", "Party group meeting"), ("all_staff", "All-staff meeting"), ("other", "Other meeting")], default="executive", max_length=16, verbose_name="meeting")),
                ("title", models.CharField(help_text="As the agenda says, e.g. 学习《民法典》 or 区长讲法治课.", max_length=200, verbose_name="law or topic")),
                ("credit_minutes", models.PositiveSmallIntegerField(default=60, help_text="What attending earns once the item is held.", verbose_name="credit minutes")),
                ("status", models.CharField(choices=[("planned", "Planned"), ("held", "Held"), ("cancelled", "Cancelled")], default="planned", max_length=10, verbose_name="status")),
                ("cancel_reason", models.CharField(blank=True, max_length=200, verbose_name="reason for cancelling")),
                ("notes", models.TextField(blank=True, verbose_name="notes")),
                ("lecture", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="agenda_items", to="learning.lecturepage", verbose_name="lecture page")),
                ("session", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="agenda_item", to="learning.collectivestudysession", verbose_name="collective study record")),
                ("speaker", models.ForeignKey(blank=True, help_text="An expert, or the district head giving a rule-of-law lesson.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="agenda_items", to="learning.speaker", verbose_name="speaker")),
                ("topics", modelcluster.fields.ParentalManyToManyField(blank=True, related_name="agenda_items", to="learning.lawtopic", verbose_name="law topics")),
            ],
            options={
                "verbose_name": "agenda item",
                "verbose_name_plural": "meeting law-study agenda",
                "ordering": ["date", "pk"],
                "indexes": [models.Index(fields=["status", "date"], name="agenda_item_status_date")],
                "constraints": [models.CheckConstraint(condition=models.Q(models.Q(("status", "cancelled"), _negated=True), models.Q(("cancel_reason", ""), _negated=True), _connector="OR"), name="agenda_item_cancelled_with_reason")],
            },
            bases=(modelsearch.index.Indexed, models.Model),
        ),
    ]
