import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("learning", "0011_plan_certificate"),
    ]

    operations = [
        migrations.CreateModel(
            name='NoticePreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('opted_out', models.JSONField(blank=True, default=list, verbose_name='channels switched off')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='notice_preference', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'notice preference',
                'verbose_name_plural': 'notice preferences',
            },
        ),
        migrations.CreateModel(
            name='Delivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('exam_opening', 'Exam opening'), ('study_reminder', 'Study reminder'), ('observation_invitation', 'Court observation invitation'), ('result', 'Exam result'), ('briefing', 'Briefing sheet'), ('screen_offline', 'Screen offline')], max_length=32, verbose_name='kind')),
                ('subject', models.CharField(max_length=200, verbose_name='subject')),
                ('body', models.TextField(blank=True, verbose_name='body')),
                ('url', models.URLField(blank=True, max_length=500, verbose_name='link')),
                ('channel', models.CharField(choices=[('email', 'E-mail'), ('sms', 'SMS'), ('wecom', 'WeCom work notification'), ('wecom_robot', 'WeCom group robot'), ('dingtalk_robot', 'DingTalk group robot')], max_length=20, verbose_name='channel')),
                ('status', models.CharField(choices=[('pending', 'Waiting to be sent'), ('sent', 'Sent'), ('no_address', 'Skipped: no address'), ('opted_out', 'Skipped: opted out'), ('failed', 'Failed')], default='pending', max_length=12, verbose_name='status')),
                ('address', models.CharField(blank=True, max_length=120, verbose_name='address (masked)')),
                ('error', models.TextField(blank=True, verbose_name='error')),
                ('provider_message_id', models.CharField(blank=True, max_length=128, verbose_name='provider message id')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('sent_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='sent by')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notice_deliveries', to=settings.AUTH_USER_MODEL, verbose_name='recipient')),
            ],
            options={
                'verbose_name': 'notice delivery',
                'verbose_name_plural': 'notice deliveries',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['user', 'created_at'], name='delivery_user_created'), models.Index(fields=['status', 'created_at'], name='delivery_status_created'), models.Index(fields=['kind', 'url'], name='delivery_kind_url')],
            },
        ),
    ]
