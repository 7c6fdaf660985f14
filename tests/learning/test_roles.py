from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

import pytest

from learning import roles
from tests.factories import OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db


def perms(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migrations_create_the_role_groups_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    assert perms(roles.OFFICIAL) == set()
    assert {"wagtailadmin.access_admin", "learning.import_roster"} <= perms(roles.HR)
    assert "wagtailadmin.access_admin" in perms(roles.ORGANIZER)
    assert "learning.import_roster" not in perms(roles.ORGANIZER)
    assert not {p for p in perms(roles.HR) if p.startswith("wagtailcore.")}


def test_sync_is_idempotent_and_keeps_manual_grants():
    from django.contrib.auth.models import Permission

    extra = Permission.objects.get(codename="view_user", content_type__app_label="learning")
    Group.objects.get(name=roles.HR).permissions.add(extra)
    before = perms(roles.HR)
    call_command("migrate", verbosity=0)
    assert perms(roles.HR) == before


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        (None, "/", 302),
        (None, "/admin/", 302),
        (roles.OFFICIAL, "/", 200),
        (roles.OFFICIAL, "/admin/", 403),
        (roles.OFFICIAL, "/admin/pages/", 403),
        (roles.OFFICIAL, "/admin/users/", 403),
        (roles.ORGANIZER, "/admin/", 200),
        (roles.ORGANIZER, "/admin/pages/", 200),
        (roles.HR, "/admin/", 200),
        (roles.HR, "/admin/roster/", 200),
        (roles.HR, "/admin/officials/", 200),
        (roles.HR, "/admin/departments/", 200),
        (roles.ORGANIZER, "/admin/officials/", 200),
        ("superuser", "/admin/users/", 200),
    ],
)
def test_each_role_reaches_what_it_should(client, role, path, expected):
    if role == "superuser":
        client.force_login(UserFactory(is_superuser=True))
    elif role:
        client.force_login(OfficialFactory(user=UserFactory(roles=[roles.OFFICIAL, role])).user)
    assert client.get(path).status_code == expected


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (roles.HR, "/admin/pages/"),
        (roles.ORGANIZER, "/admin/departments/new/"),
        (roles.HR, "/admin/users/"),
        (roles.ORGANIZER, "/admin/roster/"),
        (roles.ORGANIZER, "/admin/users/"),
    ],
)
def test_back_office_roles_are_refused_outside_their_remit(client, role, path):
    """Wagtail refuses a signed-in admin user by sending them to the dashboard."""
    client.force_login(OfficialFactory(user=UserFactory(roles=[roles.OFFICIAL, role])).user)
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))


def test_hr_cannot_edit_pages(client, hr_user):
    from wagtail.models import Page

    client.force_login(hr_user)
    home = Page.objects.get(depth=2)
    response = client.post(f"/admin/pages/{home.pk}/edit/", {"title": "改名"})
    assert response.status_code == 302
    home.refresh_from_db()
    assert home.title != "改名"
