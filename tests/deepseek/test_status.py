"""The provider check: models, balance and breaker, never raising for DeepSeek trouble."""

from __future__ import annotations

import httpx
import pytest

from studio.deepseek import CircuitBreaker, MemoryStore, ResilientClient, check_provider

from .conftest import BASE_URL

MODELS = {"object": "list", "data": [{"id": "deepseek-flash"}, {"id": "deepseek-v4-pro"}]}
BALANCE = {
    "is_available": True,
    "balance_infos": [
        {
            "currency": "USD",
            "total_balance": "7.50",
            "granted_balance": "0.00",
            "topped_up_balance": "7.50",
        }
    ],
}


@pytest.mark.asyncio
async def test_reachable_provider(api, client) -> None:
    api.get("/models").mock(return_value=httpx.Response(200, json=MODELS))
    api.get("/user/balance").mock(return_value=httpx.Response(200, json=BALANCE))
    status = await check_provider(client)
    assert status.reachable and status.usable
    assert status.models == ["deepseek-flash", "deepseek-v4-pro"]
    assert str(status.balance.infos[0]["total_balance"]) == "7.50"
    assert status.as_dict()["usable"] is True


@pytest.mark.asyncio
async def test_bad_key_is_unreachable_with_advice(api, client) -> None:
    body = {"error": {"message": "Authentication Fails", "type": "authentication_error"}}
    api.get("/models").mock(return_value=httpx.Response(401, json=body))
    api.get("/user/balance").mock(return_value=httpx.Response(401, json=body))
    status = await check_provider(client)
    assert not status.reachable and not status.usable
    assert status.error_code == "AuthenticationFailed"
    assert "DEEPSEEK_API_KEY" in status.error


@pytest.mark.asyncio
async def test_balance_failure_alone_is_not_an_outage(api, client) -> None:
    api.get("/models").mock(return_value=httpx.Response(200, json=MODELS))
    api.get("/user/balance").mock(return_value=httpx.Response(404, text="Not Found"))
    status = await check_provider(client)
    assert status.reachable and status.balance is None and status.usable


@pytest.mark.asyncio
async def test_no_credit_is_not_usable(api, client) -> None:
    api.get("/models").mock(return_value=httpx.Response(200, json=MODELS))
    api.get("/user/balance").mock(
        return_value=httpx.Response(200, json={**BALANCE, "is_available": False})
    )
    status = await check_provider(client)
    assert status.reachable and not status.usable


@pytest.mark.asyncio
async def test_open_breaker_is_reported_and_the_check_still_runs(api, client) -> None:
    api.get("/models").mock(return_value=httpx.Response(200, json=MODELS))
    api.get("/user/balance").mock(return_value=httpx.Response(200, json=BALANCE))
    breaker = CircuitBreaker(MemoryStore(), BASE_URL, threshold=1, cooldown=60)
    await breaker.failure()
    status = await check_provider(ResilientClient(client, breaker=breaker))
    assert status.reachable
    assert status.breaker.state == "open" and status.breaker.retry_in > 50
    assert not status.usable
    assert status.as_dict()["breaker"] == "open"


@pytest.mark.asyncio
async def test_check_is_bounded_in_time(api, client) -> None:
    async def never(request):
        import asyncio

        await asyncio.Event().wait()

    api.get("/models").mock(side_effect=never)
    api.get("/user/balance").mock(side_effect=never)
    status = await check_provider(client, timeout=0.05)
    assert not status.reachable
    assert status.error_code == "UpstreamTimeout"
