"""The signed-in user is loaded on every request by User.objects.get(pk=…), which our
manager answers with one plain SELECT; what Django's authentication does with the user
(session hash after a password change, inactive accounts) is unchanged."""

import datetime

from django.test import Client
from django.utils import timezone

import pytest

from learning.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_user_read_by_pk_is_the_orms(django_assert_num_queries):
    user = UserFactory(name="张三", email="zhangsan@example.org")
    user.last_login = timezone.now() - datetime.timedelta(hours=1)
    user.save()
    expected = User.objects.filter(pk=user.pk).first()
    with django_assert_num_queries(1):
        loaded = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert loaded.last_login.tzinfo is not None and loaded.is_active is True
    assert not loaded._state.adding and loaded._state.db == "default"
    assert loaded.check_password("correct-horse-battery") == expected.check_password(
        "correct-horse-battery"
    )


def test_a_missing_user_is_does_not_exist():
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=987654321)
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=2**70)  # out of range: the ORM's answer


def test_other_lookups_are_the_orms():
    user = UserFactory()
    assert User.objects.get(pk=str(user.pk)) == user
    assert User.objects.get(username=user.username) == user
    assert User.objects.get(pk=user.pk, is_active=True) == user
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=user.pk, is_active=False)


def test_a_password_changed_elsewhere_signs_out_other_sessions(official):
    client = Client()
    client.force_login(official.user)
    assert client.get("/me/record/").status_code == 200
    user = User.objects.get(pk=official.user.pk)
    user.set_password("another-long-passphrase")
    user.save()
    response = client.get("/me/record/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_deactivated_account_is_signed_out(official):
    client = Client()
    client.force_login(official.user)
    assert client.get("/me/record/").status_code == 200
    User.objects.filter(pk=official.user.pk).update(is_active=False)
    assert client.get("/me/record/").status_code == 302
