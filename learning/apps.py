from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from wagtail.users.apps import WagtailUsersAppConfig


class LearningConfig(AppConfig):
    default = True
    name = "learning"
    verbose_name = _("Learning")

    def ready(self):
        # converters: <id:...> in every URLconf; lookups: __any_of
        from . import converters, fast, lookups  # noqa: F401
        from .notices import checks  # noqa: F401  (registers the notice settings' checks)
        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, sender=self)
        fast.connect()


class UsersConfig(WagtailUsersAppConfig):
    """Wagtail's user admin with our forms (Chinese name, first-login flag)."""

    default = False
    user_viewset = "learning.viewsets.UserViewSet"
