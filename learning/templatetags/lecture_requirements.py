"""What a lecture asks besides its credit time (learning.lecture_requirements), for
the lecture page: whether it has any (the same for every reader, so a page shell
keeps it) and the reader's standing (in the shell's per-request parts)."""

from django import template

from .. import lecture_requirements

register = template.Library()


@register.simple_tag
def lecture_requirements_of(page):
    """The lecture's requirements (nobody's standing in them)."""
    return lecture_requirements.standing([page.pk]).of(page.pk)


@register.simple_tag(takes_context=True)
def reader_standing(context, page, official_id):
    """{"items": [(requirement, when the reader met it or None)], "unmet": whether a
    required one is missing} for the reader, asked once per request."""
    found = lecture_requirements.reader_requirements(context["request"], page.pk, official_id)
    return {
        "items": [(r, r.met_at(official_id)) for r in found.of(page.pk)],
        "unmet": bool(found.unmet(official_id, page.pk)),
    }
