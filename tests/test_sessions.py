"""The session engine (learning.fast.sessions): Django's database sessions read with one plain
SELECT. Whatever the database says is what a request sees: no cache in between."""

import datetime

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

import pytest

from learning.fast.sessions import SessionStore


def test_the_engine_is_a_database_store():
    assert settings.SESSION_ENGINE == "learning.fast.sessions"
    assert issubclass(SessionStore, db.SessionStore)


@pytest.mark.django_db
def test_a_saved_session_reads_back():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    again = SessionStore(store.session_key)
    assert again["answer"] == 42
    assert again.session_key == store.session_key


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["unknown-session-key-0123456789", "short", ""])
def test_an_unknown_key_reads_as_a_new_empty_session(key):
    store = SessionStore(key or None)
    assert dict(store.items()) == {}
    assert store.session_key is None
    store["x"] = 1
    store.save()
    assert store.session_key not in {None, key}


@pytest.mark.django_db
def test_an_expired_session_is_not_read():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    again = SessionStore(store.session_key)
    assert again.get("answer") is None
    assert again.session_key is None


@pytest.mark.django_db
def test_a_session_deleted_in_the_database_signs_out_at_once(official):
    client = Client()
    client.force_login(official.user)
    assert client.get("/me/record/").status_code == 200
    Session.objects.all().delete()
    response = client.get("/me/record/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_one_query_reads_the_session(official, django_assert_num_queries):
    store = SessionStore()
    store["answer"] = 42
    store.save()
    with django_assert_num_queries(1):
        assert SessionStore(store.session_key)["answer"] == 42
