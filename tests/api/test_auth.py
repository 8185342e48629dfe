"""API-key authentication and its rate limits: per key, per user, per address, and failed
attempts per address over every API URL."""

import re

from django.test import Client, RequestFactory
from django.urls import resolve

from studio.api.actions import create_api_key
from studio.api.api import api
from studio.api.auth import route_name

WORKSPACES = "/api/ai/workspaces"


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def calls(client: Client, headers: dict[str, str], times: int, url: str = WORKSPACES) -> list:
    return [client.get(url, headers=headers).status_code for _ in range(times)]


def test_one_key_over_its_limit_leaves_the_users_other_key_its_share(client, user, settings):
    """Per key 2/m, per user 3/m: the first key stops at its own 2; the second key still gets
    the one call the user has left, then the user's limit applies to both."""
    settings.RATELIMIT_SCOPE_RATES = {"key": "2/h", "user": "3/h"}
    first, second = (bearer(create_api_key(user=user, name=n)[1]) for n in ("a", "b"))

    assert calls(client, first, 3) == [200, 200, 429]
    assert "limit per API key" in client.get(WORKSPACES, headers=first).json()["error"]["message"]
    assert calls(client, second, 1) == [200]

    refused = client.get(WORKSPACES, headers=second)
    assert refused.status_code == 429 and "limit per user" in refused.json()["error"]["message"]


def test_a_route_can_set_one_scope(client, user, settings):
    settings.RATELIMIT_ROUTES = {"api_ai:workspaces|key": "1/h"}
    first, second = (bearer(create_api_key(user=user, name=n)[1]) for n in ("a", "b"))

    assert calls(client, first, 2) == [200, 429]
    assert calls(client, second, 2) == [200, 429]
    assert client.get("/api/ai/v1/models", headers=first).status_code == 200  # another route


def test_every_key_from_one_address_counts_against_its_limit(client, user, other_user, settings):
    settings.RATELIMIT_SCOPE_RATES = {"api_ip": "3/h"}
    mine, theirs = (
        bearer(create_api_key(user=user, name="m")[1]),
        bearer(create_api_key(user=other_user, name="t")[1]),
    )

    assert calls(client, mine, 2) == [200, 200]
    assert calls(client, theirs, 2) == [200, 429]
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert calls(elsewhere, theirs, 1) == [200]

    refused = client.get(WORKSPACES, headers=mine)
    assert refused.status_code == 429
    assert "IP address, all API keys together" in refused.json()["error"]["message"]


def test_the_address_limit_is_generous_by_default(settings):
    """An office behind one address is limited per person, not as one caller."""
    from studio.guardrails.rate_limits import rate_for

    assert rate_for("api_ai:generate", "api_ip") == "1000/m"
    assert rate_for("api_ai:generate", "key") == settings.RATELIMIT_RATE == "100/m"


def test_guessing_keys_is_limited_per_address_over_every_api_url(client, user, settings):
    """Failed attempts on any URL count together; over the limit, even a valid key from that
    address gets a 429 (nothing is looked up), while other addresses are unaffected."""
    settings.RATELIMIT_ROUTES = {"api_ai:auth": "3/h"}
    raw = create_api_key(user=user, name="real")[1]
    guesses = [
        client.get(url, headers=bearer(f"dss_guess{n}_x")).status_code
        for n, url in enumerate([WORKSPACES, "/api/ai/v1/models", "/api/ai/generations/1"])
    ]

    refused = client.get(WORKSPACES, headers=bearer("dss_guess4_x"))
    valid = client.get(WORKSPACES, headers=bearer(raw))

    assert guesses == [401, 401, 401]
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 3600
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert valid.status_code == 429
    assert (
        Client(REMOTE_ADDR="198.51.100.7").get(WORKSPACES, headers=bearer(raw)).status_code == 200
    )


def test_successful_calls_do_not_count_as_failed_attempts(client, user, settings):
    settings.RATELIMIT_ROUTES = {"api_ai:auth": "2/h"}
    headers = bearer(create_api_key(user=user, name="real")[1])

    assert calls(client, headers, 5) == [200] * 5


def test_an_operation_sharing_its_path_is_limited_under_its_own_name(
    client, user, workspace, settings
):
    """POST workspaces/{id}/drafts is Generate, GET lists drafts: one path, two routes."""
    settings.RATELIMIT_ROUTES = {"api_ai:generate": "1/h", "api_ai:campaign_create": "1/h"}
    key = bearer(create_api_key(user=user, name="k")[1])
    for path in (
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        f"/api/ai/workspaces/{workspace.pk}/campaigns",
    ):
        posted = [
            client.post(path, "{}", content_type="application/json", headers=key).status_code
            for _ in range(2)
        ]
        assert posted == [422, 429]  # counted before the body is read
        assert calls(client, key, 2, url=path) == [200, 200]  # the listing has its own limit


def test_every_method_of_a_shared_path_has_a_route_name_of_its_own():
    schema = api.get_openapi_schema()
    shared = {path: methods for path, methods in schema["paths"].items() if len(methods) > 1}
    assert shared  # drafts and campaigns: GET lists, POST creates
    factory = RequestFactory()
    for path, methods in shared.items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        names = set()
        for method in methods:
            request = factory.generic(method.upper(), url)
            request.resolver_match = resolve(url)
            names.add(route_name(request))
        assert len(names) == len(methods), (path, names)
