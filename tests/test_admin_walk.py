"""Walk every admin page in the menus of organizers and HR, in zh-hans, and fail on any
English left in what the page shows or says to a screen reader (issue #20). Allowed:
product and format names, and what is data rather than interface (the page tree's
root, Wagtail's default workflow, the model identifiers of the page-types report)."""

import re

from django.contrib.auth.models import Permission
from django.test import RequestFactory

from wagtail.admin.menu import admin_menu

import lxml.html
import pytest

from learning import roles

pytestmark = pytest.mark.django_db

WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]{2,}(?: [A-Za-z][A-Za-z'’-]+)*")
ALLOWED = {
    # Names of the product and of file formats.
    "Wagtail", "Xuefa", "Excel", "PDF", "CSV", "XLSX", "WPS", "csv", "xls", "xlsx", "docx",
    # Wagtail's slim header writes aria-label="Actions" into its template untranslated
    # (wagtailadmin/shared/headers/_actions.html): nothing of ours can translate it.
    "Actions",
    # Data: the page tree's root page and Wagtail's default workflow, as created.
    "Root", "Root'", "Moderators approval",
}  # fmt: skip
# The page-types report lists each page type's technical identifier (app.model).
IDENTIFIERS = {"/admin/reports/page-types-usage/": re.compile(r"^[a-z_]+$")}


def menu_urls(user):
    """The admin home and every admin page the user's menus lead to."""
    request = RequestFactory().get("/admin/")
    request.user = user
    urls = []

    def walk(menu):
        for item in menu.menu_items_for_request(request):
            if getattr(item, "menu", None) is not None:
                walk(item.menu)
            elif item.url.startswith("/admin/"):
                urls.append(item.url)

    walk(admin_menu)
    return ["/admin/", *dict.fromkeys(urls)]


def english_on(html, url):
    tree = lxml.html.fromstring(html)
    for hidden in tree.xpath("//script|//style|//template|//code|//pre"):
        hidden.drop_tree()
    main = tree.xpath("//main") or [tree]
    found = set(WORDS.findall(" ".join(main[0].itertext())))
    for element in main[0].xpath(".//*[@placeholder or @title or @aria-label or @alt]"):
        for attribute in ("placeholder", "title", "aria-label", "alt"):
            found.update(WORDS.findall(element.get(attribute) or ""))
    identifiers = IDENTIFIERS.get(url)
    return {
        word
        for word in found - ALLOWED
        if not (identifiers is not None and identifiers.match(word))
    }


@pytest.mark.parametrize("role", ["organizer", "hr_user"])
def test_every_admin_page_of_the_role_reads_in_chinese(client, request, role):
    # The roles hold every permission the apps declare (as after `migrate`), whatever
    # tests ran before in this process.
    roles.sync_role_permissions()
    user = request.getfixturevalue(role)
    client.force_login(user)
    urls = menu_urls(user)
    assert len(urls) > 10  # the walk found the menus
    left = {}
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        english = english_on(response.content.decode(), url)
        if english:
            left[url] = sorted(english)
    assert left == {}


def test_the_study_exemptions_list_opens_for_someone_without_a_report_scope(client, hr_user):
    """Found by the walk: without a report scope the list filtered by the officials'
    manager instead of a queryset and failed with a TypeError."""
    hr_user.user_permissions.add(*Permission.objects.filter(codename__endswith="studyexemption"))
    client.force_login(hr_user)
    for url in ("/admin/study_exemptions/", "/admin/study_exemptions/new/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert english_on(response.content.decode(), url) == set()
