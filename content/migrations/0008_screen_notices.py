import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("content", "0007_drop_schedule_stamp"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='playlist',
            name='ticker',
            field=models.TextField(blank=True, help_text='Short texts that scroll along the bottom of the screen while this playlist plays, one per line.', verbose_name='ticker'),
        ),
        migrations.AddField(
            model_name='screen',
            name='offline_alert_minutes',
            field=models.PositiveSmallIntegerField(blank=True, help_text="Organizers are notified once when the screen has not been seen for this long. Empty: the site's default (XUEFA_SCREEN_OFFLINE_ALERT_MINUTES).", null=True, validators=[django.core.validators.MinValueValidator(5), django.core.validators.MaxValueValidator(10080)], verbose_name='offline alert after (minutes)'),
        ),
        migrations.AddField(
            model_name='screen',
            name='offline_alerted_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='offline alert sent'),
        ),
        migrations.AlterField(
            model_name='publicityitem',
            name='kind',
            field=models.CharField(choices=[('poster', 'Poster'), ('video', 'Video'), ('text_card', 'Text card'), ('quotation', 'Law article quotation'), ('lecture', 'Lecture highlight'), ('data_screen', 'Data screen')], default='poster', max_length=16, verbose_name='kind'),
        ),
        migrations.CreateModel(
            name='ScreenNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(blank=True, max_length=60, verbose_name='title')),
                ('text', models.TextField(max_length=400, verbose_name='text')),
                ('all_screens', models.BooleanField(default=True, verbose_name='all screens')),
                ('starts_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='starts')),
                ('ends_at', models.DateTimeField(verbose_name='ends')),
                ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='ended early')),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='ended by')),
                ('screens', models.ManyToManyField(blank=True, related_name='notices', to='content.screen', verbose_name='screens')),
            ],
            options={
                'verbose_name': 'urgent notice',
                'verbose_name_plural': 'urgent notices',
                'ordering': ['-starts_at', '-pk'],
                'indexes': [models.Index(fields=['ends_at'], name='content_notice_ends_idx')],
            },
        ),
    ]
