"""The quiz after a lecture, for officials (rules in exams/quizzes.py).

/exams/quiz/<lecture id>/ shows the quiz and takes a try (POST, with CSRF);
/exams/quiz/<lecture id>/tries/<id>/ shows how one of the official's own tries went:
which answers were right, the key and the explanation, except for questions a
formal exam still open to them can ask (exams.secrecy). Tries are unlimited.
Anonymous visitors go to sign in; anyone without an official's profile, a lecture
that is not live or has no quiz, a lecture the reader may not open, or another
person's try is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from learning.models import Official

from . import quizzes, secrecy
from .models import QuizAttempt

RECENT_TRIES = 10


def _official(request):
    """The signed-in official (one query); 404 for anyone else."""
    try:
        return Official.objects.get(user_id=request.user.pk)
    except Official.DoesNotExist:
        raise Http404 from None


def _quiz(request, lecture_pk):
    """The quiz of the live lecture, if the reader may open the lecture; else 404."""
    quiz = quizzes.quiz_for(lecture_pk)
    if quiz is None:
        raise Http404
    if not all(r.accept_request(request) for r in quiz.lecture.get_view_restrictions()):
        raise Http404
    return quiz


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def quiz_page(request, lecture_pk):
    """The quiz: its questions to answer, and the official's recent tries."""
    official = _official(request)
    quiz = _quiz(request, lecture_pk)
    questions = quizzes.questions_of(quiz)
    if request.method == "POST":
        if not questions:
            messages.error(request, _("This quiz has no questions at the moment."))
            return redirect("exams:quiz", lecture_pk)
        attempt = quizzes.submit(quiz, official, questions, request.POST)
        return redirect("exams:quiz_try", lecture_pk, attempt.pk)
    tries = list(
        QuizAttempt.objects.filter(quiz=quiz, official=official)
        .only("pk", "correct", "total", "percent", "passed", "created_at")
        .order_by("-created_at", "-pk")[:RECENT_TRIES]
    )
    return render(
        request,
        "exams/quiz.html",
        {
            "quiz": quiz,
            "lecture": quiz.lecture,
            "parts": quizzes.parts_for(questions),
            "tries": tries,
            "passed_at": quizzes.first_pass(quiz, official),
        },
    )


@never_cache
@login_required
@require_safe
def quiz_try(request, lecture_pk, pk):
    """One of the official's tries: right or wrong per question, with the key and the
    explanation unless an exam still open to them can ask the question."""
    official = _official(request)
    quiz = _quiz(request, lecture_pk)
    attempt = get_object_or_404(QuizAttempt, pk=pk, quiz=quiz, official=official)
    # The quiz's questions as they are now, with what this try answered to them.
    questions = quizzes.questions_of(quiz)
    guard = secrecy.guard_for(official)
    parts = quizzes.parts_for(questions, attempt.responses, withheld=guard.question_ids)
    return render(
        request,
        "exams/quiz_try.html",
        {
            "quiz": quiz,
            "lecture": quiz.lecture,
            "attempt": attempt,
            "parts": parts,
            # As for a practice: with a withheld question, the count right would tell.
            "score_withheld": any(part.withheld for part in parts),
        },
    )
