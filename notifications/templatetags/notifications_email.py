"""What lets one template give both parts of a message: rendered with part="text" (and no
escaping) it is plain text; with part="html", paragraphs become <p> and links <a>."""

from django import template
from django.utils.html import format_html, linebreaks

register = template.Library()


@register.tag
def paragraphs(parser, token):
    nodelist = parser.parse(("endparagraphs",))
    parser.delete_first_token()
    return ParagraphsNode(nodelist)


class ParagraphsNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        text = self.nodelist.render(context).strip()
        if context.get("part") == "html":
            # Already escaped by the html render: blank lines part paragraphs, a newline is <br>.
            return linebreaks(text, autoescape=False)
        return text + "\n"


@register.simple_tag(takes_context=True)
def link(context, url, label):
    """<a href="url">label</a> in HTML; "label: url" in text."""
    if context.get("part") == "html":
        return format_html('<a href="{}">{}</a>', url, label)
    return f"{label}: {url}"
