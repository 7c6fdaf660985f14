"""`{% background_export_button "completion" year=2026 department=3 %}`: a POST form
(with CSRF) that queues a background export of a registered kind with these
parameters and leads to "My exports". Parameters that are None are left out."""

from django import template

register = template.Library()


@register.inclusion_tag("exams/reports/includes/export_button.html", takes_context=True)
def background_export_button(context, kind, label=None, **parameters):
    request = context.get("request")
    return {
        "kind": kind,
        "label": label,
        "parameters": [
            (name, "on" if value is True else value)
            for name, value in parameters.items()
            if value is not None and value is not False and value != ""
        ],
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
