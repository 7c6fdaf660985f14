"""Official-facing exam pages. Every view works on the signed-in official's own
sessions and attempts; anything else is a 404. Rules live in attempts.py."""

import json
from functools import wraps
from html import escape

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from learning.models import Official

from . import attempts as engine
from . import notebook
from .assignments import my_session, my_sessions
from .certificates import certificate_pdf
from .models import Attempt, ExamSession, QuestionType
from .models.questions import FALSE, TRUE

NOTEBOOK_PRACTICE_SIZE = 20


def _official(request, with_department=False):
    """The signed-in official; 404 for anyone else. `with_department` loads their
    department in the same query, for views that work out what is assigned to them."""
    if with_department:
        try:
            return Official.objects.select_related("department").get(user_id=request.user.pk)
        except Official.DoesNotExist:
            raise Http404 from None
    official = getattr(request.user, "official", None)
    if official is None:
        raise Http404
    return official


def _my_attempt(request, session_pk, pk):
    """The signed-in official's own attempt with its session (one query, filtered
    through the official's user); 404 for anyone else's."""
    return get_object_or_404(
        Attempt.objects.select_related("session"),
        pk=pk,
        session_id=session_pk,
        official__user_id=request.user.pk,
    )


@login_required
def index(request):
    """My exams: only sessions assigned to me, with where I stand in each."""
    try:
        official = _official(request, with_department=True)
    except Http404:
        official = None  # staff without an official's profile: nothing assigned
    rows = my_sessions(official) if official else []
    expired = [r.in_progress for r in rows if r.in_progress and engine.is_expired(r.in_progress)]
    if expired:
        # Opening the list is an access: expired attempts are submitted first.
        for attempt in expired:
            engine.expire_if_due(attempt)
        rows = my_sessions(official)
    return render(request, "exams/index.html", {"rows": rows})


@login_required
def session_detail(request, pk):
    official = _official(request, with_department=True)
    session = get_object_or_404(ExamSession, pk=pk)
    attempts = list(Attempt.objects.filter(session=session, official=official).order_by("number"))
    for attempt in attempts:
        engine.expire_if_due(attempt)
    row = my_session(official, session, attempts=attempts)
    if row is None:
        raise Http404
    now = timezone.now()
    # Attempts left may be used to improve a passing score (best attempt counts).
    can_start = (
        row.in_progress is None
        and row.terms.opens_at <= now < row.terms.closes_at
        and row.attempts_left > 0
    )
    return render(
        request, "exams/session.html", {"row": row, "session": session, "can_start": can_start}
    )


@login_required
@require_POST
def start(request, pk):
    official = _official(request, with_department=True)
    session = get_object_or_404(ExamSession, pk=pk)
    try:
        attempt = engine.start_attempt(session, official)
    except engine.ExamError as error:
        messages.error(request, str(error))
        return redirect("exams:session", pk=session.pk)
    return redirect("exams:attempt", session_pk=session.pk, pk=attempt.pk)


# The attempt page's questions, written here rather than looped over in the template:
# fifty questions of four options cost the template engine about 5.5 ms a page, more
# than the rest of the request's own work, and every official opens the page within
# minutes on exam day; this costs a tenth. Every value is escaped (the standard
# library's html.escape, which Django's escape wraps: the same output without its
# lazy-text check, 600 times a page); the stem's line breaks become <br> as the
# linebreaksbr filter makes them.
QUESTION_HTML = (
    '<fieldset class="card question" id="q-{position}" data-position="{position}"{saved_at}>\n'
    '    <legend><span class="q-number">{position}.</span> <span class="q-type">[{type}]</span>'
    ' <span class="q-points">({points})</span></legend>\n'
    '    <p class="stem">{stem}</p>\n'
    "{options}"
    '    <p class="save-state{saved_class}" aria-live="polite">{saved}</p>\n'
    '    <div class="feedback" hidden></div>\n'
    "</fieldset>\n"
)
OPTION_HTML = (
    '    <label class="option"><input type="{input}" name="q{position}" value="{letter}"{checked}>'
    " {shown}{text}</label>\n"
)


def _lines_html(text):
    """What {{ text|linebreaksbr }} gives, escaped, without the template machinery."""
    return escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def questions_html(answers):
    """The fieldsets of the attempt page's questions, in the answers' order, with
    each saved response checked and marked saved. An option's value is the letter
    the page displays for it, never the bank's: the page must not tell which bank
    letter a shuffled option has (an unbalanced key would pay off for answering by
    position); the server maps the letters back (attempts.clean_response)."""
    type_labels = {
        QuestionType.SINGLE: escape(_("Single choice")),
        QuestionType.MULTIPLE: escape(_("Multiple choice")),
        QuestionType.TRUE_FALSE: escape(_("True or false")),
    }
    true_false = ((TRUE, TRUE, _("True")), (FALSE, FALSE, _("False")))
    saved_label = escape(_("Saved"))
    points_labels = {}
    out = []
    for answer in answers:
        qtype, response, position = answer.type, answer.response, answer.position
        if answer.points not in points_labels:
            points = floatformat(answer.points, "-2")
            points_labels[answer.points] = escape(_("%(points)s points") % {"points": points})
        input_type = "checkbox" if qtype == QuestionType.MULTIPLE else "radio"
        true_or_false = qtype == QuestionType.TRUE_FALSE
        shown_options = true_false if true_or_false else answer.shown_options()
        options = "".join(
            OPTION_HTML.format(
                input=input_type,
                position=position,
                letter=escape(shown),
                checked=" checked"
                if (letter == response if true_or_false else letter in response)
                else "",
                shown="" if true_or_false else f"{escape(shown)}. ",
                text=escape(text),
            )
            for shown, letter, text in shown_options
        )
        saved = answer.saved_at is not None
        out.append(
            QUESTION_HTML.format(
                position=position,
                # When the server last saved it (ms since the epoch): the page keeps
                # unsent answers in the browser and restores only newer ones.
                saved_at=f' data-saved-at="{int(answer.saved_at.timestamp() * 1000)}"'
                if saved
                else "",
                type=type_labels.get(qtype) or escape(qtype),
                points=points_labels[answer.points],
                stem=_lines_html(answer.snapshot["stem"]),
                options=options,
                saved_class=" saved" if saved else "",
                saved=saved_label if saved else "",
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - built from escaped parts above


@never_cache
@login_required
def attempt_page(request, session_pk, pk):
    attempt = _my_attempt(request, session_pk, pk)
    if engine.expire_if_due(attempt):
        return redirect("exams:result", session_pk=session_pk, pk=pk)
    answers = list(attempt.answers.order_by("position"))
    return render(
        request,
        "exams/attempt.html",
        {
            "attempt": attempt,
            "session": attempt.session,
            "questions_html": questions_html(answers),
            "total": len(answers),
            "remaining": engine.remaining_seconds(attempt),
            "answered": sum(1 for a in answers if a.response),
            "server_now_ms": int(timezone.now().timestamp() * 1000),
            "keepalive_seconds": keepalive_seconds(),
        },
    )


def keepalive_seconds():
    """How long an attempt page may stay quiet before it checks in (see `status`).
    The session records activity at most every XUEFA_SESSION_TOUCH_SECONDS and ends
    after XUEFA_SESSION_IDLE_SECONDS without any, so checking in within half the
    difference keeps an official who is reading, not clicking, signed in for the
    whole sitting; at most every five minutes."""
    idle = settings.XUEFA_SESSION_IDLE_SECONDS - settings.XUEFA_SESSION_TOUCH_SECONDS
    return max(1, min(300, idle // 2))


def _page_reply(data, status=200):
    """A JSON reply to the attempt page's background requests (save, status), never
    stored by a browser or a proxy. Built as plain JSON with one Cache-Control header
    rather than by JsonResponse and never_cache, whose encoder and header merging
    cost about 40 µs: an eighth of what the exam day's busiest request, the save,
    spends beyond a bare view."""
    response = HttpResponse(json.dumps(data), content_type="application/json", status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in_json(view):
    """For the attempt page's background requests: whoever is not (or no longer)
    signed in gets a JSON 401 the page acts on, rather than login_required's
    redirect to the sign-in page, which a fetch would follow without a word."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            message = _(
                "You have been signed out. Sign in again: the answers on this page are "
                "kept and sent as soon as you are back."
            )
            return _page_reply({"ok": False, "signed_out": True, "error": message}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


@_signed_in_json
@require_POST
def save(request, session_pk, pk):
    """Autosave one answer (JSON). Answers keys only for practice sessions, which
    give feedback as the person goes."""
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        return _page_reply({"ok": False, "error": _("Missing question number.")}, status=400)
    response = request.POST.get("response", "")
    try:
        saved = engine.autosave(pk, request.user.pk, session_pk, position, response)
        if saved is None:  # a practice: the save answers with feedback
            answer = engine.save_answer(
                pk,
                None,
                position,
                response,
                session_id=session_pk,
                user_id=request.user.pk,
                shown=True,
            )
    except Attempt.DoesNotExist:
        raise Http404 from None
    except engine.AttemptClosed as error:
        return _page_reply({"ok": False, "closed": True, "error": str(error)}, status=409)
    except engine.ExamError as error:
        return _page_reply({"ok": False, "error": str(error)}, status=400)
    if saved is not None:
        return _page_reply(
            {
                "ok": True,
                "position": saved.position,
                "response": saved.shown,
                "saved_at": saved.saved_at.isoformat(),
                "remaining": max(0, int((saved.deadline - saved.saved_at).total_seconds())),
            }
        )
    attempt = answer.attempt
    data = {
        "ok": True,
        "position": answer.position,
        "response": answer.display_letters(answer.response),
        "saved_at": answer.saved_at.isoformat(),
        "remaining": engine.remaining_seconds(attempt),
    }
    if attempt.session.is_practice and answer.response:
        correct = answer.response == answer.snapshot["answer"]
        data["feedback"] = {
            "correct": correct,
            "answer": answer.display_letters(answer.snapshot["answer"]),
            "explanation": answer.snapshot.get("explanation", ""),
            "legal_basis": answer.snapshot.get("legal_basis", ""),
        }
    return _page_reply(data)


@_signed_in_json
@require_GET
def status(request, session_pk, pk):
    """The attempt page checks in here when it has been quiet for keepalive_seconds,
    and when it comes back into view: the time left by the server's clock (the page
    resets its countdown, which a sleeping laptop lets drift), and a request that
    keeps the session from idling out while the official reads. 409 once the
    attempt is over (an expired one is submitted now, with what was saved)."""
    attempt = _my_attempt(request, session_pk, pk)
    if engine.expire_if_due(attempt):
        message = _("This attempt is over. Opening your result…")
        return _page_reply({"ok": False, "closed": True, "error": message}, status=409)
    return _page_reply({"ok": True, "remaining": engine.remaining_seconds(attempt)})


@never_cache
@require_POST
def submit(request, session_pk, pk):
    """Submit: what the form carries (in the letters the page displayed) is saved with
    the grading (so a page without JavaScript, or with unsent changes, loses nothing),
    and it is graded exactly once."""
    if not request.user.is_authenticated:
        # Signed out while the page was open: after signing in, back to the attempt
        # (whose page still holds the unsent answers), not to this POST-only address.
        return redirect_to_login(reverse("exams:attempt", args=(session_pk, pk)))
    attempt = _my_attempt(request, session_pk, pk)
    if not engine.expire_if_due(attempt):
        responses = {
            int(key[1:]): "".join(request.POST.getlist(key))
            for key in request.POST
            if key[:1] == "q" and key[1:].isdigit()
        }
        engine.submit_attempt(attempt, responses=responses)
    return redirect("exams:result", session_pk=session_pk, pk=pk)


@never_cache
@login_required
def result(request, session_pk, pk):
    attempt = _my_attempt(request, session_pk, pk)
    if not engine.expire_if_due(attempt):
        return redirect("exams:attempt", session_pk=session_pk, pk=pk)
    review = engine.can_review(attempt)
    answers = list(attempt.answers.order_by("position")) if review else []
    return render(
        request,
        "exams/result.html",
        {"attempt": attempt, "session": attempt.session, "review": review, "answers": answers},
    )


@login_required
def certificate(request, session_pk, pk):
    """The pre-appointment (or its make-up's) result certificate, for the candidate's
    own attempt."""
    attempt = _my_attempt(request, session_pk, pk)
    if not attempt.session.gives_certificate or not attempt.is_finished:
        raise Http404
    response = HttpResponse(certificate_pdf(attempt), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{attempt.pk}.pdf"'
    return response


@login_required
def notebook_page(request):
    """My wrong-answer notebook, with a practice form over the open entries."""
    official = _official(request)
    entries = notebook.entries_for(official)[:NOTEBOOK_PRACTICE_SIZE]
    results = {}
    if request.method == "POST":
        for entry in entries:
            response = "".join(request.POST.getlist(f"e{entry.pk}"))
            if response:
                results[entry.pk] = notebook.check(entry, response)
    rows = [(entry, results.get(entry.pk)) for entry in entries]
    cleared = len(notebook.entries_for(official, cleared=True))
    return render(
        request,
        "exams/notebook.html",
        {"rows": rows, "checked": request.method == "POST", "cleared": cleared},
    )
