import pytest

from learning.models import Department
from tests.factories import DepartmentFactory, OfficialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_client(client, hr_user):
    client.force_login(hr_user)
    return client


def test_hr_adds_a_department_under_a_parent(hr_client):
    bureau = DepartmentFactory(name="区财政局")
    response = hr_client.post(
        "/admin/departments/new/", {"name": "预算科", "short_name": "", "parent": bureau.pk}
    )
    assert response.status_code == 302
    office = Department.objects.get(name="预算科")
    assert office.get_parent() == bureau
    assert office.full_name.endswith("区财政局 / 预算科")


def test_hr_moves_a_department(hr_client):
    first, second = DepartmentFactory(name="甲局"), DepartmentFactory(name="乙局")
    office = DepartmentFactory(name="办公室", parent=first)
    response = hr_client.post(
        f"/admin/departments/edit/{office.pk}/",
        {"name": "办公室", "short_name": "", "parent": second.pk},
    )
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.get_parent() == second
    assert Department.objects.subtree(second).count() == 2


def test_a_department_cannot_move_under_itself(hr_client):
    top = DepartmentFactory(name="甲局")
    child = DepartmentFactory(name="办公室", parent=top)
    response = hr_client.post(
        f"/admin/departments/edit/{top.pk}/", {"name": "甲局", "parent": child.pk}
    )
    assert response.status_code == 200
    top.refresh_from_db()
    assert top.depth == 1


def test_official_listing_query_count_is_flat(hr_client, django_assert_max_num_queries):
    department = DepartmentFactory()
    OfficialFactory.create_batch(5, department=department)
    with django_assert_max_num_queries(30) as small:
        assert hr_client.get("/admin/officials/").status_code == 200
    OfficialFactory.create_batch(40, department=department)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert hr_client.get("/admin/officials/").status_code == 200


def test_officials_cannot_edit_the_organisation(official_client):
    department = DepartmentFactory()
    response = official_client.post(f"/admin/departments/edit/{department.pk}/", {"name": "改名"})
    assert response.status_code == 403
    department.refresh_from_db()
    assert department.name != "改名"
