"""gunicorn settings for production; every value can be overridden by environment."""

import gc
import os

wsgi_app = "xuefa.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# The usual 2 × cores + 1 synchronous workers, counting the cores this process may
# run on (taskset, cpusets), not the machine's; WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY", len(os.sched_getaffinity(0)) * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never grows without bound.
max_requests = 5000
max_requests_jitter = 500
# Load the app once in the master and fork workers from it: a worker (first or
# recycled) starts in milliseconds instead of importing Django and Wagtail again
# (about 1.5 s of CPU each, which at exam-day rates is a recycle every few seconds),
# and the workers share the imported code's memory. A code release therefore needs
# a restart of the master, not a HUP. GUNICORN_PRELOAD=false turns it off.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in {"0", "false", "no"}
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# Trust X-Forwarded-* only from the proxy in front of the app.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """With the app preloaded: do what each worker's first requests would repeat
    (xuefa.warmup: templates, catalogues, URL tables), then move everything loading
    it created out of the garbage collector's view, so no worker's collections walk
    (or copy-on-write touch) the hundreds of thousands of objects Django and Wagtail
    leave behind at start."""
    if server.cfg.preload_app:
        from xuefa.warmup import warm_up

        warm_up()
        gc.collect()
        gc.freeze()


def post_fork(server, worker):
    """Nothing the master may have opened while loading the app is shared with a
    worker: each worker opens its own database connections (the cache client opens
    its own pool in each process by itself)."""
    from django.db import connections

    connections.close_all()
