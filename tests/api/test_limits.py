"""Rate limits on the studio's pages (htmx and not) and the daily token budget."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.api.limits import BudgetExceeded, check_token_budget, rate_for, tokens_used_today
from studio.audit.models import AuditLog

HTMX = {"HX-Request": "true"}


@pytest.fixture
def two_per_minute(settings):
    settings.RATELIMIT_ROUTES = {"api:keys": "2/m"}


def test_htmx_request_over_the_limit_gets_a_toast_with_retry_after(client, user, two_per_minute):
    client.force_login(user)
    for name in ("a", "b"):
        assert client.post(reverse("api:keys"), {"name": name}, headers=HTMX).status_code == 200

    response = client.post(reverse("api:keys"), {"name": "c"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 60
    assert response["HX-Retarget"] == "#toasts" and response["HX-Reswap"] == "beforeend"
    assert "<html" not in html and 'role="alert"' in html and "Too many requests" in html
    assert user.api_keys.count() == 2


def test_a_plain_request_over_the_limit_gets_a_full_page(client, user, two_per_minute):
    client.force_login(user)
    for name in ("a", "b", "c"):
        response = client.post(reverse("api:keys"), {"name": name})

    assert response.status_code == 429 and "<html" in response.content.decode()
    assert "Slow down" in response.content.decode()


def test_limits_are_per_user(client, user, other_user, two_per_minute):
    client.force_login(user)
    for name in ("a", "b", "c"):
        client.post(reverse("api:keys"), {"name": name})
    client.force_login(other_user)

    assert client.post(reverse("api:keys"), {"name": "mine"}).status_code == 200


def test_reads_are_not_limited(client, user, two_per_minute):
    client.force_login(user)

    assert all(client.get(reverse("api:keys")).status_code == 200 for _ in range(4))


def test_anonymous_posts_are_limited_per_ip(client, settings, user):
    settings.RATELIMIT_ROUTES = {"login": "2/m"}
    for _ in range(2):
        client.post(reverse("login"), {"username": "hamlet", "password": "wrong"})

    response = client.post(reverse("login"), {"username": "hamlet", "password": "pw-hamlet-123"})

    assert response.status_code == 429


def test_rates_come_from_settings_per_route(settings):
    settings.RATELIMIT_RATE = "100/m"
    settings.RATELIMIT_ROUTES = {"drafts:generate": "5/m", "api:keys": "off"}

    assert rate_for("drafts:generate") == "5/m"
    assert rate_for("api:keys") is None
    assert rate_for("anything:else") == "100/m"


def _spend(user, tokens, when=None):
    AuditLog.objects.create(
        user=user, status="ok", total_tokens=tokens, created=when or timezone.now()
    )


def test_budget_counts_only_todays_tokens(user, settings):
    settings.AI_DAILY_TOKEN_BUDGET = 100
    _spend(user, 500, timezone.now() - timedelta(days=1))
    _spend(user, 60)

    assert tokens_used_today(user) == 60
    check_token_budget(user)  # under budget: no error


def test_an_exhausted_budget_raises_with_when_it_resets(user, settings):
    settings.AI_DAILY_TOKEN_BUDGET = 100
    _spend(user, 100)

    with pytest.raises(BudgetExceeded) as caught:
        check_token_budget(user)

    assert caught.value.used == 100 and 0 < caught.value.retry_after <= 24 * 3600
    assert "daily budget of 100 tokens" in caught.value.message


def test_a_zero_budget_means_no_budget(user, settings):
    settings.AI_DAILY_TOKEN_BUDGET = 0
    _spend(user, 10**9)

    check_token_budget(user)
