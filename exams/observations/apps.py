from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObservationsConfig(AppConfig):
    name = "exams.observations"
    # The models moved here from the exams app and keep their exams_* tables
    # (Meta.db_table); the label names their permissions: observations.view_attendance.
    label = "observations"
    verbose_name = _("Court observations")

    def ready(self):
        # Models are loaded only once apps are ready, so the module is imported here.
        from . import cases

        cases.connect()
