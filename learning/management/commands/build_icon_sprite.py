"""Build static/icons/sprite.svg from the Tabler icons in static/icons/tabler/."""

from pathlib import Path
from xml.etree import ElementTree

from django.conf import settings
from django.core.management.base import BaseCommand

SVG = "http://www.w3.org/2000/svg"
# The stroke style every Tabler outline icon shares; set once per symbol.
STROKE = {
    "fill": "none",
    "stroke": "currentColor",
    "stroke-width": "2",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
}


def symbol(path):
    """The icon's drawing as a <symbol> named after its file, without Tabler's
    invisible bounding-box path."""
    root = ElementTree.parse(path).getroot()  # noqa: S314 (our own committed files)
    out = ElementTree.Element("symbol", {"id": path.stem, "viewBox": root.get("viewBox")})
    group = ElementTree.SubElement(out, "g", STROKE)
    for child in root:
        if child.get("stroke") == "none":
            continue
        child.tag = child.tag.replace(f"{{{SVG}}}", "")
        child.tail = None
        group.append(child)
    return out


def build(folder):
    """The sprite's text: one <symbol> per icon, in name order."""
    sprite = ElementTree.Element("svg", {"xmlns": SVG})
    for path in sorted(folder.glob("*.svg")):
        sprite.append(symbol(path))
    return ElementTree.tostring(sprite, encoding="unicode") + "\n"


class Command(BaseCommand):
    help = "Build static/icons/sprite.svg ({% icon %}'s sprite) from static/icons/tabler/*.svg."

    def handle(self, *args, **options):
        icons = Path(settings.BASE_DIR) / "static" / "icons"
        text = build(icons / "tabler")
        (icons / "sprite.svg").write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {icons / 'sprite.svg'} ({text.count('<symbol')} icons)")
