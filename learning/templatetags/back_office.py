from django import template

from ..fast.back_office import can_open_back_office as _can_open_back_office

register = template.Library()


@register.filter
def can_open_back_office(user):
    """{% if user|can_open_back_office %}: the back-office link, from the cache."""
    return _can_open_back_office(user)
