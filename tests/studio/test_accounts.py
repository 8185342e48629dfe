"""Password logins are throttled per account as well as per address, and tell nobody whether
an account exists; there is no password reset (the studio sends no email)."""

from concurrent.futures import ThreadPoolExecutor
from html import unescape

import pytest
from django.urls import NoReverseMatch, reverse

from studio import accounts

pytestmark = pytest.mark.django_db
LOCKED = "Too many failed attempts to log in with this username."


def _log_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_burst_of_wrong_passwords_locks_the_account_even_for_the_right_one(client, user):
    """Finding 4: 20 wrong passwords (one address or many), then the right one: refused."""
    for _ in range(20):
        assert _log_in(client, "hamlet", "guess").status_code == 200
    response = _log_in(client, "hamlet", "pw-hamlet-123")
    assert response.status_code == 200 and not _logged_in(client)
    assert LOCKED in unescape(response.text)


def test_another_username_from_the_same_address_still_logs_in(client, user, other_user):
    for _ in range(20):
        _log_in(client, "hamlet", "guess")
    assert _log_in(client, "cordelia", "pw-cordelia-123").status_code == 302
    assert _logged_in(client)


def test_a_lock_reads_the_same_whether_or_not_the_account_exists(client, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    pages = {}
    for name in ("hamlet", "nobody-here"):
        for _ in range(4):
            pages[name] = unescape(_log_in(client, name, "guess").text)
    assert LOCKED in pages["hamlet"] and LOCKED in pages["nobody-here"]


def test_below_the_limit_a_wrong_password_is_the_usual_error_and_a_success_costs_nothing(
    client, user, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(2):
        page = unescape(_log_in(client, "hamlet", "guess").text)
        assert "correct username and password" in page and LOCKED not in page
    for _ in range(3):  # successes give their attempt back: no lock
        assert _log_in(client, "hamlet", "pw-hamlet-123").status_code == 302
        client.logout()
    assert LOCKED in unescape(_log_in(client, "hamlet", "guess").text)


def test_the_admin_login_is_throttled_too(client, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    user.is_staff = user.is_superuser = True
    user.save()
    for _ in range(3):
        client.post("/admin/login/", {"username": "hamlet", "password": "guess"})
    client.post("/admin/login/", {"username": "hamlet", "password": "pw-hamlet-123"})
    assert not _logged_in(client)


def test_simultaneous_attempts_reach_the_password_check_at_most_the_limit(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(lambda _: accounts._reserve("hamlet"), range(50)))
    assert allowed.count(True) == 10


def test_the_lock_ends_with_its_window(client, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(3):
        _log_in(client, "hamlet", "guess")
    accounts.cache.delete(accounts._key("Hamlet"))  # the window's end, as the cache sees it
    assert _log_in(client, "hamlet", "pw-hamlet-123").status_code == 302


def test_there_is_no_password_reset_without_email(client):
    """Finding 13: the reset flow would send mail the studio cannot send."""
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")
    assert client.get("/accounts/password_reset/").status_code == 404
    assert "password_reset" not in client.get("/accounts/login/").content.decode()
