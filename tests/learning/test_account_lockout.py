"""Failed sign-ins lock the account, whichever of its identifiers was typed (user
name, e-mail address, staff number), and the client address, with one message that
says when to try again and does not tell whether the account exists."""

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

import pytest

from learning import lockout
from tests.factories import DEFAULT_PASSWORD, OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG = "wrong-password-1"
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
# 2026-03-02 09:00:10 in Shanghai: five failures at this instant lock the account
# until 09:05:10, announced as "at 9:06" (rounded up), six minutes away.
START = datetime(2026, 3, 2, 9, 0, 10, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
LOCKED_MESSAGE = "Too many failed sign-in attempts. Try again at 9:06 a.m. (in 6 minutes)."


@pytest.fixture
def official(db):
    """An official whose user name, e-mail and staff number all differ."""
    return OfficialFactory(
        user=UserFactory(username="wangxm", email="wang.xiaoming@example.cn"),
        staff_number="BH0107",
    )


def attempt(client, login, password=DEFAULT_PASSWORD):
    return client.post(LOGIN, {"login": login, "password": password}, **ENGLISH)


def errors(response):
    """The form's errors as (code, message) pairs."""
    return [(e.code, e.message) for e in response.context["form"].errors.as_data()["__all__"]]


def is_locked(response):
    return response.status_code == 200 and [code for code, _ in errors(response)] == [
        lockout.LOCKED
    ]


def signed_in(client):
    return get_user(client).is_authenticated


def at(seconds_after_start):
    return mock.patch("time.time", lambda: START + seconds_after_start)


def fail(client, login, times):
    for _ in range(times):
        response = attempt(client, login, WRONG)
        assert response.status_code == 200
        assert not is_locked(response)


def test_five_failures_by_user_name_lock_the_email_and_staff_number_too(client, official):
    with at(0):
        fail(client, "wangxm", 5)
        for login in ("wangxm", "wang.xiaoming@example.cn", "BH0107", "WANGXM", "ｂｈ0107"):
            response = attempt(client, login)
            assert is_locked(response), login
            assert errors(response) == [(lockout.LOCKED, LOCKED_MESSAGE)]
            assert not signed_in(client)


def test_the_lock_is_per_account_not_per_identifier_typed(client, official):
    with at(0):
        fail(client, "wangxm", 2)
        fail(client, "Wang.Xiaoming@example.cn", 2)
        fail(client, "bh0107", 1)
        response = attempt(client, "wangxm")
    assert is_locked(response)
    assert not signed_in(client)


def test_a_staff_number_that_is_the_user_name_counts_once(client):
    """Roster accounts sign in with the staff number as their user name."""
    roster = OfficialFactory(user=UserFactory(username="BH0200"), staff_number="BH0200")
    with at(0):
        fail(client, "BH0200", 4)
        assert not is_locked(attempt(client, roster.user.email, WRONG))
        assert is_locked(attempt(client, roster.user.email))


def test_other_accounts_are_not_locked(client, official):
    other = OfficialFactory()
    with at(0):
        fail(client, "wangxm", 5)
        response = Client().post(
            LOGIN, {"login": other.user.username, "password": DEFAULT_PASSWORD}
        )
    assert response.status_code == 302


def test_the_lock_expires_and_then_the_right_password_signs_in(client, official):
    with at(0):
        fail(client, "wangxm", 5)
    with at(299):
        assert is_locked(attempt(client, "wang.xiaoming@example.cn"))
    with at(301):
        response = attempt(client, "wang.xiaoming@example.cn")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client)


def test_an_unknown_identifier_is_refused_exactly_like_an_account(official):
    """Same counting, same message, same queries: the refusal tells nothing about
    whether an account exists."""
    refusals = {}
    for login in ("wangxm", "nobody-here"):
        client = Client(REMOTE_ADDR=f"10.0.0.{len(refusals) + 1}")
        with at(0):
            fail(client, login, 5)
            with CaptureQueriesContext(connection) as queries:
                response = attempt(client, login)
        refusals[login] = (response.status_code, errors(response), len(queries))
    assert refusals["wangxm"] == refusals["nobody-here"]
    assert refusals["wangxm"][1] == [(lockout.LOCKED, LOCKED_MESSAGE)]


def test_the_per_address_limit_still_applies(official):
    """Ten failures a minute from one address, whatever accounts they name."""
    accounts = [OfficialFactory().user for _ in range(3)]
    client = Client(REMOTE_ADDR="10.1.1.1")
    with at(0):
        fail(client, accounts[0].username, 4)
        fail(client, accounts[1].username, 4)
        fail(client, "nobody-at-all", 2)
        response = attempt(client, accounts[2].username)
        assert is_locked(response)
        assert errors(response) == [
            (
                lockout.LOCKED,
                "Too many failed sign-in attempts. Try again at 9:02 a.m. (in 2 minutes).",
            )
        ]
        assert not signed_in(client)
        elsewhere = Client(REMOTE_ADDR="10.1.1.2")
        assert attempt(elsewhere, accounts[2].username).status_code == 302
    with at(61):
        assert attempt(client, accounts[2].username).status_code == 302


def test_the_time_is_written_the_local_way(client, official):
    with at(0):
        fail(client, "wangxm", 5)
        response = client.post(LOGIN, {"login": "wangxm", "password": DEFAULT_PASSWORD})
    assert is_locked(response)
    assert "09:06" in errors(response)[0][1]


def test_a_password_reset_clears_the_accounts_failures(client, official, rf):
    with at(0):
        fail(client, "wangxm", 5)
        lockout.clear_accounts(rf.post(LOGIN), "wang.xiaoming@example.cn")
        response = attempt(Client(REMOTE_ADDR="10.2.2.2"), "wangxm")
    assert response.status_code == 302


def sign_in_from_one_address(officials):
    """Each official signs in from the same address (an office's NAT): the status of
    each sign-in POST."""
    statuses = []
    for official in officials:
        client = Client(REMOTE_ADDR="10.9.9.9")
        statuses.append(attempt(client, official.user.username).status_code)
    return statuses


def test_thirty_sign_ins_a_minute_from_one_address_by_default():
    officials = OfficialFactory.create_batch(31)
    with at(0):
        assert sign_in_from_one_address(officials) == [302] * 30 + [429]


def test_an_office_behind_one_address_may_lift_the_sign_in_limit(settings):
    """XUEFA_LOGINS_PER_ADDRESS=off (README): forty officials sign in within a minute
    from one address, while failures still lock each account."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": False}
    officials = OfficialFactory.create_batch(40)
    with at(0):
        assert sign_in_from_one_address(officials) == [302] * 40
        client = Client(REMOTE_ADDR="10.9.9.9")
        fail(client, officials[0].user.username, 5)
        assert is_locked(attempt(client, officials[0].user.username))
