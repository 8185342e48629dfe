"""Rate limits on the studio's pages (htmx and not), the daily token budget, which rate applies
where, and the audit rows of AI calls refused by either."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.audit.models import AuditLog
from studio.guardrails.budgets import BudgetExceeded, check_token_budget, tokens_used_today
from studio.guardrails.rate_limits import rate_for

HTMX = {"HX-Request": "true"}


@pytest.fixture
def two_per_minute(settings):
    settings.RATELIMIT_ROUTES = {"api:keys": "2/h"}


def test_htmx_request_over_the_limit_gets_a_toast_with_retry_after(client, user, two_per_minute):
    client.force_login(user)
    for name in ("a", "b"):
        assert client.post(reverse("api:keys"), {"name": name}, headers=HTMX).status_code == 200

    response = client.post(reverse("api:keys"), {"name": "c"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 3600
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
    settings.RATELIMIT_ROUTES = {"login": "2/h"}
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


def test_the_most_specific_rate_wins(settings):
    settings.RATELIMIT_RATE = "100/m"
    settings.RATELIMIT_SCOPE_RATES = {"user": "300/m", "api_ip": "1000/m"}
    settings.RATELIMIT_ROUTES = {"api_ai:generate": "20/m", "api_ai:generate|user": "50/m"}

    assert rate_for("api_ai:generate", "user") == "50/m"  # route and scope
    assert rate_for("api_ai:generate", "key") == "20/m"  # the route's
    assert rate_for("api_ai:chat_completions", "user") == "300/m"  # the scope's
    assert rate_for("api_ai:chat_completions", "key") == "100/m"  # the default


def test_every_ai_route_is_in_the_urlconf():
    """A renamed URL would silently drop out of the refusal audit."""
    from django.urls import NoReverseMatch, reverse

    from studio.guardrails.rate_limits import AI_ROUTES

    for name in AI_ROUTES:
        for args in ([], [1], [1, 1]):
            try:
                reverse(name, args=args)
                break
            except NoReverseMatch:
                continue
        else:
            raise AssertionError(f"{name} is not a URL name")


# --- Refused AI calls are audited ---------------------------------------------------------


def test_a_page_ai_call_over_the_rate_limit_is_audited(client, user, workspace, settings):
    from drafts.models import Draft

    settings.RATELIMIT_ROUTES = {"assistant:ask": "1/h"}
    draft = Draft.objects.create(workspace=workspace, title="T", created_by=user)
    client.force_login(user)
    url = reverse("assistant:ask", args=[draft.pk])
    client.post(url, {"question": ""}, headers=HTMX)  # refused by the form: no AI call

    assert client.post(url, {"question": "Why?"}, headers=HTMX).status_code == 429

    row = AuditLog.objects.get()
    assert (row.status, row.user, row.channel) == ("rate_limited", user, "ui")
    assert row.error_code == "rate_limit_user" and row.ip == "127.0.0.1" and row.session
    assert row.total_tokens is None  # a refusal costs nothing from the budget


def test_other_refused_requests_are_not_ai_calls(client, user, two_per_minute):
    client.force_login(user)
    for name in ("a", "b", "c"):
        client.post(reverse("api:keys"), {"name": name})

    assert not AuditLog.objects.exists()


def test_a_page_ai_call_over_budget_is_audited(client, user, workspace, settings):
    from drafts.actions import add_version
    from drafts.models import Draft

    settings.AI_DAILY_TOKEN_BUDGET = 10
    _spend(user, 10)
    draft = Draft.objects.create(workspace=workspace, title="T", created_by=user)
    add_version(draft_id=draft.pk, text="# A\n\nB.\n", source="edited", author_id=user.pk)
    client.force_login(user)

    response = client.post(
        reverse("drafts:section_generate", args=[draft.pk]),
        {"base": 1, "index": 0, "action": "expand"},
        headers=HTMX,
    )

    assert response.status_code == 429
    row = AuditLog.objects.get(status="over_budget")
    assert (row.user, row.workspace, row.channel) == (user, workspace, "ui")
    assert row.error_code == "daily_budget_exceeded" and row.ip == "127.0.0.1"


def test_an_api_call_over_the_rate_limit_is_audited_with_its_key(client, user, settings, auth):
    import respx

    from studio.api.models import ApiKey
    from tests.conftest import CHAT_URL, completion

    settings.RATELIMIT_ROUTES = {"api_ai:chat_completions": "1/h"}
    body = {"model": "deepseek-flash", "messages": [{"role": "user", "content": "Hi"}]}
    with respx.mock:
        respx.post(CHAT_URL).mock(return_value=completion())
        for _ in range(2):
            response = client.post(
                "/api/ai/v1/chat/completions", body, content_type="application/json", headers=auth
            )

    assert response.status_code == 429
    row = AuditLog.objects.get(status="rate_limited")
    assert (row.user, row.api_key, row.channel) == (user, ApiKey.objects.get(), "openai")
    assert row.error_code == "rate_limit_key"


def test_reads_over_the_rate_limit_are_not_audited(client, settings, auth):
    settings.RATELIMIT_ROUTES = {"api_ai:workspaces": "1/m"}
    for _ in range(2):
        response = client.get("/api/ai/workspaces", headers=auth)

    assert response.status_code == 429 and not AuditLog.objects.exists()


def test_an_api_generation_over_budget_is_audited(
    client, user, workspace, product_template, product_inputs, auth, settings
):
    settings.AI_DAILY_TOKEN_BUDGET = 10
    _spend(user, 10)

    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs},
        content_type="application/json",
        headers=auth,
    )

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "daily_budget_exceeded"
    row = AuditLog.objects.get(status="over_budget")
    assert (row.user, row.workspace, row.channel) == (user, workspace, "api")
    assert row.api_key_id is not None
