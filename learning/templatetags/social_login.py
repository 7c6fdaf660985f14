from django import template

from .. import social

register = template.Library()


@register.simple_tag
def social_login_buttons():
    """{% social_login_buttons as providers %}: the sign-in apps switched on (none by
    default), each with its name and login URL."""
    return social.login_buttons()
