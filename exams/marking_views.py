"""The marking screens of the back office (阅卷): the queue of hand-marked answers per
session and question, and the page that marks one answer by its rubric. Markers need
exams.add_marking (organizers have it); the rules themselves live in exams.marking."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.generic import TemplateView

from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import marking
from .admin_views import PermissionRequiredMixin
from .models import Answer, MarkingRound

MARKING_PERMISSION = "exams.add_marking"


class MarkingMenuItem(MenuItem):
    """ "Marking" in the Exams menu, for those who may mark."""

    def is_shown(self, request):
        return request.user.has_perm(MARKING_PERMISSION)


def _number(value):
    """A positive id from a query string, or None for anything else."""
    return int(value) if value and value.isdigit() and len(value) <= 18 else None


def next_url(session_id=None, question_id=None, after=None):
    """The address that opens the next answer to mark (of a session and question)."""
    query = {
        key: value
        for key, value in (("session", session_id), ("question", question_id), ("after", after))
        if value is not None
    }
    url = reverse("exams_marking:next")
    return f"{url}?{urlencode(query)}" if query else url


class MarkingView(PermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    permission = MARKING_PERMISSION
    header_icon = "edit"

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse("exams_marking:queue"), "label": _("Marking")},
            {"url": "", "label": self.get_page_title()},
        ]


class QueueView(MarkingView):
    """Per session and question: answers waiting for first marking, second marking
    and reconciliation, and how many of them this user may mark."""

    template_name = "exams/admin/marking/queue.html"
    page_title = gettext_lazy("Marking")

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        rows = marking.queue(self.request.user)
        session_id = _number(self.request.GET.get("session"))
        question_id = _number(self.request.GET.get("question"))
        sessions = {row.session_id: row.session_title for row in rows}
        in_session = [row for row in rows if session_id in (None, row.session_id)]
        questions = {
            row.question_id: row.question_key for row in in_session if row.question_id is not None
        }
        shown = [row for row in in_session if question_id in (None, row.question_id)]
        for row in shown:
            row.mark_url = next_url(row.session_id, row.question_id)
        return super().get_context_data(
            rows=shown,
            sessions=sorted(sessions.items(), key=lambda item: -item[0]),
            questions=sorted(questions.items(), key=lambda item: item[1]),
            session_id=session_id,
            question_id=question_id,
            filtered=session_id is not None or question_id is not None,
            yours=sum(row.yours for row in shown),
            start_url=next_url(session_id, question_id),
            **kwargs,
        )


class NextView(MarkingView):
    """Opens the next answer this user may mark, or says that none is left."""

    template_name = "exams/admin/marking/done.html"
    page_title = gettext_lazy("Nothing left to mark")

    def get(self, request, *args, **kwargs):
        session_id = _number(request.GET.get("session"))
        question_id = _number(request.GET.get("question"))
        after = _number(request.GET.get("after"))
        answer = marking.next_answer(request.user, session_id, question_id, after)
        if answer is not None:
            return redirect("exams_marking:answer", pk=answer.pk)
        filtered = session_id is not None or question_id is not None
        return self.render_to_response(self.get_context_data(filtered=filtered))


class MarkingForm(forms.Form):
    """Points per rubric element (each at most what it is worth) and a comment."""

    comment = forms.CharField(
        label=pgettext_lazy("a marker's remark on an answer", "Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, elements, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.elements = elements
        for index, element in enumerate(elements):
            self.fields[f"element_{index}"] = forms.DecimalField(
                label=element.text or _("Element %(number)s") % {"number": index + 1},
                min_value=0,
                max_value=element.points,
                max_digits=5,
                decimal_places=2,
            )
        self.order_fields([*(f"element_{i}" for i in range(len(elements))), "comment"])

    def element_points(self):
        return [self.cleaned_data[f"element_{i}"] for i in range(len(self.elements))]

    def rows(self):
        """(element, its field) for the rubric table."""
        return [(e, self[f"element_{i}"]) for i, e in enumerate(self.elements)]


def candidate_label(attempt):
    """Who wrote the answer, as the marker may see it: with anonymous marking a stable
    pseudonym only; otherwise the name and department."""
    if attempt.session.anonymous_marking:
        return _("Candidate %(code)s") % {"code": marking.pseudonym(attempt)}
    official = attempt.official
    return f"{official.name} · {official.department.name}"


class AnswerView(MarkingView):
    """Marks one answer in the round this user is to give (or changes their mark):
    anonymous by default, blind in the second round, both earlier marks shown to
    the reconciler; saving opens the next answer of the same question."""

    template_name = "exams/admin/marking/answer.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        self.answer = get_object_or_404(
            Answer.objects.select_related(
                "attempt__session", "attempt__official__user", "attempt__official__department"
            ),
            pk=kwargs["pk"],
        )
        if not marking.is_hand_marked(self.answer):
            raise Http404
        self.attempt = self.answer.attempt
        self.marks = marking.marks_of(self.answer)
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _("Marking %(question)s") % {"question": self.answer.snapshot.get("key", "")}

    def _round(self, requested):
        try:
            return marking.round_for(
                self.attempt, self.answer, self.marks, self.request.user, requested
            )
        except marking.MarkingError as error:
            messages.error(self.request, str(error))
            return None, None

    def _back(self):
        return redirect(next_url(self.attempt.session_id, self.answer.question_id))

    def get(self, request, *args, **kwargs):
        round, own = self._round(request.GET.get("round"))
        if round is None:
            return self._back()
        initial = {"comment": own.comment} if own else {}
        if own:
            initial.update({f"element_{i}": p for i, p in enumerate(own.element_points)})
        form = MarkingForm(marking.rubric_elements(self.answer), initial=initial)
        return self.render_to_response(self.get_context_data(form=form, round=round, own=own))

    def post(self, request, *args, **kwargs):
        round, own = self._round(request.POST.get("round"))
        if round is None:
            return self._back()
        form = MarkingForm(marking.rubric_elements(self.answer), request.POST)
        if form.is_valid():
            try:
                given = marking.mark(
                    self.answer,
                    request.user,
                    form.element_points(),
                    form.cleaned_data["comment"],
                    round,
                )
            except marking.InvalidMarks as error:
                form.add_error(None, str(error))
            except marking.MarkingError as error:
                messages.error(request, str(error))
                return self._back()
            else:
                return self._saved(given)
        context = self.get_context_data(form=form, round=round, own=own)
        return self.render_to_response(context)

    def _saved(self, given):
        change = f"{reverse('exams_marking:answer', args=[self.answer.pk])}?round={given.round}"
        messages.success(
            self.request,
            _("Mark saved: %(points)s of %(total)s points.")
            % {"points": given.points, "total": self.answer.points},
            buttons=[messages.button(change, _("Change"))],
        )
        return self._back()

    def get_context_data(self, **kwargs):
        answer, round = self.answer, kwargs["round"]
        earlier = []
        if round == MarkingRound.RECONCILIATION:
            earlier = [self.marks[r] for r in (MarkingRound.FIRST, MarkingRound.SECOND)]
        user = self.request.user
        left = marking.markable_answers(user, self.attempt.session_id, answer.question_id)
        return super().get_context_data(
            answer=answer,
            session=self.attempt.session,
            candidate=candidate_label(self.attempt),
            round_label=MarkingRound(round).label,
            earlier=[(m, marking.rubric_rows(answer, m)) for m in earlier],
            rubric_total=sum(e.points for e in kwargs["form"].elements),
            left=left.exclude(pk=answer.pk).count(),
            skip_url=next_url(self.attempt.session_id, answer.question_id, answer.pk),
            queue_url=reverse("exams_marking:queue"),
            **kwargs,
        )
