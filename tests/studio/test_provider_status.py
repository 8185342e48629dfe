"""The provider-status page: login required, what it shows, and its htmx partial."""

from __future__ import annotations

import httpx
import pytest
import respx
from django.core.cache import cache
from django.urls import reverse

from studio import ai

API = "https://api.deepseek.test"
MODELS = {"object": "list", "data": [{"id": "deepseek-flash"}, {"id": "deepseek-v4-pro"}]}
BALANCE = {
    "is_available": True,
    "balance_infos": [
        {
            "currency": "USD",
            "total_balance": "42.50",
            "granted_balance": "2.50",
            "topped_up_balance": "40.00",
        }
    ],
}


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def upstream():
    with respx.mock(base_url=API, assert_all_called=False) as router:
        router.get("/models").mock(return_value=httpx.Response(200, json=MODELS))
        router.get("/user/balance").mock(return_value=httpx.Response(200, json=BALANCE))
        yield router


def test_login_required(client, db):
    response = client.get(reverse("provider_status"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_reachable_provider_with_models(client, user, upstream):
    client.force_login(user)
    response = client.get(reverse("provider_status"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'data-state="usable"' in html
    assert "deepseek-flash" in html and "deepseek-v4-pro" in html
    assert "Credit available" in html
    assert "42.50" not in html  # amounts are for staff
    assert 'data-breaker="closed"' in html


def test_staff_see_the_balance_amounts(client, user, upstream):
    user.is_staff = True
    user.save()
    client.force_login(user)
    html = client.get(reverse("provider_status")).content.decode()
    assert "42.50 USD" in html


def test_configured_model_missing_from_the_list_is_flagged(client, user, upstream, settings):
    settings.DEEPSEEK_REASONING_MODEL = "deepseek-reasoner"
    client.force_login(user)
    html = client.get(reverse("provider_status")).content.decode()
    assert "deepseek-reasoner" in html and 'role="alert"' in html


def test_unreachable_provider_says_why(client, user, upstream):
    upstream.get("/models").mock(
        return_value=httpx.Response(401, json={"error": {"message": "Authentication Fails"}})
    )
    client.force_login(user)
    html = client.get(reverse("provider_status")).content.decode()
    assert 'data-state="unusable"' in html
    assert "Not reachable" in html
    assert "DEEPSEEK_API_KEY" in html


def test_open_breaker_is_shown(client, user, upstream, settings):
    settings.DEEPSEEK_BREAKER_THRESHOLD = 1
    from asgiref.sync import async_to_sync

    async_to_sync(ai.build_breaker().failure)()
    client.force_login(user)
    html = client.get(reverse("provider_status")).content.decode()
    assert 'data-breaker="open"' in html
    assert 'data-state="unusable"' in html


def test_htmx_gets_only_the_partial(client, user, upstream):
    client.force_login(user)
    response = client.get(reverse("provider_status"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="provider-status"' in html
    assert "deepseek-v4-pro" in html


def test_post_is_not_allowed(client, user):
    client.force_login(user)
    assert client.post(reverse("provider_status")).status_code == 405


def test_one_check_of_deepseek_serves_every_viewer_for_a_while(client, user, other_user, upstream):
    """Reloads (by anyone) within CHECK_TTL do not call DeepSeek again."""
    from django.test import Client

    client.force_login(user)
    client.get(reverse("provider_status"))
    client.get(reverse("provider_status"), headers={"HX-Request": "true"})
    other = Client()
    other.force_login(other_user)
    other.get(reverse("provider_status"))

    assert len(upstream.calls) == 2  # /models and /user/balance, once


def test_the_provider_address_is_for_staff_only(client, user, upstream):
    client.force_login(user)
    assert API not in client.get(reverse("provider_status")).content.decode()

    user.is_staff = True
    user.save()
    assert API in client.get(reverse("provider_status")).content.decode()


def test_the_page_is_rate_limited_per_user(client, user, upstream, settings):
    settings.RATELIMIT_ROUTES = {"provider_status": "2/m"}
    client.force_login(user)
    for _ in range(2):
        assert client.get(reverse("provider_status")).status_code == 200

    response = client.get(reverse("provider_status"))

    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
