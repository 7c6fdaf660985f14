from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def shown_response(answer, letters):
    """Bank letters as this person saw them (shuffled options), or 对 / 错."""
    if not letters:
        return ""
    if answer.type == "true_false":
        return _("True") if letters == "T" else _("False")
    return answer.display_letters(letters)
