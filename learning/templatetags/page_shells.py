from django import template

from ..page_shells import SHELL_NONCE, hole, render_hole

register = template.Library()


class PerRequestNode(template.Node):
    def __init__(self, template_name):
        self.template_name = template_name

    def render(self, context):
        nonce = context.get(SHELL_NONCE)
        if nonce:
            return hole(nonce, self.template_name)
        return render_hole(context.template.engine.get_template(self.template_name), context)


@register.tag
def per_request(parser, token):
    """{% per_request "includes/messages.html" %}: the template's output, like
    {% include %} with the current context; in a page shell (learning.page_shells)
    a mark where each request renders the template for itself. Whatever depends on
    the user or the request (not on the page) belongs in such a template. Its
    output is stripped of surrounding white space (it may stand in an attribute)."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one quoted template name")
    return PerRequestNode(bits[1][1:-1])
