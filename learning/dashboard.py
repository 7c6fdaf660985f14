"""Dashboard panels: each app contributes its own panels to the official's home
page through the `register_dashboard_panels` Wagtail hook, so the home view never
imports the apps it shows."""

from django.utils.html import format_html_join

from wagtail import hooks
from wagtail.admin.ui.components import Component

from .fast import dashboard as fast_dashboard


class DashboardPanel(Component):
    """A block on the official's home page. Subclasses set `template_name` and
    `order`, and return their data from `get_context_data`. A panel whose content
    changes with the clock alone (an exam opening) sets `changes_at` (an aware
    datetime) in `get_context_data`: the kept dashboard is used only until then
    (learning.fast.dashboard). A panel holds nothing per request (no form, no CSRF
    token): everything on it is a link or a figure."""

    order = 100
    changes_at = None

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


def render_panels(request):
    """The HTML of every panel for this request, kept per user between changes
    (learning.fast.dashboard); empty when no panel applies."""

    def render():
        panels = panels_for(request)
        html = format_html_join("", "{}", ((panel.render_html(),) for panel in panels))
        # The year and "today" change at midnight, whatever the panels say.
        moments = [p.changes_at for p in panels if p.changes_at is not None]
        moments.append(fast_dashboard.next_local_midnight())
        return html, min(moments)

    return fast_dashboard.panels_html(request.user.pk, render)


class ProfilePanel(DashboardPanel):
    """Who I am in the organisation, as the roster says."""

    order = 10
    template_name = "learning/includes/profile_panel.html"

    def is_shown(self):
        return hasattr(self.request.user, "official")

    def get_context_data(self, parent_context=None):
        return {"official": self.request.user.official}
