"""Admin forms: a paper is refused when its rules ask for more than the bank holds,
or when it has neither fixed questions nor rules for its mode."""

from django.utils.translation import gettext as _

from wagtail.admin.forms import WagtailAdminModelForm

from .models import PaperMode, PaperRule
from .papers import rule_errors


class PaperForm(WagtailAdminModelForm):
    def _live_forms(self, name):
        formset = self.formsets.get(name)
        if formset is None:
            return []
        return [
            f
            for f in formset.forms
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        ]

    def is_valid(self):
        valid = super().is_valid()
        if not valid:
            return False
        mode = self.cleaned_data.get("mode")
        items = self._live_forms("items")
        rules = self._live_forms("rules")
        if mode == PaperMode.FIXED and not items:
            self.add_error(None, _("A fixed paper needs at least one question."))
        if mode == PaperMode.RANDOM:
            if not rules:
                self.add_error(None, _("A random paper needs at least one rule."))
            unsaved = [
                PaperRule(
                    topic=f.cleaned_data.get("topic"),
                    type=f.cleaned_data.get("type"),
                    count=f.cleaned_data.get("count") or 0,
                    points=f.cleaned_data.get("points") or 0,
                )
                for f in rules
            ]
            for message in rule_errors(unsaved):
                self.add_error(None, message)
        return not self.errors
