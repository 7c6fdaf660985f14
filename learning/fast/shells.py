"""Pages rendered once for every reader and filled in per request ("shells").

A lecture page is the same for every official but for a few small parts: the CSRF
token of its forms, the address the language switch returns to, messages, the
back-office link and the reader's own study progress. Templates mark each such part
with {% per_request "some/template.html" %}. The rest of the page is rendered once,
with nobody's data in it (the reader is an anonymous signed-in user, no messages,
no CSRF token), cut at those marks and kept in the cache; each request renders only
the small per-request templates with its own context and joins the pieces.

A shell is kept under a key its page names (the lecture's address and whether the
reader studies it), the language, the time zone and a fingerprint of the templates;
it is used only for the same page version (the lecture's id and live revision) and
while the generation of the "pages" family it was rendered under is current
(learning.fast): anything a shell shows may have changed whenever a page is saved,
moved, published, unpublished or deleted (titles, breadcrumbs, the lecture itself),
and with law topics, speakers, images, documents, embeds and Sites. With the cache
down every request renders the whole page (misses); with the fast paths off, too.
"""

import hashlib
import re
import secrets
from functools import lru_cache
from pathlib import Path

import django
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.template.context import make_context
from django.template.loader import render_to_string
from django.template.utils import get_app_template_dirs
from django.utils import timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext

import wagtail

from ..templatetags.icons import icon
from ..templatetags.study_clock import clock
from . import enabled, keys, remember
from .back_office import can_open_back_office

FAMILY = "pages"
# A backstop only: changes start a new generation at once. Keep it well below the
# lifetime of signed media URLs (MEDIA_S3_URL_SECONDS, an hour): a shell carries them.
SHELL_SECONDS = 600
# Context variable holding the marker nonce while a shell is rendered.
SHELL_NONCE = "_page_shell_nonce"
CSRF_TEMPLATE = "includes/csrf_token_value.html"


class ShellReader:
    """The reader of a shell: signed in, and nothing else known about them."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = id = None

    def __str__(self):
        return ""


def hole(nonce, template_name):
    """What stands in a shell for the output of `template_name` rendered per request.
    Only letters, digits and []._/- so that HTML escaping leaves it as it is."""
    return SafeString(f"{nonce}[{template_name}]")


def render_hole(template, context):
    """A per-request template's output, without the white space around it."""
    return template.render(context).strip()


def _django_engine():
    return engines["django"].engine


def project_template_folders():
    """The Django engine's template folders that belong to the project, sorted: not
    the installed packages' (whose versions fingerprint() names instead), even when
    the virtualenv lives inside the project."""
    base = Path(settings.BASE_DIR).resolve()
    dirs = [Path(d) for d in _django_engine().dirs]
    dirs += [Path(d) for d in get_app_template_dirs("templates")]
    resolved = {d.resolve() for d in dirs}
    return sorted(d for d in resolved if d.is_relative_to(base) and "site-packages" not in d.parts)


@lru_cache(maxsize=1)
def fingerprint():
    """The project's templates (and the versions of what renders them): shells
    rendered by other code are never used after a deployment. Computed once per
    process: a process runs one version of the code."""
    digest = hashlib.sha256(f"{django.__version__}:{wagtail.__version__}".encode())
    base = Path(settings.BASE_DIR).resolve()
    for folder in project_template_folders():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def render_shell(template_name, context, request, reader=None):
    """(static, hole, static, hole, ..., static) for the template rendered with
    `context` as nobody in particular (`reader`, by default a signed-in ShellReader);
    None if the page cannot be cut cleanly."""
    nonce = secrets.token_hex(12)
    shell_context = {
        **context,
        SHELL_NONCE: nonce,
        "user": reader or ShellReader(),
        "perms": None,
        "messages": (),
        "csrf_token": hole(nonce, CSRF_TEMPLATE),
    }
    html = render_to_string(template_name, shell_context, request)
    parts = re.split(re.escape(nonce) + r"\[([\w./-]+)\]", html)
    # A mark changed on its way out (a filter, say) would show up in the page.
    if any(nonce in part.lower() for part in parts[::2]):
        return None
    return tuple(parts)


def _csrf_token(request, context):
    return get_token(request)


def _current_path(request, context):
    return conditional_escape(request.get_full_path())


def _lecture_progress(request, context):
    # What learning/includes/lecture_progress.html prints (it still renders the part
    # outside shells), written out because rendering it cost more than the page's
    # other holes together; test_a_page_from_its_shell_is_the_page_rendered_whole
    # keeps the two the same.
    record, page = context["record"], context["page"]
    done, studying = (conditional_escape(gettext(text)) for text in ("Completed", "Studying"))
    minutes = gettext(
        "<span data-study-minutes>%(credited)s</span> of %(required)s minutes credited"
    ) % {
        "credited": conditional_escape((record.credited_minutes if record else 0) or 0),
        "required": conditional_escape(page.credit_minutes),
    }
    return (
        '<div class="study-progress card" role="status" aria-live="polite">\n'
        f'    <span data-study-status data-completed-text="{done}" '
        f'data-studying-text="{studying}">'
        f"{done if record and record.completed_at else studying}</span>\n"
        "    \u00b7\n"
        f"    {minutes}\n"
        f'    <progress data-study-bar max="{conditional_escape(page.credit_seconds)}" '
        f'value="{conditional_escape((record.credited_seconds if record else 0) or 0)}">'
        "</progress>\n"
        "</div>"
    )


def _lecture_study_clock(request, context):
    # What learning/includes/lecture_study_clock.html prints, written out for the
    # same reason as _lecture_progress and kept equal to it by the same test.
    record, page = context["record"], context["page"]
    credited = (record.credited_seconds if record else 0) or 0
    required = page.credit_seconds
    note_hidden = " hidden" if credited >= required else ""
    label, note = (
        conditional_escape(gettext(text))
        for text in ("Time studied", "Keep this page open while you study")
    )
    return (
        '<div class="study-clock" data-study-clock-row>\n'
        f'    <p class="study-clock-time">{icon("clock")} <span>{label}</span> '
        f'<time data-study-clock data-seconds="{conditional_escape(credited)}" '
        f'data-required-seconds="{conditional_escape(required)}" '
        f'datetime="PT{conditional_escape(credited)}S">{clock(credited)}</time> '
        f'<span class="muted">/ <time datetime="PT{conditional_escape(required)}S">'
        f"{clock(required)}</time></span></p>\n"
        f'    <p class="muted study-clock-note" data-study-note{note_hidden}>{note}</p>\n'
        "</div>"
    )


def _messages(request, context):
    # Only the common case, no messages: the template renders any there are (and
    # marks them shown), as it does outside shells.
    return None if len(get_messages(request)) else ""


def _back_office_link(request, context):
    return None if can_open_back_office(request.user) else ""


# Holes filled without their template: each gives what the template would print, or
# None to render the template after all. The templates still render these parts
# outside shells; tests check that a page from its shell equals the page rendered whole.
FAST_HOLES = {
    CSRF_TEMPLATE: _csrf_token,
    "includes/current_path.html": _current_path,
    "includes/messages.html": _messages,
    "includes/back_office_link.html": _back_office_link,
    "learning/includes/lecture_progress.html": _lecture_progress,
    "learning/includes/lecture_study_clock.html": _lecture_study_clock,
}


def fill(parts, request, context):
    """The page: the shell's static parts, each hole filled for this request."""
    if len(parts) == 1:
        return parts[0]
    out = list(parts)
    rendered = {}  # a hole that comes twice (the CSRF token) is filled once
    slow = []
    for i in range(1, len(parts), 2):
        name = parts[i]
        if name not in rendered:
            fast = FAST_HOLES.get(name)
            rendered[name] = fast(request, context) if fast is not None else None
            if rendered[name] is None:
                slow.append(name)
        out[i] = rendered[name]
    if slow:
        engine = _django_engine()
        templates = {name: engine.get_template(name) for name in slow}
        request_context = make_context(context, request)
        with request_context.bind_template(templates[slow[0]]):
            for name in slow:
                rendered[name] = render_hole(templates[name], request_context)
        for i in range(1, len(parts), 2):
            if out[i] is None:
                out[i] = rendered[parts[i]]
    return "".join(out)


# The layout's parts (header, footer: see layout_part), cut like shells, by template,
# language and whether the reader is signed in, with the template they came from.
_LAYOUT_PARTS = {}


def layout_part(template_name, context):
    """What {% include template_name %} gives in `context`, from this process's copy
    of the part with the request's holes filled; None where it has to be rendered
    (no request, or a part that cannot be cut). A layout part is the same on every
    page for every reader but for its holes, and changes only with the templates,
    the translations and the URLs: that is, with the code, which a process only runs
    one version of. (The development server's template reloading makes new template
    objects, which the copy is checked against.)"""
    request, user = context.get("request"), context.get("user")
    if request is None or user is None or not enabled():
        return None
    template = _django_engine().get_template(template_name)
    signed_in = bool(user.is_authenticated)
    key = (template_name, translation.get_language(), signed_in)
    entry = _LAYOUT_PARTS.get(key)
    if entry is None or entry[0] is not template:
        reader = ShellReader() if signed_in else AnonymousUser()
        entry = (template, render_shell(template_name, {}, request, reader))
        _LAYOUT_PARTS[key] = entry
    if entry[1] is None:
        return None
    return SafeString(fill(entry[1], request, context.flatten()))


def shell_key(name):
    """The cache key of the shell `name` (what the caller's page depends on) in the
    current language and time zone, rendered by the current templates."""
    return ":".join(
        [
            "xuefa:page-shell",
            fingerprint(),
            name,
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
        ]
    )


def shell_cache_keys(key):
    """The cache keys shell_response reads for the shell `key`, for read-ahead."""
    return keys(FAMILY, key)


def shell_response(request, *, key, version, template_name, context, shell_context):
    """Serve a page from its shell kept under `key` (see shell_key), rendering and
    keeping it first if needed; None when the page cannot be cut cleanly (then the
    caller renders it whole). The shell is used only under the current generation of
    the "pages" family and when it was rendered from the same `version` of the page
    (say its id and live revision). `context` is the holes' (per request);
    `shell_context()` builds the shell's and is called only when the shell has to be
    rendered."""

    def render():
        parts = render_shell(template_name, shell_context(), request)
        return None if parts is None else (version, parts)

    entry = remember(FAMILY, key, render, SHELL_SECONDS, valid=lambda kept: kept[0] == version)
    if entry is None:
        return None
    return HttpResponse(fill(entry[1], request, context))
