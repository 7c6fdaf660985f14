from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BriefingsConfig(AppConfig):
    name = "learning.briefings"
    label = "briefings"
    verbose_name = _("Briefing sheets")
