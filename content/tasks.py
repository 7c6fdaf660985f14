"""Background work for publicity screens on Django's tasks framework (django-tasks)."""

from django_tasks import task

from . import offline, plays, screens


@task()
def screen_housekeeping_task():
    """Write the screens' cached last-seen times and reported items to the database
    in one batch, purge plays older than the play log keeps, and tell the organizers
    about screens that went offline (content/offline.py). Polls start it at most once
    per XUEFA_SCREEN_SEEN_INTERVAL; cron runs it too (the screen_housekeeping
    command), which is what notices a screen that stopped polling when the others
    are quiet. Returns (screens updated, plays purged, screens reported offline)."""
    updated = screens.flush_status()
    purged = plays.purge_play_logs()
    return updated, purged, len(offline.alert_offline_screens())
