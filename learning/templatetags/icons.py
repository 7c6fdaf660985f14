"""{% icon "book" %}: an icon of the bundled Tabler set (static/icons/sprite.svg), drawn
with <use> so that the page carries no inline style or script (the CSP forbids both)."""

from functools import lru_cache
from pathlib import Path

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.utils.html import conditional_escape, format_html

register = template.Library()

SPRITE = "icons/sprite.svg"
# The icons the sprite holds (manage.py build_icon_sprite builds it from these files).
ICONS = frozenset(
    p.stem for p in (Path(settings.BASE_DIR) / "static" / "icons" / "tabler").glob("*.svg")
)


@register.simple_tag
def icon(name, css_class="", label=""):
    """The icon `name`, decorative (hidden from screen readers) unless a `label`
    names it; `css_class` adds classes (icon-sm, icon-lg …). An unknown name is an
    error, not an empty square."""
    if name not in ICONS:
        raise template.TemplateSyntaxError(f"No icon {name!r} in {SPRITE}")
    return _icon_html(name, conditional_escape(css_class), conditional_escape(label))


# The same few icons are drawn on every page, and finding the sprite's hashed name
# costs more than the rest of the tag: each variant is made once per process, again
# when the static files' settings change (tests).
@lru_cache(maxsize=512)
def _icon_html(name, css_class, label):
    classes = f"icon icon-{name} {css_class}".strip()
    href = f"{static(SPRITE)}#{name}"
    if label:
        return format_html(
            '<svg class="{}" role="img" aria-label="{}" focusable="false">'
            '<use href="{}"></use></svg>',
            classes,
            label,
            href,
        )
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}"></use></svg>',
        classes,
        href,
    )


@receiver(setting_changed)
def _static_settings_changed(setting, **kwargs):
    if setting in {"STATIC_URL", "STATIC_ROOT", "STORAGES"}:
        _icon_html.cache_clear()
