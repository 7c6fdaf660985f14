"""What the per-request caches keep never outlives the rule it stands for: the
back-office link (learning.fast.back_office), the "no view restriction anywhere"
answer (learning.fast.restrictions), the Site and the one-query lecture route
(learning.fast.routing), and the lecture's cached shell (learning.fast.shells)."""

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from wagtail.models import PageViewRestriction, Site

import pytest

from learning import roles
from tests.factories import UserFactory

from .factories import make_lecture, make_series

pytestmark = pytest.mark.django_db

ADMIN_LINK = f'href="{reverse("wagtailadmin_home")}"'


def test_back_office_link_follows_group_membership(client, index):
    lecture = make_lecture("宪法讲座", parent=index)
    user = UserFactory(roles=[roles.OFFICIAL, roles.HR])
    client.force_login(user)
    assert ADMIN_LINK in client.get(lecture.url).text
    assert ADMIN_LINK in client.get(lecture.url).text  # now from the cache
    user.groups.remove(Group.objects.get(name=roles.HR))
    assert ADMIN_LINK not in client.get(lecture.url).text


def test_back_office_link_follows_a_revoked_group_permission(client, index):
    lecture = make_lecture("宪法讲座", parent=index)
    client.force_login(UserFactory(roles=[roles.OFFICIAL, roles.HR]))
    assert ADMIN_LINK in client.get(lecture.url).text
    access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    Group.objects.get(name=roles.HR).permissions.remove(access)
    assert ADMIN_LINK not in client.get(lecture.url).text


def test_back_office_link_follows_a_permission_granted_to_the_user(client, index):
    lecture = make_lecture("宪法讲座", parent=index)
    user = UserFactory(roles=[roles.OFFICIAL])
    client.force_login(user)
    assert ADMIN_LINK not in client.get(lecture.url).text
    access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    user.user_permissions.add(access)
    assert ADMIN_LINK in client.get(lecture.url).text
    user.user_permissions.remove(access)
    assert ADMIN_LINK not in client.get(lecture.url).text


def test_officials_never_see_the_back_office_link(official_client, lecture):
    response = official_client.get(lecture.url)
    assert response.status_code == 200
    assert ADMIN_LINK not in response.text


def test_user_deactivated_mid_session_is_refused(official_client, official, lecture):
    assert official_client.get(lecture.url).status_code == 200
    official.user.is_active = False
    official.user.save()
    response = official_client.get(lecture.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_republished_lecture_shows_its_new_body(official_client, index):
    lecture = make_lecture("行政复议法", parent=index, body=[("paragraph", "<p>旧的正文</p>")])
    assert "旧的正文" in official_client.get(lecture.url).text
    lecture.body = [("paragraph", "<p>新的正文</p>")]
    lecture.title = "行政复议法（修订）"
    lecture.save_revision().publish()
    text = official_client.get(lecture.url).text
    assert "新的正文" in text and "旧的正文" not in text
    assert "行政复议法（修订）" in text


def test_unpublished_lecture_is_gone_at_once(official_client, lecture):
    assert official_client.get(lecture.url).status_code == 200
    lecture.unpublish()
    assert official_client.get(lecture.url).status_code == 404


def test_moved_lecture_is_served_at_its_new_address_only(official_client, index):
    lecture = make_lecture("监察法", parent=index)
    old_url = lecture.url
    assert official_client.get(old_url).status_code == 200
    series = make_series("监察专题", parent=index, slug="supervision")
    lecture.move(series, pos="last-child")
    lecture.refresh_from_db()
    assert lecture.url != old_url
    # Not served at the old address: Wagtail's redirect created by the move answers.
    response = official_client.get(old_url)
    assert response.status_code == 301 and response.url == lecture.url
    assert official_client.get(lecture.url).status_code == 200


def test_a_new_view_restriction_applies_at_once(official_client, index):
    lecture = make_lecture("保密法", parent=index)
    assert official_client.get(lecture.url).status_code == 200  # "none anywhere" cached
    restriction = PageViewRestriction.objects.create(
        page=index, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.set([Group.objects.get(name=roles.HR)])
    assert official_client.get(lecture.url).status_code != 200
    restriction.delete()
    assert official_client.get(lecture.url).status_code == 200


def test_site_changes_are_picked_up_at_once(official_client, lecture):
    assert official_client.get(lecture.url).status_code == 200  # the Site is cached
    Site.objects.all().delete()
    assert official_client.get(lecture.url).status_code == 404


@pytest.mark.fast_paths
def test_lecture_page_queries(official_client, lecture, django_assert_max_num_queries):
    """Session, user, the lecture in one query and the study state; the Site, the
    back-office answer and "no view restriction" come from the cache."""
    official_client.get(lecture.url)
    with django_assert_max_num_queries(5):
        assert official_client.get(lecture.url).status_code == 200
