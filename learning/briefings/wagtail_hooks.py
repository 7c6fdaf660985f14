"""明白纸's place in the project: its dashboard panel, what refreshes the kept
dashboard, the notice on first publication, the report in Wagtail's Reports menu,
the year-end figures, the log action and the demo sheet."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from wagtail import hooks
from wagtail.signals import page_published, page_unpublished

from ..fast import Invalidation
from ..fast import dashboard as fast_dashboard
from . import admin_views, demo, notices, receipts, report
from .dashboard import BriefingPanel
from .models import BriefingReceipt, BriefingSheetPage

hooks.register("register_admin_urls", admin_views.admin_urls)
hooks.register("register_reports_menu_item", admin_views.report_menu_item)
hooks.register("register_log_actions", receipts.register_log_actions)
hooks.register("register_year_end_figures", report.year_end_figures)

# The audience hears of a sheet once, after its first publication commits.
page_published.connect(
    notices.sheet_published, sender=BriefingSheetPage, dispatch_uid="briefings:notify"
)


@hooks.register("register_dashboard_panels")
def briefing_dashboard_panels(request):
    return [BriefingPanel(request)]


@hooks.register("register_fast_path_invalidations")
def briefing_fast_path_invalidations():
    """Publishing or unpublishing a sheet, or changing its departments, changes many
    dashboards; an official's receipt changes theirs. (Validity dates start and end
    by the clock: the panel's changes_at.)"""
    found = [
        Invalidation(fast_dashboard.SHARED_FAMILY, signal, BriefingSheetPage)
        for signal in (page_published, page_unpublished, post_save, post_delete)
    ]
    found.append(
        Invalidation(
            fast_dashboard.SHARED_FAMILY, m2m_changed, BriefingSheetPage.departments.through
        )
    )
    found += [
        Invalidation(fast_dashboard.family_of_official, signal, BriefingReceipt)
        for signal in (post_save, post_delete)
    ]
    return found


@hooks.register("register_demo_data")
def briefing_demo_data():
    return [(40, "Briefing sheet (明白纸) on secrecy", demo.load_briefing)]
