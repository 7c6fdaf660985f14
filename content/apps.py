from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "content"
    verbose_name = _("Content")

    def ready(self):
        # Here rather than at the top: the receivers import the models, which are
        # not loaded when this module is.
        from . import signals

        signals.connect(self)
