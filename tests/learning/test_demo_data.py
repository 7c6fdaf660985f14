import io

from django.contrib.auth import authenticate
from django.core.management import call_command

import pytest

from learning.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from learning.models import Department, Official, User

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Department.objects.values_list("path", "name")),
        list(User.objects.order_by("username").values_list("username", "name", "password")),
        list(Official.objects.values_list("staff_number", "department_id", "position")),
    )


def test_load_demo_data_twice_changes_nothing():
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    first = snapshot()
    call_command("load_demo_data", stdout=io.StringIO())

    assert snapshot() == first
    assert 55 <= Official.objects.count() <= 70
    assert Official.objects.filter(is_leader=True).count() >= 5
    assert "xuefa-demo" in out.getvalue()


def test_demo_accounts_sign_in_with_their_roles():
    call_command("load_demo_data", stdout=io.StringIO())
    for username, role, _name, _department in DEMO_ACCOUNTS:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert not user.must_change_password
        if role == "superuser":
            assert user.is_superuser
        else:
            assert user.groups.filter(name=role).exists()


def test_demo_organisation_comes_from_the_seed():
    call_command("load_demo_data", stdout=io.StringIO())
    root = Department.objects.get(depth=1)
    assert root.name == "滨海新区人民政府"
    children = {d.name for d in root.get_children()}
    assert {"区政府办公室", "区委组织部", "区司法局"} <= children
    assert Department.objects.get(name="法制科").get_parent().name == "区政府办公室"
