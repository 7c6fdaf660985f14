"""The signed-in person's choice of channels (通知方式)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import NoticeChannel, NoticePreference


class NoticePreferenceForm(forms.Form):
    """One checkbox per optional channel that is switched on: ticked means "reach me
    here". Choices about channels that are switched off now are kept as they were."""

    receive = forms.MultipleChoiceField(
        label=_("Reach me by"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user, channels, **kwargs):
        self.user = user
        self.channels = list(channels)
        self.preference = NoticePreference.objects.filter(user=user).first()
        opted_out = set(self.preference.opted_out if self.preference else [])
        kwargs.setdefault("initial", {"receive": [c for c in self.channels if c not in opted_out]})
        super().__init__(*args, **kwargs)
        self.fields["receive"].choices = [
            (channel, NoticeChannel(channel).label) for channel in self.channels
        ]

    def save(self):
        receive = set(self.cleaned_data["receive"])
        kept = set(self.preference.opted_out if self.preference else []) - set(self.channels)
        opted_out = sorted(kept | {c for c in self.channels if c not in receive})
        preference, _created = NoticePreference.objects.update_or_create(
            user=self.user, defaults={"opted_out": opted_out}
        )
        return preference
