"""Dashboard panels: each app contributes its own panels to the official's home
page through the `register_dashboard_panels` Wagtail hook, so the home view never
imports the apps it shows."""

from wagtail import hooks
from wagtail.admin.ui.components import Component


class DashboardPanel(Component):
    """A block on the official's home page. Subclasses set `template_name` and
    `order`, and return their data from `get_context_data`."""

    order = 100

    def __init__(self, request):
        self.request = request

    def is_shown(self):
        return True


def panels_for(request):
    """Every panel that applies to this request, in display order."""
    panels = []
    for hook in hooks.get_hooks("register_dashboard_panels"):
        panels.extend(p for p in hook(request) if p.is_shown())
    return sorted(panels, key=lambda p: p.order)


class ProfilePanel(DashboardPanel):
    """Who I am in the organisation, as the roster says."""

    order = 10
    template_name = "learning/includes/profile_panel.html"

    def is_shown(self):
        return hasattr(self.request.user, "official")

    def get_context_data(self, parent_context=None):
        return {"official": self.request.user.official}
