"""The design system's public surface: the staff-only style guide, the PWA manifest
and icons, the {% icon %} tag, and the shell's header (学法课堂, sign-out in the menu)."""

import json
import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template import Context, Template, TemplateSyntaxError
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation

import pytest

from learning.templatetags.icons import ICONS

pytestmark = pytest.mark.django_db

STYLEGUIDE = reverse("learning:styleguide")
MANIFEST = reverse("learning:manifest")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_anonymous_visitors_are_sent_to_sign_in_for_the_style_guide(client):
    response = client.get(STYLEGUIDE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={STYLEGUIDE}"


def test_officials_are_refused_the_style_guide(official_client):
    assert official_client.get(STYLEGUIDE).status_code == 403


@pytest.mark.parametrize("who", ["organizer", "hr_user", "superuser"])
def test_back_office_staff_see_every_component_and_icon(client, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(STYLEGUIDE)
    assert response.status_code == 200
    page = response.text
    for name in (
        "btn-primary",
        "btn-secondary",
        "btn-ghost",
        "badge-ok",
        "badge-warn",
        "badge-danger",
        "badge-open",
        "badge-muted",
        "tabs",
        "<progress",
        "table",
        "empty-state",
        "toast",
    ):
        assert name in page, name
    shown = set(re.findall(r'sprite\.svg#([\w-]+)"', page))
    assert shown == ICONS


def test_the_manifest_is_public_json_with_its_own_content_type(client):
    response = client.get(MANIFEST)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json; charset=utf-8"
    manifest = json.loads(response.content)
    assert manifest["short_name"] == "学法" and "Xuefa" in manifest["name"]
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert manifest["theme_color"] == "#b3261e"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes


def test_the_manifests_icons_and_the_favicons_are_static_files(client):
    for icon in json.loads(client.get(MANIFEST).content)["icons"]:
        assert icon["src"].startswith(static("icons/"))
        assert finders.find(icon["src"].removeprefix(static(""))), icon["src"]
    for name in (
        "favicon.svg",
        "favicon-32.png",
        "apple-touch-icon.png",
        "sprite.svg",
        "tabler/LICENSE",
    ):
        assert finders.find(f"icons/{name}"), name


def test_pages_link_the_manifest_and_favicons(official_client):
    page = official_client.get(reverse("learning:record")).text
    assert f'<link rel="manifest" href="{MANIFEST}">' in page
    assert static("icons/favicon.svg") in page and static("icons/apple-touch-icon.png") in page


def test_the_header_links_the_lecture_hall_and_holds_a_sign_out_form(official_client, settings):
    page = official_client.get(reverse("exams:index")).text
    header = page[page.index('<header class="site-header">') : page.index("</header>")]
    assert f'href="{settings.XUEFA_LECTURE_HALL_URL}"' in header and "Lecture hall" in header
    form = re.search(
        r'<form method="post" action="([^"]+)" class="nav-signout">(.*?)</form>', header, re.S
    )
    assert form and form.group(1) == reverse("account_logout")
    assert 'name="csrfmiddlewaretoken"' in form.group(2) and "Sign out" in form.group(2)


def test_the_lecture_hall_is_called_xuefa_ketang_in_chinese(official_client):
    with translation.override("zh-hans"):
        if translation.gettext("Lecture hall") == "Lecture hall":
            pytest.skip("msgid 'Lecture hall' awaits its zh-hans translation (the lead adds it)")
        page = official_client.get(reverse("exams:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").text
    assert "学法课堂" in page[: page.index("</header>")]


def test_anonymous_pages_have_no_menu():
    page = Template('{% include "includes/site_header.html" %}').render(
        Context({"user": type("Anonymous", (), {"is_authenticated": False})()})
    )
    assert "site-menu" not in page and "nav-signout" not in page


def test_the_icon_tag_draws_a_decorative_icon_from_the_sprite():
    html = Template('{% load icons %}{% icon "book" %}').render(Context())
    assert html == (
        '<svg class="icon icon-book" aria-hidden="true" focusable="false">'
        f'<use href="{static("icons/sprite.svg")}#book"></use></svg>'
    )


def test_the_icon_tag_names_an_icon_that_carries_meaning_and_escapes_its_label():
    html = Template('{% load icons %}{% icon "check" "icon-sm" label %}').render(
        Context({"label": 'Passed "<b>'})
    )
    assert html.startswith(
        '<svg class="icon icon-check icon-sm" role="img" aria-label="Passed &quot;&lt;b&gt;"'
    )
    assert "aria-hidden" not in html


def test_an_unknown_icon_is_an_error_not_an_empty_square():
    with pytest.raises(TemplateSyntaxError):
        Template('{% load icons %}{% icon "no-such-icon" %}').render(Context())


def test_every_icon_has_its_symbol_in_the_sprite():
    sprite = Path(finders.find("icons/sprite.svg")).read_text(encoding="utf-8")
    assert set(re.findall(r'<symbol id="([\w-]+)"', sprite)) == ICONS
    assert "<script" not in sprite and "style=" not in sprite
