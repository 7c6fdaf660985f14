"""Forms of the screens' admin pages."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Screen, ScreenNotice


class ScreenNoticeForm(forms.Form):
    """An urgent notice: what it says, on which screens, until when. It starts at once."""

    ALL, CHOSEN = "all", "chosen"
    MAX_HOURS = 7 * 24

    title = forms.CharField(
        label=_("Title"),
        max_length=ScreenNotice._meta.get_field("title").max_length,
        required=False,
    )
    text = forms.CharField(
        label=_("Text"),
        max_length=ScreenNotice._meta.get_field("text").max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    target = forms.ChoiceField(
        label=_("Show on"),
        choices=[(ALL, _("All screens")), (CHOSEN, _("The screens chosen below"))],
        initial=ALL,
        widget=forms.RadioSelect,
    )
    screens = forms.ModelMultipleChoiceField(
        label=_("Screens"),
        queryset=Screen.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("The notice starts at once and disappears from the screens at this time."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            ends = timezone.localtime() + timedelta(hours=1)
            self.initial.setdefault("ends_at", ends.replace(second=0, microsecond=0))

    def clean_ends_at(self):
        ends_at = self.cleaned_data["ends_at"]
        now = timezone.now()
        if ends_at <= now:
            raise forms.ValidationError(_("The end must be in the future."))
        if ends_at > now + timedelta(hours=self.MAX_HOURS):
            raise forms.ValidationError(_("An urgent notice lasts at most a week."))
        return ends_at

    def clean(self):
        data = super().clean()
        if data.get("target") == self.CHOSEN and not data.get("screens"):
            self.add_error("screens", _("Choose at least one screen."))
        return data

    def chosen_screens(self):
        """The screens chosen, or None for all of them."""
        if self.cleaned_data["target"] == self.ALL:
            return None
        return list(self.cleaned_data["screens"])
