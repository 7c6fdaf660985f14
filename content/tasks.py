"""Background work for publicity screens on Django's tasks framework (django-tasks)."""

from django_tasks import task

from . import plays, screens


@task()
def screen_housekeeping_task():
    """Write the screens' cached last-seen times and reported items to the database
    in one batch, and purge plays older than the play log keeps. Polls start it at
    most once per XUEFA_SCREEN_SEEN_INTERVAL; cron may run it too (the
    screen_housekeeping command). Returns (screens updated, plays purged)."""
    return screens.flush_status(), plays.purge_play_logs()
