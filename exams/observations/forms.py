"""The organizer's form turning an ended court observation into a case (以案释法):
prefilled from the observation, offering only reflections whose authors consented and
only bank questions a lecture quiz can mark at once."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Question
from ..quizzes import QUIZ_TYPES
from .cases import MAX_QUESTIONS, MIN_QUESTIONS, CaseDraft, consenting_reflections

EXCERPT_LENGTH = 300


class QuestionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"[{obj.get_type_display()}] {obj.topic.name} · {obj.stem[:80]}"


class ReflectionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.attendance.official.user.get_full_name()


class CaseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    date = forms.DateField(label=_("Date"))
    occasion = forms.CharField(label=_("Court"), max_length=100, required=False)
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    facts = forms.CharField(label=_("Facts of the case"), widget=forms.Textarea(attrs={"rows": 6}))
    legal_issues = forms.CharField(
        label=_("Legal issues"), widget=forms.Textarea(attrs={"rows": 4})
    )
    articles = forms.CharField(
        label=_("Cited articles"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One article per paragraph: its citation on the first line (e.g. 《行政诉讼法》"
            "第三条), the article's text below; a blank line between articles."
        ),
    )
    trial_video_url = forms.URLField(
        label=_("Recorded trial video (link)"), required=False, assume_scheme="https"
    )
    credit_minutes = forms.IntegerField(label=_("Credit minutes"), min_value=1, max_value=600)
    reflections = ReflectionChoiceField(
        label=_("Reflections to feature"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only reflections whose authors agreed to be quoted are offered."),
    )
    questions = QuestionChoiceField(
        label=_("Quiz questions"),
        queryset=None,
        help_text=_("Two to five bank questions (choice, true/false or fill in the blank)."),
    )
    pass_mark = forms.IntegerField(label=_("Pass mark (%)"), min_value=1, max_value=100)
    publish = forms.BooleanField(
        label=_("Publish now"), required=False, help_text=_("Otherwise it is saved as a draft.")
    )

    def __init__(self, observation, *args, **kwargs):
        self.observation = observation
        kwargs.setdefault("initial", initial_for(observation))
        super().__init__(*args, **kwargs)
        offered = consenting_reflections(observation)
        self.fields["reflections"].queryset = offered
        for reflection in offered:
            self.fields[excerpt_field(reflection)] = forms.CharField(
                label=_("Excerpt from %(name)s")
                % {"name": reflection.attendance.official.user.get_full_name()},
                required=False,
                max_length=2000,
                initial=reflection.text[:EXCERPT_LENGTH],
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        self.fields["questions"].queryset = (
            Question.objects.active().filter(type__in=QUIZ_TYPES).select_related("topic")
        )

    def excerpt_fields(self):
        return [self[name] for name in self.fields if name.startswith("excerpt_")]

    def clean_questions(self):
        questions = self.cleaned_data["questions"]
        if not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
            raise forms.ValidationError(_("Choose two to five questions."))
        return questions

    def clean_articles(self):
        articles = []
        for part in self.cleaned_data["articles"].replace("\r\n", "\n").split("\n\n"):
            lines = [line.strip() for line in part.splitlines() if line.strip()]
            if not lines:
                continue
            if len(lines) < 2:
                raise forms.ValidationError(
                    _("Give each article its citation on one line and its text below.")
                )
            articles.append((lines[0][:200], "\n".join(lines[1:])))
        return articles

    def draft(self):
        data = self.cleaned_data
        reflections = [
            (r, data.get(excerpt_field(r)) or r.text[:EXCERPT_LENGTH]) for r in data["reflections"]
        ]
        return CaseDraft(
            title=data["title"],
            date=data["date"],
            occasion=data["occasion"],
            summary=data["summary"],
            facts=data["facts"],
            legal_issues=data["legal_issues"],
            articles=data["articles"],
            trial_video_url=data["trial_video_url"],
            credit_minutes=data["credit_minutes"],
            reflections=reflections,
            questions=list(data["questions"]),
            pass_mark=data["pass_mark"],
            publish=data["publish"],
        )


def excerpt_field(reflection):
    return f"excerpt_{reflection.pk}"


def initial_for(observation):
    """The form's starting values, taken from the observation."""
    summary = observation.case_summary.strip()
    first_line = summary.splitlines()[0] if summary else ""
    return {
        "title": (first_line or observation.title)[:255],
        "date": timezone.localdate(observation.starts_at),
        "occasion": observation.court,
        "summary": summary,
        "credit_minutes": observation.credit_minutes,
        "pass_mark": 60,
    }
