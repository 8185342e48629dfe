"""Password logins are throttled per account as well as per address, and tell nobody whether
an account exists; "Forgot password?" (Django's reset views) is throttled and as discreet."""

import re
from concurrent.futures import ThreadPoolExecutor
from html import unescape

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

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
    cache.delete(accounts._key("Hamlet"))  # the window's end, as the cache sees it
    assert _log_in(client, "hamlet", "pw-hamlet-123").status_code == 302


def _forgot(client, email: str):
    return client.post("/accounts/password_reset/", {"email": email})


def test_the_login_page_offers_a_password_reset(client):
    page = client.get("/accounts/login/").content.decode()
    assert reverse("password_reset") in page and "Forgot password?" in page


def test_a_reset_link_sets_a_new_password(client, user):
    user.email = "hamlet@example.com"
    user.save()
    response = _forgot(client, "Hamlet@Example.com")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["hamlet@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body)[1]

    form = client.get(link, follow=True)  # Django moves the token out of the URL first
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-New-pass-4821", "new_password2": "a-New-pass-4821"},
        follow=True,
    )
    assert "Your new password is set." in done.content.decode()
    assert _log_in(client, "hamlet", "a-New-pass-4821").status_code == 302
    assert "expired" in client.get(link, follow=True).content.decode()  # used up


def test_an_unknown_address_reads_the_same_and_sends_nothing(client, user):
    user.email = "hamlet@example.com"
    user.save()
    known, unknown = _forgot(client, "hamlet@example.com"), _forgot(client, "nobody@example.com")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [["hamlet@example.com"]]
    done = client.get(reverse("password_reset_done")).content.decode()
    assert "If an account has that email address" in unescape(done)


def test_reset_emails_per_address_are_throttled_silently(client, user, settings):
    settings.PASSWORD_RESET_LIMIT = 2
    settings.RATELIMIT_ENABLE = False  # the per-address count, not the per-IP one
    user.email = "hamlet@example.com"
    user.save()
    answers = {_forgot(client, "hamlet@example.com")["Location"] for _ in range(4)}
    assert answers == {reverse("password_reset_done")} and len(mail.outbox) == 2


def test_reset_requests_are_limited_per_ip(client, settings):
    settings.RATELIMIT_ROUTES = {"password_reset": "3/h"}
    statuses = [_forgot(client, f"n{n}@example.com").status_code for n in range(4)]
    assert statuses == [302, 302, 302, 429]


def test_the_reset_pages_speak_chinese(client):
    client.cookies["django_language"] = "zh-hans"
    page = client.get("/accounts/password_reset/", headers={"Accept-Language": "zh-hans"})
    assert "重置密码" in page.content.decode()


@pytest.mark.django_db
def test_the_session_s_user_is_read_with_sql_compiled_once(user, other_user, compiles, monkeypatch):
    """Every request reads its user (studio.tuning 7): the row Django's backend would find,
    none for an inactive or a missing one, one compile for them all."""
    backend = accounts.ThrottledModelBackend()
    monkeypatch.setattr(accounts, "_USER", type(accounts._USER)(accounts._USER.build))
    type(other_user).objects.filter(pk=other_user.pk).update(is_active=False)
    compiles.clear()

    assert backend.get_user(user.pk) == user and backend.get_user(user.pk).username == user.username
    assert backend.get_user(other_user.pk) is None  # inactive: refused, as Django's backend does
    assert backend.get_user(other_user.pk + 1000) is None
    assert len(compiles) == 1
