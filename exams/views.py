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
from . import gate, integrity, notebook, secrecy
from .assignments import my_session, my_sessions
from .certificates import certificate_pdf
from .dashboard import gate_blocked
from .models import Answer, Attempt, ExamSession, QuestionType
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
    """My exams: only sessions assigned to me, with where I stand in each, and which
    of them I may not start yet for their entry requirements."""
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
    blocked = gate_blocked(official, rows) if official else set()
    return render(request, "exams/index.html", {"rows": rows, "blocked": blocked})


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
    may_start = row.in_progress is None and now < row.terms.closes_at and row.attempts_left > 0
    # Entry requirements show before the window opens too, so they can be met in time.
    blockers = gate.blockers(session, official) if may_start else []
    entry_closes = engine.entry_closes_at(session, row.terms)
    entry_closed = entry_closes is not None and now > entry_closes
    can_start = may_start and row.terms.opens_at <= now and not blockers and not entry_closed
    context = {
        "row": row,
        "session": session,
        "can_start": can_start,
        "entry_closes": entry_closes,
        "entry_closed": entry_closed and may_start,
        "blockers": blockers,
        "withheld_scores": withheld_scores(official, session, attempts),
        "gate_met": may_start and not blockers and gate.has_gate(session),
    }
    return render(request, "exams/session.html", context)


def _device(request):
    """This browser's device (see exams.integrity), from its device cookie."""
    return integrity.device_of(request.COOKIES.get(integrity.DEVICE_COOKIE, ""))


def _with_device_cookie(request, view):
    """Run `view(device)` with this browser's device, giving the browser a device
    cookie first when it has none."""
    cookie = request.COOKIES.get(integrity.DEVICE_COOKIE, "")
    new = not cookie
    if new:
        cookie = integrity.new_device_cookie()
    response = view(integrity.device_of(cookie))
    if new:
        response.set_cookie(
            integrity.DEVICE_COOKIE,
            cookie,
            max_age=integrity.DEVICE_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


@login_required
@require_POST
def start(request, pk):
    official = _official(request, with_department=True)
    session = get_object_or_404(ExamSession, pk=pk)

    # A practice draws around the questions an exam still open to them asks.
    avoid = secrecy.guarded_question_ids(official) if session.is_practice else frozenset()

    def start_on(device):
        try:
            attempt = engine.start_attempt(session, official, device=device, avoid=avoid)
        except engine.ExamError as error:
            messages.error(request, str(error))
            return redirect("exams:session", pk=session.pk)
        return redirect("exams:attempt", session_pk=session.pk, pk=attempt.pk)

    return _with_device_cookie(request, start_on)


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
    return _with_device_cookie(request, lambda device: _attempt_page(request, attempt, device))


def _attempt_page(request, attempt, device):
    try:
        integrity.check_device(attempt, device)
    except engine.DeviceLocked as locked:
        return render(
            request,
            "exams/attempt_locked.html",
            {"attempt": attempt, "session": attempt.session, "locked": locked},
            status=409,
        )
    session = attempt.session
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
            "watch": session.count_leaving or session.require_fullscreen,
            "leave_limit": session.leave_limit,
        },
    )


@never_cache
@login_required
@require_POST
def take_over(request, session_pk, pk):
    """Continue the attempt in this browser (sessions whose rule lets a second device
    take over); the browser it was bound to is locked from its next request on."""
    attempt = _my_attempt(request, session_pk, pk)

    def take(device):
        try:
            integrity.take_over(attempt, device)
        except engine.DeviceLocked as locked:
            messages.error(request, str(locked))
        return redirect("exams:attempt", session_pk=session_pk, pk=pk)

    return _with_device_cookie(request, take)


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
    device = _device(request)
    try:
        saved = engine.autosave(pk, request.user.pk, session_pk, position, response, device=device)
        if saved is None:  # a practice: the save answers with feedback
            answer = engine.save_answer(
                pk,
                None,
                position,
                response,
                session_id=session_pk,
                user_id=request.user.pk,
                shown=True,
                device=device,
            )
    except Attempt.DoesNotExist:
        raise Http404 from None
    except engine.DeviceLocked as error:
        return _locked_reply(error)
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
    return _page_reply(_practice_saved(request, answer))


def _practice_saved(request, answer):
    """The reply to a save through save_answer (a practice): the response as shown,
    and for a practice's answer, whether it is right, unless withheld."""
    attempt = answer.attempt
    data = {
        "ok": True,
        "position": answer.position,
        "response": answer.display_letters(answer.response),
        "saved_at": answer.saved_at.isoformat(),
        "remaining": engine.remaining_seconds(attempt),
    }
    if attempt.session.is_practice and answer.response:
        data["feedback"] = _feedback(request, answer)
    return data


def _feedback(request, answer):
    """Right or wrong, the key and its explanation; withheld for a question a formal
    exam still open to the official asks."""
    official = _official(request, with_department=True)
    if answer.question_id in secrecy.guarded_question_ids(official):
        return {"withheld": True, "message": str(secrecy.WITHHELD)}
    correct = answer.response == answer.snapshot["answer"]
    return {
        "correct": correct,
        "answer": answer.display_letters(answer.snapshot["answer"]),
        "explanation": answer.snapshot.get("explanation", ""),
        "legal_basis": answer.snapshot.get("legal_basis", ""),
    }


@_signed_in_json
@require_GET
def status(request, session_pk, pk):
    """The attempt page checks in here when it has been quiet for keepalive_seconds,
    and when it comes back into view: the time left by the server's clock (the page
    resets its countdown, which a sleeping laptop lets drift), and a request that
    keeps the session from idling out while the official reads. 409 once the
    attempt is over (an expired one is submitted now, with what was saved)."""
    attempt, refusal = _open_attempt(request, session_pk, pk)
    if refusal is not None:
        return refusal
    return _page_reply({"ok": True, "remaining": engine.remaining_seconds(attempt)})


def _open_attempt(request, session_pk, pk):
    """(the official's attempt, None) while it can still be answered from this
    browser, else (None, the 409 the page acts on): over (an expired attempt is
    submitted now, with what was saved), or bound to another browser."""
    attempt = _my_attempt(request, session_pk, pk)
    if engine.expire_if_due(attempt):
        message = _("This attempt is over. Opening your result…")
        return None, _page_reply({"ok": False, "closed": True, "error": message}, status=409)
    try:
        integrity.check_device(attempt, _device(request))
    except engine.DeviceLocked as error:
        return None, _locked_reply(error)
    return attempt, None


def _locked_reply(error):
    """409 for a browser the attempt is not bound to; the page shows the message and
    stops sending."""
    return _page_reply({"ok": False, "locked": True, "error": str(error)}, status=409)


@_signed_in_json
@require_POST
def report(request, session_pk, pk):
    """What the exam page saw (the page or full screen left, a copy blocked), for the
    session's anti-cheating switches. The server counts and decides (integrity.report);
    the reply says how many departures are counted and whether the attempt was
    submitted because of them."""
    kind = request.POST.get("kind", "")
    if kind not in integrity.REPORTABLE:
        return _page_reply({"ok": False, "error": _("Unknown report.")}, status=400)
    attempt, refusal = _open_attempt(request, session_pk, pk)
    if refusal is not None:
        return refusal
    reported = integrity.report(attempt, kind)
    data = {
        "ok": True,
        "departures": reported.departures,
        "limit": reported.limit,
        "counted": reported.counted,
        "submitted": reported.submitted,
    }
    if reported.submitted:
        data["error"] = _(
            "You left the exam page %(count)s times. Your attempt has been submitted with "
            "the answers saved."
        ) % {"count": reported.departures}
    return _page_reply(data)


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
    try:
        integrity.check_device(attempt, _device(request))
    except engine.DeviceLocked as error:
        # A locked browser's form holds stale answers: it must not overwrite saved ones.
        messages.error(request, str(error))
        return redirect("exams:attempt", session_pk=session_pk, pk=pk)
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
    attempt.official = _official(request, with_department=True)
    review = engine.can_review(attempt)
    answers = list(attempt.answers.order_by("position")) if review else []
    # Questions a formal exam still open to them asks are shown without their answers.
    withheld = secrecy.guarded_question_ids(attempt.official) if answers else frozenset()
    score_withheld = bool(withheld) and any(a.question_id in withheld for a in answers)
    if attempt.session.is_practice and not answers:
        score_withheld = bool(withheld_scores(attempt.official, attempt.session, [attempt]))
    return render(
        request,
        "exams/result.html",
        {
            "attempt": attempt,
            "session": attempt.session,
            "review": review,
            "answers": answers,
            "withheld": withheld,
            "score_withheld": attempt.session.is_practice and score_withheld,
        },
    )


def withheld_scores(official, session, attempts):
    """Ids of the session's attempts whose score must not be shown: a practice's that
    hold a question an exam still open to the official asks (with the feedback on the
    others, the score would tell whether it was answered right; exams.secrecy)."""
    if not session.is_practice:
        return set()
    practice = [a.pk for a in attempts if a.is_finished]
    if not practice:
        return set()
    guarded = secrecy.guarded_question_ids(official)
    if not guarded:
        return set()
    rows = Answer.objects.filter(attempt_id__in=practice, question_id__in=guarded)
    return set(rows.values_list("attempt_id", flat=True).distinct())


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
    """My wrong-answer notebook, with a practice form over the open entries. Entries
    whose question a formal exam still open to me asks are left out (exams.secrecy)."""
    official = _official(request, with_department=True)
    guard = secrecy.guard_for(official)
    entries, hidden = notebook.entries_for(official, guard)
    entries = entries[:NOTEBOOK_PRACTICE_SIZE]
    results = {}
    if request.method == "POST":
        for entry in entries:
            response = "".join(request.POST.getlist(f"e{entry.pk}"))
            if response:
                results[entry.pk] = notebook.check(entry, response, guard)
    rows = [(entry, results.get(entry.pk)) for entry in entries]
    cleared = len(notebook.entries_for(official, guard, cleared=True)[0])
    return render(
        request,
        "exams/notebook.html",
        {
            "rows": rows,
            "checked": request.method == "POST",
            "cleared": cleared,
            "hidden": hidden,
        },
    )
