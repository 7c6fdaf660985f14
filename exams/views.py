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
from . import gate, grading, integrity, notebook, secrecy
from .assignments import my_session, my_sessions
from .dashboard import gate_blocked
from .models import (
    MANUAL_TYPES,
    Answer,
    Attempt,
    Certificate,
    ExamSession,
    Marking,
    QuestionType,
)
from .models.questions import FALSE, TRUE, blank_accepts, blank_count, split_stem
from .next_step import next_step

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
# linebreaksbr filter makes them. `kind` tells the page's script how the question is
# answered: "choice" (options), "blanks" (an input at each blank), "text" (written).
QUESTION_HTML = (
    '<fieldset class="card question" id="q-{position}" data-position="{position}"'
    ' data-kind="{kind}"{saved_at}>\n'
    '    <legend><span class="q-number">{position}.</span> <span class="q-type">[{type}]</span>'
    ' <span class="q-points">({points})</span></legend>\n'
    "{body}"
    '    <p class="save-state{saved_class}" aria-live="polite">{saved}</p>\n'
    '    <div class="feedback" hidden></div>\n'
    "</fieldset>\n"
)
STEM_HTML = '    <p class="stem">{stem}</p>\n'
OPTION_HTML = (
    '    <label class="option"><input type="{input}" name="q{position}" value="{letter}"{checked}>'
    " {shown}{text}</label>\n"
)
# An input at each blank, named like the question so the submit form carries the
# texts in order; its accessible name says which blank it is.
BLANK_HTML = (
    '<input type="text" class="blank" name="q{position}" id="q{position}-b{number}"'
    ' value="{value}" maxlength="{max}" size="{size}" autocomplete="off" spellcheck="false"'
    ' aria-label="{label}">'
)
# A written answer: a labelled textarea (the newline after the tag keeps a text that
# starts with a line break intact) and its character count, which the script keeps
# live and a screen reader reads with the field, after the question.
TEXT_HTML = (
    '    <p class="stem" id="q{position}-stem">{stem}</p>\n'
    '    <label class="answer-label" for="q{position}-text">{label}</label>\n'
    '    <textarea id="q{position}-text" name="q{position}" class="answer-text" rows="{rows}"'
    ' maxlength="{max}" aria-describedby="q{position}-stem q{position}-count">\n{text}</textarea>\n'
    '    <p class="char-count" id="q{position}-count" data-max="{max}">{count}</p>\n'
)


def _lines_html(text):
    """What {{ text|linebreaksbr }} gives, escaped, without the template machinery."""
    return escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def question_labels():
    """The attempt page's words for question types, escaped once per page."""
    return {
        QuestionType.SINGLE: escape(_("Single choice")),
        QuestionType.MULTIPLE: escape(_("Multiple choice")),
        QuestionType.TRUE_FALSE: escape(_("True or false")),
        QuestionType.FILL_BLANK: escape(_("Fill in the blank")),
        QuestionType.SHORT_ANSWER: escape(_("Short answer")),
        QuestionType.CASE_ANALYSIS: escape(_("Case analysis")),
    }


def _choice_html(answer, true_false):
    """The stem and the options, with the saved ones checked. An option's value is the
    letter the page displays for it, never the bank's (see questions_html).
    `true_false`: the options of a true-or-false question, translated once a page."""
    qtype, response, position = answer.type, answer.response, answer.position
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
    return STEM_HTML.format(stem=_lines_html(answer.snapshot["stem"])) + options


def _blanks_html(answer):
    """The stem with an input at each blank (questions.split_stem), holding the
    saved texts."""
    position = answer.position
    pieces = split_stem(answer.snapshot["stem"])
    saved = grading.blank_responses(answer.response)
    parts = [_lines_html(pieces[0])]
    for number, piece in enumerate(pieces[1:], start=1):
        value = saved[number - 1] if number <= len(saved) else ""
        parts.append(
            BLANK_HTML.format(
                position=position,
                number=number,
                value=escape(value),
                max=engine.BLANK_MAX_LENGTH,
                size=max(8, min(30, len(value) + 2)),
                label=escape(_("Blank %(number)s") % {"number": number}),
            )
        )
        parts.append(_lines_html(piece))
    return STEM_HTML.format(stem="".join(parts))


def _text_html(answer):
    """The stem and a textarea holding the saved text, with its character count."""
    text = answer.response
    count = _("%(count)s of %(max)s characters") % {
        "count": len(text),
        "max": engine.TEXT_MAX_LENGTH,
    }
    return TEXT_HTML.format(
        position=answer.position,
        stem=_lines_html(answer.snapshot["stem"]),
        label=escape(_("Your answer")),
        rows=14 if answer.type == QuestionType.CASE_ANALYSIS else 8,
        max=engine.TEXT_MAX_LENGTH,
        text=escape(text),
        count=escape(count),
    )


def _question_body(answer, true_false):
    """(kind, HTML) of what a question shows below its legend."""
    if answer.type == QuestionType.FILL_BLANK:
        return "blanks", _blanks_html(answer)
    if answer.type in MANUAL_TYPES:
        return "text", _text_html(answer)
    return "choice", _choice_html(answer, true_false)


def questions_html(answers):
    """The fieldsets of the attempt page's questions, in the answers' order, with
    each saved response shown (options checked, blanks and answers filled in) and
    marked saved. An option's value is the letter the page displays for it, never
    the bank's: the page must not tell which bank letter a shuffled option has (an
    unbalanced key would pay off for answering by position); the server maps the
    letters back (attempts.clean_response). Nothing of a question's key reaches the
    page: only the stem, the options and the person's own response."""
    type_labels = question_labels()
    true_false = ((TRUE, TRUE, _("True")), (FALSE, FALSE, _("False")))
    saved_label = escape(_("Saved"))
    points_labels = {}
    out = []
    for answer in answers:
        if answer.points not in points_labels:
            points = floatformat(answer.points, "-2")
            points_labels[answer.points] = escape(_("%(points)s points") % {"points": points})
        kind, body = _question_body(answer, true_false)
        saved = answer.saved_at is not None
        out.append(
            QUESTION_HTML.format(
                position=answer.position,
                kind=kind,
                # When the server last saved it (ms since the epoch): the page keeps
                # unsent answers in the browser and restores only newer ones.
                saved_at=f' data-saved-at="{int(answer.saved_at.timestamp() * 1000)}"'
                if saved
                else "",
                type=type_labels.get(answer.type) or escape(answer.type),
                points=points_labels[answer.points],
                body=body,
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
    and for a practice's answer, whether it is right, unless withheld (see _feedback)."""
    attempt = answer.attempt
    data = {
        "ok": True,
        "position": answer.position,
        "response": _shown_response(answer),
        "saved_at": answer.saved_at.isoformat(),
        "remaining": engine.remaining_seconds(attempt),
    }
    if attempt.session.is_practice and _complete(answer):
        data["feedback"] = _feedback(request, answer)
    return data


def _shown_response(answer):
    """The stored response as the page shows it: letters as displayed, text as it is."""
    if answer.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        return answer.display_letters(answer.response)
    return answer.response


def _complete(answer):
    """Whether a practice answer gets its feedback now: a choice once chosen, a
    fill-in-the-blank once every blank is filled (not while the first is typed: the
    feedback gives every blank's answer); a written answer never (a person marks it,
    and its model answer shows on the result page)."""
    if not answer.response or answer.type in MANUAL_TYPES:
        return False
    if answer.type == QuestionType.FILL_BLANK:
        return all(grading.blank_responses(answer.response))
    return True


def _feedback(request, answer):
    """Right or wrong, the key and its explanation; withheld for a question a formal
    exam still open to the official asks."""
    official = _official(request, with_department=True)
    if answer.question_id in secrecy.guarded_question_ids(official):
        return {"withheld": True, "message": str(secrecy.WITHHELD)}
    snapshot = answer.snapshot
    if answer.type == QuestionType.FILL_BLANK:
        correct, _points = grading.blank_points(snapshot, answer.response, answer.points)
        key = accepted_answers_text(snapshot.get("blanks") or [])
    else:
        correct = answer.response == snapshot["answer"]
        key = answer.display_letters(snapshot["answer"])
    return {
        "correct": correct,
        "answer": key,
        "explanation": snapshot.get("explanation", ""),
        "legal_basis": snapshot.get("legal_basis", ""),
    }


def accepted_answers_text(blanks):
    """A fill-in-the-blank key in one line: each blank's accepted answers, numbered."""
    return "; ".join(
        f"{number}. {' / '.join(str(a) for a in accepted)}"
        for number, accepted in enumerate(blanks, start=1)
    )


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
    """Submit: what the form carries (in the letters the page displayed, the blanks'
    and written answers' texts) is saved with the grading (so a page without
    JavaScript, or with unsent changes, loses nothing), and it is graded exactly once."""
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
        # Each field's values: a choice's ticked letters, a fill-in-the-blank's texts
        # in the order of its blanks, a written answer's one text.
        responses = {
            int(key[1:]): request.POST.getlist(key)
            for key in request.POST
            if key[:1] == "q" and key[1:].isdigit()
        }
        engine.submit_attempt(attempt, responses=responses)
    return redirect("exams:result", session_pk=session_pk, pk=pk)


@never_cache
@login_required
def result(request, session_pk, pk):
    """The official's result: the score, band and pass once final (an attempt with
    written answers waits for marking and says so, with nothing of a score), a link
    to its certificate, and the review of every answer when the session's review
    policy and exams.secrecy allow it."""
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
    _prepare_review(answers, withheld)
    score_withheld = attempt.session.is_practice and score_withheld
    return render(
        request,
        "exams/result.html",
        {
            "attempt": attempt,
            "session": attempt.session,
            "review": review,
            "answers": answers,
            "withheld": withheld,
            "score_withheld": score_withheld,
            "awaiting_marking": _awaiting_marking(attempt, answers),
            "certificate": _valid_certificate(attempt),
            # Try again, the notebook or back to my exams (exams.next_step).
            "next_step": next_step(
                attempt,
                attempt.official,
                review=review,
                withheld=withheld,
                score_withheld=score_withheld,
            ),
        },
    )


def _awaiting_marking(attempt, answers):
    """How many written answers of an attempt pending marking wait for their marks
    (from the review's answers when loaded, else one query); None once final."""
    if not attempt.marking_pending or attempt.voided_at is not None:
        return None
    if answers:
        return sum(1 for a in answers if a.points_awarded is None)
    return attempt.answers.filter(points_awarded__isnull=True).count()


def _valid_certificate(attempt):
    """The attempt's certificate unless revoked (a final pass has one, issued on
    commit by exams.results); None otherwise, without a query for a result that
    cannot have one."""
    if not attempt.passed or attempt.marking_pending or attempt.voided_at is not None:
        return None
    return Certificate.objects.filter(attempt=attempt, revoked_at__isnull=True).first()


def _prepare_review(answers, withheld):
    """What the review shows of answers that are not choices, set on each answer:
    `blank_rows` for a fill in the blank, [(number, the text given, the accepted
    answers, whether it matched)]; `final_comment` for a written answer once marked,
    the comment of its last round of marking (one query for all of them). Nothing
    of a question the guard withholds beyond the official's own texts."""
    marked = []
    for answer in answers:
        if answer.type == QuestionType.FILL_BLANK:
            given = grading.blank_responses(answer.response)
            accepted = [] if answer.question_id in withheld else answer.snapshot.get("blanks")
            accepted = accepted or []
            count = max(len(accepted), blank_count(answer.snapshot["stem"]), len(given))
            answer.blank_rows = [
                (
                    number,
                    given[number - 1] if number <= len(given) else "",
                    accepted[number - 1] if number <= len(accepted) else [],
                    number <= len(accepted)
                    and number <= len(given)
                    and blank_accepts(accepted[number - 1], given[number - 1]),
                )
                for number in range(1, count + 1)
            ]
        elif answer.type in MANUAL_TYPES:
            answer.final_comment = ""
            if answer.points_awarded is not None and answer.question_id not in withheld:
                marked.append(answer)
    if marked:
        comments = {}
        rows = Marking.objects.filter(answer__in=marked).order_by("answer_id", "round")
        for answer_id, comment in rows.values_list("answer_id", "comment"):
            comments[answer_id] = comment  # the highest round comes last
        for answer in marked:
            answer.final_comment = comments.get(answer.pk, "")


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
