"""Addresses the site's navigation links to that have no URL name of their own."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def lecture_hall_url():
    """The lecture index (学法课堂), a Wagtail page at a stable address
    (XUEFA_LECTURE_HALL_URL): the header, kept per process as a layout part, shows
    it without a page-tree query."""
    return settings.XUEFA_LECTURE_HALL_URL
