"""The layout's header and footer come from each process's copy of them with the
request's holes filled (learning.fast.shells.layout_part): the result is what
rendering the part would give, for every kind of reader, language and address, and
no reader's data reaches another's page."""

import re

from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

import pytest

from learning import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PARTS = ["includes/site_header.html", "includes/site_footer.html"]
ADMIN_LINK = f'href="{reverse("wagtailadmin_home")}"'
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def request_for(user, path="/exams/"):
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.META["CSRF_COOKIE"] = "s" * 32  # one CSRF secret for the request
    return request


def render(source, request):
    return engines["django"].from_string(source).render({}, request)


def both(part, request):
    """(the part from its copy, the part rendered as an include) for one request."""
    copied = render('{% load page_shells %}{% layout_part "' + part + '" %}', request)
    included = render('{% include "' + part + '" %}', request)
    return copied, included


def unmasked(html):
    """The page with its CSRF tokens (masked afresh each time) blanked out."""
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', html)


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("kind", ["anonymous", "official", "back office"])
def test_a_part_from_its_copy_is_the_part_rendered(part, language, kind):
    user = {
        "anonymous": lambda: AnonymousUser(),
        "official": lambda: UserFactory(roles=[roles.OFFICIAL]),
        "back office": lambda: UserFactory(roles=[roles.ORGANIZER]),
    }[kind]()
    with translation.override(language):
        for path in ("/exams/", '/lectures/?q=<b>"x"</b>&page=2'):
            copied, included = both(part, request_for(user, path))
            assert unmasked(copied) == unmasked(included)
            assert TOKEN.findall(copied) or part.endswith("header.html") or kind == "anonymous"


def test_each_reader_gets_their_own_link_token_and_address():
    official = request_for(UserFactory(roles=[roles.OFFICIAL]), "/exams/")
    organizer = request_for(UserFactory(roles=[roles.ORGANIZER]), "/exams/7/")
    header = '{% load page_shells %}{% layout_part "includes/site_header.html" %}'
    footer = '{% load page_shells %}{% layout_part "includes/site_footer.html" %}'
    assert ADMIN_LINK in render(header, organizer)
    assert ADMIN_LINK not in render(header, official)  # after the organizer's copy
    assert ADMIN_LINK in render(header, organizer)
    assert 'value="/exams/7/"' in render(footer, organizer)
    assert 'value="/exams/"' in render(footer, official)
    official.META["CSRF_COOKIE"] = "t" * 32
    from django.middleware.csrf import _unmask_cipher_token

    tokens = TOKEN.findall(render(footer, official))
    assert tokens and {_unmask_cipher_token(t) for t in tokens} == {"t" * 32}


def test_the_languages_are_kept_apart():
    request = request_for(UserFactory(roles=[roles.OFFICIAL]))
    footer = '{% load page_shells %}{% layout_part "includes/site_footer.html" %}'
    with translation.override("en"):
        english = render(footer, request)
    with translation.override("zh-hans"):
        chinese = render(footer, request)
    assert "Sign out" in english and "Sign out" not in chinese
    assert "退出" in chinese or "登出" in chinese


def test_pages_show_the_layout(official_client):
    page = official_client.get(reverse("exams:index")).text
    assert '<header class="site-header">' in page and '<footer class="site-footer">' in page
    assert f'href="{reverse("exams:index")}"' in page
    assert 'name="next" type="hidden" value="/exams/"' in page
