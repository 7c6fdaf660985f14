from django import template

from ..fast.shells import SHELL_NONCE, hole, layout_part, render_hole

register = template.Library()


def _template_name(token):
    """The one quoted template name a tag takes."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one quoted template name")
    return bits[1][1:-1]


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
    {% include %} with the current context; in a page shell (learning.fast.shells)
    a mark where each request renders the template for itself. Whatever depends on
    the user or the request (not on the page) belongs in such a template. Its
    output is stripped of surrounding white space (it may stand in an attribute)."""
    return PerRequestNode(_template_name(token))


class LayoutPartNode(template.Node):
    def __init__(self, template_name):
        self.template_name = template_name

    def render(self, context):
        if not context.get(SHELL_NONCE):
            html = layout_part(self.template_name, context)
            if html is not None:
                return html
        # In a page shell (whose holes come from the part's own per_request marks),
        # or where the part has to be rendered: as {% include %} does.
        return context.template.engine.get_template(self.template_name).render(context)


@register.tag(name="layout_part")
def layout_part_tag(parser, token):
    """{% layout_part "includes/site_header.html" %}: like {% include %} with the
    current context, for the parts of the layout that are the same on every page
    (the header, the footer). Each process renders such a part once per language and
    signed-in state, as a shell (learning.fast.shells), and fills its holes (the
    {% per_request %} marks and the CSRF token) for each request."""
    return LayoutPartNode(_template_name(token))
