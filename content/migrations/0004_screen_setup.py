from django.db import migrations


def create_stamp(apps, schema_editor):
    """The single schedule stamp row that polls read."""
    ScheduleStamp = apps.get_model("content", "ScheduleStamp")
    ScheduleStamp.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("content", "0003_publicity_screens")]

    operations = [migrations.RunPython(create_stamp, migrations.RunPython.noop)]
