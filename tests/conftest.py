import pytest

from .factories import DEFAULT_PASSWORD, OfficialFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and other cached state must not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_paths_for_their_own_tests(request):
    """A test marked fast_paths tests a shortcut itself (learning/fast): it runs with
    the shortcuts on, also when the suite runs with XUEFA_FAST_PATHS=false."""
    if request.node.get_closest_marker("fast_paths") is None:
        yield
        return
    settings = request.getfixturevalue("settings")
    settings.XUEFA_FAST_PATHS = True
    yield


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def official(db):
    return OfficialFactory()


@pytest.fixture
def official_client(client, official):
    client.force_login(official.user)
    return client


@pytest.fixture
def organizer(db):
    return OfficialFactory(user=UserFactory(roles=["Official", "Organizer"])).user


@pytest.fixture
def hr_user(db):
    return OfficialFactory(user=UserFactory(roles=["Official", "HR"])).user


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True)
