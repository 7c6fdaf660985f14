"""Work every worker would otherwise repeat on its first requests, done once in the
gunicorn master before it forks workers (gunicorn.conf.py, with the app preloaded).

A worker's first signed-in page cost about 0.4 s: compiling the project's
templates, loading the translation catalogues and building the URL resolver's
reverse tables. Each of the workers paid it when the server started and again each
time one was recycled, and on exam day the requests queued behind it. Done in the
master, every worker (first or recycled) is forked with all of it in memory.
Nothing here opens a connection that a worker would share: no database, no cache.
"""

from importlib import import_module

from django.conf import settings
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver, reverse
from django.utils import translation
from django.utils.module_loading import import_string

from learning.fast import shells as page_shells


def project_templates():
    """Names of the project's own templates, as the Django engine loads them."""
    names = set()
    for folder in page_shells.project_template_folders():
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in {".html", ".txt", ".xml"}:
                names.add(path.relative_to(folder).as_posix())
    return sorted(names)


def warm_up():
    """Compile the project's templates, load every language's catalogue and fill
    the URL resolver's reverse tables for each. Returns how many templates were
    compiled."""
    engine = engines["django"]
    compiled = 0
    for name in project_templates():
        try:
            engine.get_template(name)
        except TemplateSyntaxError:
            continue  # not a Django template (a static file kept beside them)
        compiled += 1
    # Backends Django imports on first use (the Redis client's modules alone took
    # 70 ms); imported only: connections are each worker's own.
    for alias in settings.CACHES.values():
        import_string(alias["BACKEND"])
    import_module(settings.SESSION_ENGINE)
    import_string(settings.MESSAGE_STORAGE)
    # The page shells' template fingerprint reads every template file once.
    page_shells.fingerprint()
    get_resolver().resolve("/")
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            reverse("home")
    return compiled
