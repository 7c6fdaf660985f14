"""What background jobs (exports, imports) share: throttled progress counters on the
job's row, so a page polling it sees how far the work got and a worker that died
shows up as stale."""

import time

from django.utils import timezone

PROGRESS_INTERVAL = 0.5


class Progress:
    """`progress(done, total)` for builders: writes the job row's `done`, `total` and
    `updated_at` at most once per `interval` seconds (and always when done reaches
    total). Works for any model with those three fields."""

    def __init__(self, job, interval=PROGRESS_INTERVAL, clock=time.monotonic):
        self.job = job
        self.interval = interval
        self.clock = clock
        self.last = None

    def __call__(self, done, total):
        now = self.clock()
        finished = total and done >= total
        if self.last is not None and now - self.last < self.interval and not finished:
            return
        self.last = now
        self.job.done, self.job.total = done, total
        type(self.job).objects.filter(pk=self.job.pk).update(
            done=done, total=total, updated_at=timezone.now()
        )
