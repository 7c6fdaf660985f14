"""The admin reads in plain Chinese for a clerk (issue #20): every string Wagtail shows
has Chinese (its own catalogues, then ours in locale/wagtail for what Wagtail ships
untranslated), our pagination label does not rename Wagtail's pages, each report is
listed once, the completion report's export button is drawn, and add forms start with
the evident choice."""

import datetime
import json
import re
from collections import Counter
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from wagtail import hooks
from wagtail.models import Site

import lxml.html
import polib
import pytest

from exams.models import ExamSession, SessionKind
from learning import forms as learning_forms
from learning.models import StudyPlan
from tests.exams.factories import ExamSessionFactory

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "wagtail" / "zh_Hans" / "LC_MESSAGES"
# Strings that read the same in Chinese.
SAME_IN_CHINESE = {
    "URL",
    "ID",
    "%(range_start)s - %(range_end)s",
    "Wagtail API v2",
    "Wagtail API v3",
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")
TAG = re.compile(r"<[^>]+>")


def wagtail_apps():
    return [a for a in apps.get_app_configs() if a.name.split(".")[0] == "wagtail"]


def english_entries(domain="django"):
    """(app name, entry) of every message of the installed Wagtail apps' English catalogues."""
    for app in wagtail_apps():
        path = Path(app.path) / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po"
        if path.exists():
            yield from ((app.name, e) for e in polib.pofile(str(path)) if not e.obsolete)


def in_chinese(entry):
    """What Django's translation machinery gives for the entry, one form or two."""
    context, msgid, plural = entry.msgctxt, entry.msgid, entry.msgid_plural
    with translation.override("zh-hans"):
        if plural and context:
            return [translation.npgettext(context, msgid, plural, n) for n in (1, 2)]
        if plural:
            return [translation.ngettext(msgid, plural, n) for n in (1, 2)]
        if context:
            return [translation.pgettext(context, msgid)]
        return [translation.gettext(msgid)]


def test_every_string_of_wagtail_has_chinese():
    names = {app for app, _entry in english_entries()}
    assert {"wagtail", "wagtail.admin", "wagtail.snippets", "wagtail.users"} <= names
    english = []
    for app, entry in english_entries():
        forms = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        if entry.msgid in SAME_IN_CHINESE:
            continue
        if any(got == form for got, form in zip(in_chinese(entry), forms, strict=True)):
            english.append((app, entry.msgid))
    assert not english, f"Wagtail strings without Chinese (add them to {CATALOGUE}): {english}"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_our_catalogue_of_wagtails_strings_is_complete_and_compiled(domain):
    catalogue = polib.pofile(str(CATALOGUE / f"{domain}.po"))
    assert len(catalogue) > (300 if domain == "django" else 10)
    assert not catalogue.untranslated_entries() and not catalogue.fuzzy_entries()
    assert catalogue.metadata["Plural-Forms"].startswith("nplurals=1")
    source = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural[0] for e in catalogue}
    compiled = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural[0]
        for e in polib.mofile(str(CATALOGUE / f"{domain}.mo"))
        if e.msgid
    }
    assert compiled == source, "run `make messages` to compile the catalogue"
    assert str(CATALOGUE.parent.parent) in map(str, settings.LOCALE_PATHS[1:])


def _our_entries(domains=("django", "djangojs")):
    for domain in domains:
        yield from polib.pofile(str(CATALOGUE / f"{domain}.po"))


def test_translations_keep_the_placeholders_and_markup_of_the_english():
    """A lost %(name)s breaks the page; a lost tag breaks the markup. With one plural
    form, the Chinese takes the placeholders of the English plural."""
    wrong = []
    for entry in _our_entries():
        english = entry.msgid_plural or entry.msgid
        chinese = entry.msgstr or entry.msgstr_plural[0]
        for pattern in (PLACEHOLDER, TAG):
            if Counter(pattern.findall(english)) != Counter(pattern.findall(chinese)):
                wrong.append((entry.msgid, chinese))
    assert not wrong


def test_our_catalogue_of_wagtails_strings_never_overrides_our_own_strings():
    """Its directory comes in LOCALE_PATHS, which Django reads after the apps'
    catalogues: a string one of our catalogues holds (an exam certificate's "revoked
    at", also a Wagtail API token's) is translated there, never here too."""
    ours = {(e.msgctxt, e.msgid) for e in _our_entries(["django"])}
    project = [p for p in ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")]
    project.append(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert len(project) >= 4
    clashes = {
        (path.parent.parent.parent.parent.name, e.msgid)
        for path in project
        for e in polib.pofile(str(path))
        if (e.msgctxt, e.msgid) in ours
    }
    assert not clashes


def _javascript_catalogue(client):
    text = client.get(reverse("wagtailadmin_javascript_catalog")).content.decode()
    return json.loads(re.search(r"const newcatalog = (\{.*?\});\n", text, re.S).group(1))


def test_the_admins_javascript_strings_are_served_in_chinese(client, organizer):
    client.force_login(organizer)
    catalogue = _javascript_catalogue(client)
    english = []
    for _app, entry in english_entries("djangojs"):
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        chinese = catalogue.get(key)
        chinese = chinese if isinstance(chinese, list) else [chinese]
        if None in chinese or {entry.msgid, entry.msgid_plural} & set(chinese):
            english.append(entry.msgid)
    assert not english
    assert catalogue["Split block"] == "拆分内容块"
    assert catalogue["%(num)s error"] == ["%(num)s 个错误"]


def visible_strings(html):
    """Texts a person reads: text nodes, labels, tooltips, placeholders and the
    sidebar's menu labels (kept in a JSON script)."""
    document = lxml.html.fromstring(html)
    found = set()
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in ("script", "style"):
            if element.get("id") == "wagtail-sidebar-props":
                found.update(item["label"] for item in menu_items(sidebar(html)))
        elif element.text:
            found.add(element.text)
        parent = element.getparent()
        if element.tail and parent is not None and parent.tag not in ("script", "style"):
            found.add(element.tail)
        for name in ("title", "aria-label", "placeholder", "alt"):
            if element.get(name):
                found.add(element.get(name))
    return {" ".join(text.split()) for text in found} - {""}


def english_patterns():
    """Each English message of our catalogue, split at its tags, as a pattern that
    matches it whatever fills its placeholders (pieces of fewer than three letters
    besides their placeholders are left out)."""
    patterns = []
    for entry in polib.pofile(str(CATALOGUE / "django.po")):
        for message in filter(None, (entry.msgid, entry.msgid_plural)):
            for piece in TAG.split(message):
                piece = " ".join(piece.split())
                if len(re.findall(r"[A-Za-z]", PLACEHOLDER.sub("", piece))) < 3:
                    continue
                literal = [re.escape(part) for part in PLACEHOLDER.split(piece)]
                patterns.append(re.compile(".+?".join(literal)))
    return patterns


@pytest.fixture
def home_page(db):
    return Site.objects.get(is_default_site=True).root_page


def test_the_dashboard_and_page_explorer_show_no_english_wagtail_left_untranslated(
    client, organizer, home_page
):
    client.force_login(organizer)
    patterns = english_patterns()
    pages = {
        "dashboard": reverse("wagtailadmin_home"),
        "explorer": reverse("wagtailadmin_explore_root"),
        "home's children": reverse("wagtailadmin_explore", args=[home_page.pk]),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        shown = visible_strings(response.content)
        english = sorted(s for s in shown if any(p.fullmatch(s) for p in patterns))
        assert not english, f"{name} shows {english}"
    dashboard = visible_strings(client.get(pages["dashboard"]).content)
    assert {"搜索所有页面…", "快捷键", "页面类型使用情况"} <= dashboard
    explorer = visible_strings(client.get(pages["explorer"]).content)
    assert {"更新日期", "编辑人", "有无子页面", "页面类型"} <= explorer


# Pagination: our label has a context of its own, so Wagtail's "Pages" stays 页面.


def _unpack(node, refs):
    """A value of Wagtail's telepath-packed sidebar, with repeated values resolved."""
    if isinstance(node, list):
        return [_unpack(item, refs) for item in node]
    if not isinstance(node, dict):
        return node
    if "_ref" in node:
        return refs[node["_ref"]]
    if "_val" in node:
        value = _unpack(node["_val"], refs)
    elif "_list" in node:
        value = _unpack(node["_list"], refs)
    elif "_dict" in node:
        value = {key: _unpack(item, refs) for key, item in node["_dict"].items()}
    elif "_type" in node:
        value = {"type": node["_type"], "args": _unpack(node["_args"], refs)}
    else:
        value = {key: _unpack(item, refs) for key, item in node.items()}
    if "_id" in node:
        refs[node["_id"]] = value
    return value


def sidebar(html):
    document = lxml.html.fromstring(html)
    props = document.get_element_by_id("wagtail-sidebar-props").text
    return _unpack(json.loads(props), {})


def menu_items(node, parent=None):
    """Every item of the sidebar's menus: {type, name, label, url, parent}."""
    if isinstance(node, list):
        for item in node:
            yield from menu_items(item, parent)
    elif isinstance(node, dict) and node.get("type", "").endswith("MenuItem"):
        attrs, *children = node["args"]
        item = {**attrs, "type": node["type"], "parent": parent}
        yield item
        yield from menu_items(children, item["name"])
    elif isinstance(node, dict):
        yield from menu_items(node.get("args", list(node.values())), parent)


def test_wagtails_pages_menu_reads_pages_and_our_pagination_reads_pagination(client, organizer):
    client.force_login(organizer)
    items = list(menu_items(sidebar(client.get(reverse("wagtailadmin_home")).content)))
    explorer = [item for item in items if item["type"].endswith("PageExplorerMenuItem")]
    assert [item["label"] for item in explorer] == ["页面"]
    page = Paginator(range(60), 20).page(2)
    request = RequestFactory().get("/?page=2")
    with translation.override("zh-hans"):
        ours = [
            render_to_string("learning/includes/pagination.html", {"lectures": page}, request),
            render_to_string("exams/reports/pagination.html", {"page": page}, request),
        ]
        assert translation.gettext("Pages") == "页面"
    for html in ours:
        assert lxml.html.fromstring(html).xpath("//nav")[0].get("aria-label") == "分页"


# Reports: one Study reports menu (学法报表) with ours, Wagtail's Reports (报告) with its own.


def report_items_for(user):
    """URLs of the reports registered for the reports menus that `user` may see."""
    request = RequestFactory().get("/admin/")
    request.user = user
    items = [fn() for fn in hooks.get_hooks("register_reports_menu_item")]
    return {str(item.url) for item in items if item.is_shown(request)}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["hr_user", "organizer", "superuser"])
def test_each_report_is_listed_once_and_every_report_stays_reachable(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    items = list(menu_items(sidebar(client.get(reverse("wagtailadmin_home")).content)))
    links = [item for item in items if "url" in item and item["parent"]]
    in_reports = [i for i in links if i["parent"] in ("study-reports", "reports")]
    assert Counter(i["url"] for i in in_reports).most_common(1)[0][1] == 1
    assert {i["url"] for i in in_reports} == report_items_for(user)
    study = {i["url"] for i in in_reports if i["parent"] == "study-reports"}
    assert reverse("completion_report:index") in study
    assert reverse("exams_exports:index") in study
    assert not any(url.startswith("/admin/reports/locked") for url in study)
    menus = {item["name"]: item["label"] for item in items if item["type"].endswith("SubMenuItem")}
    assert menus["study-reports"] == "学法报表"
    if role != "hr_user":
        wagtails = {i["url"] for i in in_reports if i["parent"] == "reports"}
        assert menus["reports"] == "报告"
        assert reverse("wagtailadmin_reports:locked_pages") in wagtails
        assert not wagtails & study


# The completion report's export button.


def test_the_completion_reports_export_button_shows_its_text(client, hr_user):
    client.force_login(hr_user)
    response = client.get(reverse("completion_report:index"))
    document = lxml.html.fromstring(response.content)
    xlsx = reverse("completion_report:xlsx")
    [button] = [a for a in document.iter("a") if a.get("href", "").startswith(xlsx)]
    assert button.text_content().strip() == "导出 Excel"
    assert {"button", "bicolor", "button--icon"} <= set(button.get("class").split())
    assert button.xpath("./span[@class='icon-wrapper']/svg[contains(@class, 'icon-download')]")


# Add forms start with the evident choice.


def _form_fields(client, url):
    document = lxml.html.fromstring(client.get(url).content)
    values = {i.get("name"): i.get("value") for i in document.iter("input") if i.get("name")}
    for select in document.iter("select"):
        chosen = select.xpath("./option[@selected]")
        values[select.get("name")] = chosen[0].get("value") if chosen else None
    return values


def test_new_exam_sessions_study_plans_exemptions_and_questions_start_with_the_evident_choice(
    client, organizer
):
    client.force_login(organizer)
    year = str(timezone.localdate().year)
    session = _form_fields(client, reverse(ExamSession.snippet_viewset.get_url_name("add")))
    assert (session["kind"], session["year"]) == (SessionKind.ANNUAL, year)
    plan = _form_fields(client, reverse(StudyPlan.snippet_viewset.get_url_name("add")))
    assert plan["year"] == year
    assert _form_fields(client, reverse("study_exemptions:add"))["year"] == year
    question = _form_fields(client, reverse("wagtailsnippets_exams_question:add"))
    assert question["type"] == "single"


def test_an_edit_form_shows_what_was_saved(client, organizer, db):
    session = ExamSessionFactory(kind=SessionKind.PRACTICE, year=2019)
    client.force_login(organizer)
    url = reverse(ExamSession.snippet_viewset.get_url_name("edit"), args=[session.pk])
    fields = _form_fields(client, url)
    assert (fields["kind"], fields["year"]) == (SessionKind.PRACTICE, "2019")


def test_this_year_is_the_year_in_the_sites_time_zone(monkeypatch):
    """New Year's Eve 17:00 UTC is already 1 January in Shanghai."""
    eve = datetime.datetime(2026, 12, 31, 17, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: eve)
    with timezone.override("Asia/Shanghai"):
        assert learning_forms.this_year() == 2027
