"""The fast paths' package (learning/fast): one switch, one invalidation idiom, and
each app's invalidations registered through the hook."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction

import pytest

from learning import fast
from learning.fast import auth
from learning.models import LawTopic
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(monkeypatch):
    """The cache keys written from now on."""
    keys = []
    real_set, real_add = cache.set, cache.add

    def set_(key, *args, **kwargs):
        keys.append(key)
        return real_set(key, *args, **kwargs)

    def add(key, *args, **kwargs):
        keys.append(key)
        return real_add(key, *args, **kwargs)

    monkeypatch.setattr(cache, "set", set_)
    monkeypatch.setattr(cache, "add", add)
    return keys


def test_with_the_fast_paths_off_a_lecture_page_keeps_nothing(
    official_client, lecture, settings, written
):
    settings.XUEFA_FAST_PATHS = False
    for _ in range(2):
        response = official_client.get(lecture.url)
        assert response.status_code == 200 and lecture.title in response.text
    assert not [key for key in written if key.startswith("xuefa:fast:")]


@pytest.mark.fast_paths
def test_with_the_fast_paths_on_the_page_and_its_shell_are_kept(official_client, lecture, written):
    official_client.get(lecture.url)
    assert any(key.startswith("xuefa:page-shell") for key in written)
    assert any(key.startswith("xuefa:fast:site:") for key in written)


@pytest.mark.fast_paths
def test_a_law_topic_starts_new_generations_of_every_family_that_shows_it():
    pages, papers = fast.generation("pages"), fast.generation("papers")
    permissions = fast.generation("permissions")
    LawTopic.objects.create(name="新的法律主题")
    assert fast.generation("pages") != pages
    assert fast.generation("papers") != papers
    assert fast.generation("permissions") == permissions


@pytest.mark.fast_paths
def test_a_value_computed_while_its_family_changed_is_not_used_again():
    calls = []

    def compute():
        calls.append(1)
        fast.bump("pages")  # a change lands while the value is being computed
        return "old"

    assert fast.remember("pages", "xuefa:fast:test-value", compute) == "old"
    assert fast.remember("pages", "xuefa:fast:test-value", lambda: "new") == "new"
    assert fast.remember("pages", "xuefa:fast:test-value", lambda: "newer") == "new"


@pytest.mark.fast_paths
@pytest.mark.django_db(transaction=True)
def test_a_generation_is_started_again_when_the_change_commits():
    with transaction.atomic():
        fast.bump("pages")
        inside = fast.generation("pages")
        kept = fast.remember("pages", "xuefa:fast:test-commit", lambda: "read before commit")
        assert kept == "read before commit"
    assert fast.generation("pages") != inside
    assert fast.remember("pages", "xuefa:fast:test-commit", lambda: "after") == "after"


@pytest.mark.parametrize("on", [True, False])
def test_the_backend_loads_the_user_the_orm_loads(settings, on):
    settings.XUEFA_FAST_PATHS = on
    user = UserFactory(name="王晓明")
    loaded = auth.ModelBackend().get_user(user.pk)
    expected = get_user_model().objects.get(pk=user.pk)
    fields = [f.attname for f in get_user_model()._meta.concrete_fields]
    assert [getattr(loaded, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert auth.AuthenticationBackend().get_user(user.pk + 1000) is None
    user.is_active = False
    user.save()
    assert auth.ModelBackend().get_user(user.pk) is None


@pytest.mark.fast_paths
def test_a_recent_reading_is_kept_for_max_age_but_a_change_here_is_seen_at_once():
    first = fast.generation("screens", max_age=60)
    cache.set(fast.generation_key("screens"), "another-process")  # elsewhere
    assert fast.generation("screens", max_age=60) == first  # within max_age
    assert fast.generation("screens") == "another-process"  # without it
    fast.bump("screens")  # here
    assert fast.generation("screens", max_age=60) not in (first, "another-process")
