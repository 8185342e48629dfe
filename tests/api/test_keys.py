"""API keys: created in settings, shown once, stored hashed, revocable, last use recorded."""

import hashlib

import pytest
from django.urls import reverse

from studio.api.actions import create_api_key, revoke_api_key
from studio.api.models import ApiKey

HTMX = {"HX-Request": "true"}


def test_a_key_is_stored_only_as_its_hash(user):
    key, raw = create_api_key(user=user, name="CMS")

    assert raw.startswith(f"dss_{key.prefix}_") and len(raw) > 40
    assert key.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {getattr(key, f.attname) for f in ApiKey._meta.fields if f.attname}


def test_matching_finds_the_active_key_and_nothing_else(user):
    key, raw = create_api_key(user=user, name="CMS")

    assert ApiKey.objects.matching(raw) == key
    assert ApiKey.objects.matching(raw[:-1] + ("x" if raw[-1] != "x" else "y")) is None
    assert ApiKey.objects.matching("sk-not-ours") is None
    revoke_api_key(key=key)
    assert ApiKey.objects.matching(raw) is None


def test_settings_page_lists_keys_without_secrets(client, user):
    create_api_key(user=user, name="CMS sync")
    client.force_login(user)

    response = client.get(reverse("api:keys"))

    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "CMS sync" in html and "never used" in html
    assert "copy it now" not in html


def test_creating_a_key_shows_the_secret_once(client, user):
    client.force_login(user)

    response = client.post(reverse("api:keys"), {"name": "Zapier"})

    key = ApiKey.objects.get(user=user, name="Zapier")
    html = response.content.decode()
    shown = html.split('id="new-api-key" readonly value="')[1].split('"')[0]
    assert ApiKey.objects.matching(shown) == key
    assert response["Cache-Control"] == "no-store"
    again = client.get(reverse("api:keys")).content.decode()
    assert shown not in again and "Zapier" in again


def test_creating_with_htmx_returns_only_the_key_section(client, user):
    client.force_login(user)

    response = client.post(reverse("api:keys"), {"name": "CLI"}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html and 'id="api-keys"' in html and "copy it now" in html


def test_a_key_needs_a_name(client, user):
    client.force_login(user)

    response = client.post(reverse("api:keys"), {"name": ""})

    assert response.status_code == 200 and not ApiKey.objects.exists()
    assert "This field is required" in response.content.decode()


def test_revoking_stops_the_key_and_says_so(client, user, auth):
    client.force_login(user)
    key = ApiKey.objects.get(user=user)

    response = client.post(reverse("api:revoke", args=[key.pk]), headers=HTMX)

    key.refresh_from_db()
    assert key.revoked is not None and "revoked" in response.content.decode()
    assert client.get("/api/ai/workspaces", headers=auth).status_code == 401


def test_another_users_key_cannot_be_revoked(client, other_user, user):
    key, _ = create_api_key(user=user, name="mine")
    client.force_login(other_user)

    response = client.post(reverse("api:revoke", args=[key.pk]))

    key.refresh_from_db()
    assert response.status_code == 404 and key.revoked is None


@pytest.mark.django_db
def test_use_records_last_used(client, user, auth):
    assert ApiKey.objects.get(user=user).last_used is None

    assert client.get("/api/ai/workspaces", headers=auth).status_code == 200

    assert ApiKey.objects.get(user=user).last_used is not None


def test_settings_page_sums_the_users_cost_today_and_this_month(client, user, other_user):
    from decimal import Decimal

    from studio.audit.recording import record_ai_call

    for cost in ("0.0125", "0.0100"):
        record_ai_call(status="done", user=user, cost=Decimal(cost), total_tokens=10)
    record_ai_call(status="done", user=other_user, cost=Decimal("5"), total_tokens=10)
    client.force_login(user)

    html = client.get(reverse("api:keys")).content.decode()

    assert "Cost today: $0.0225." in html and "This month: $0.0225." in html
