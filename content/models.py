"""Site pages and publicity content."""

from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """The root of the site. Signed-in officials see their dashboard here, so the
    page only carries an optional notice shown above the panels."""

    notice = RichTextField(_("notice"), blank=True, features=["bold", "link"])

    content_panels = [*Page.content_panels, FieldPanel("notice")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def serve(self, request, *args, **kwargs):
        from .views import home

        return home(request)
