"""Redis down: requests degrade to a documented policy, never a bare 500 (studio.degraded).

The shared cache points at a closed port (``redis://127.0.0.1:1``: refused at once), with and
without REDIS_URL in the environment: the runner's own worker keeps streaming and stops,
rate limits fail open (one WARNING per outage, a metric), budgets and login throttles count
in the worker, and pages say what is degraded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx2
import pytest
import respx
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from drafts import generation as runner
from drafts.actions import add_version
from drafts.models import Draft, Generation
from drafts.views import workspace as drafts_views
from studio import degraded
from studio.api import api as api_module
from studio.api.actions import create_api_key
from studio.asgi import application
from studio.audit.metrics import sample
from studio.audit.models import AuditLog
from studio.audit.recording import record_ai_call
from studio.guardrails.budgets import BudgetExceeded, reserve_tokens
from tests.conftest import CHAT_URL, USAGE, chunk, completion, streaming_response

HTMX = {"HX-Request": "true"}
CLOSED = "redis://127.0.0.1:1/0"
NOTICE = "Live updates across servers are paused; your generation keeps running."
NOTICE_ZH = "跨服务器的实时更新已暂停；你的生成仍在继续。"


@pytest.fixture
def redis_down(settings):
    """Every call to the shared cache (and the relay, where REDIS_URL is set) is refused."""
    degraded.reset()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    if settings.REDIS_URL:
        settings.REDIS_URL = CLOSED
    yield
    degraded.reset()


def errors(what: str) -> float:
    return sample("studio_shared_cache_errors_total", {"what": what})


@pytest.fixture
def local_liveness(monkeypatch):
    """The runner's heartbeat in the shared cache is left out: how it rides out an outage is
    studio.streams.registry's (tests/streams). Here: everything else on the runner's path."""

    @contextlib.asynccontextmanager
    async def heartbeat(key, *, marked=False):
        yield

    monkeypatch.setattr(runner.GENERATIONS, "mark_alive", lambda key, ttl=None: None)
    monkeypatch.setattr(runner.GENERATIONS, "heartbeat", heartbeat)


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_stop_and_continue_work_on_the_runners_worker(
    redis_down, local_liveness, async_client, user, workspace, product_template, product_inputs
):
    sent = asyncio.Event()

    async def held():
        yield chunk({"role": "assistant", "content": ""})
        yield chunk({"content": "Kept "})
        yield chunk({"content": "words"})
        sent.set()
        await asyncio.Event().wait()  # only Stop ends this answer
        yield b""

    async def rest():
        yield chunk({"content": " and more."}, finish="stop", usage=USAGE)
        yield b"data: [DONE]\n\n"

    respx.post(CHAT_URL).mock(side_effect=[streaming_response(held()), streaming_response(rest())])
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()
    url = reverse("drafts:generate", args=[workspace.pk])

    response = await async_client.post(url, {"version": version.pk, **product_inputs}, headers=HTMX)

    assert response.status_code == 200
    generation = await Generation.objects.aget()
    async with asyncio.timeout(5):
        await sent.wait()
        log = runner.get_log(generation.pk)
        while len(log.items) < 2:
            await log.wait(len(log.items), timeout=5)
    task = runner.task_for(generation.pk)

    stop = await async_client.post(reverse("drafts:cancel", args=[generation.pk]), headers=HTMX)

    assert stop.status_code == 204
    generation = await _ended(generation.pk)
    assert generation.status == Generation.Status.CANCELLED
    assert generation.version.text == "Kept words"
    # A watcher reconnecting to this worker replays the run from its log, then its end.
    events = await async_client.get(reverse("drafts:events", args=[generation.pk]))
    replay = b"".join([part async for part in events.streaming_content]).decode()
    assert events.status_code == 200
    assert "Kept " in replay and "words" in replay and replay.count("event: done") == 1

    follow_up = reverse("drafts:follow_up", args=[generation.draft_id])
    response = await async_client.post(follow_up, {"action": "continue"}, headers=HTMX)

    assert response.status_code == 200
    continued = await Generation.objects.exclude(pk=generation.pk).aget()
    continued = await _ended(continued.pk)
    assert continued.status == Generation.Status.DONE
    assert continued.version.text == "Kept words and more."
    # Redis was asked (each request's session read first) and found down: the page writes
    # were let through, uncounted.
    assert errors("session") + errors("rate_limit") > 0
    await _settle(task, runner.task_for(continued.pk))


async def _ended(pk: int, limit: float = 5) -> Generation:
    """The generation once it has ended (saved), polled until ``limit`` seconds. Its task
    may still be trying to relay the end to Redis: watchers here have it from the log."""
    async with asyncio.timeout(limit):
        while True:
            generation = await Generation.objects.select_related("version").aget(pk=pk)
            if generation.status not in Generation.ACTIVE:
                return generation
            await asyncio.sleep(0.02)


async def _settle(*tasks: asyncio.Task[None] | None) -> None:
    """Tasks still relaying their end to an unreachable Redis are not waited for."""
    for task in tasks:
        if task is not None and not task.done():
            task.cancel()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def draft(user, workspace) -> Draft:
    draft = Draft.objects.create(workspace=workspace, title="Lamp", created_by=user)
    add_version(draft_id=draft.pk, text="Bright **light**.", source="generated", author_id=user.pk)
    return draft


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "notice"), [("en", NOTICE), ("zh-hans", NOTICE_ZH)])
def test_a_draft_page_renders_and_says_what_is_degraded(
    redis_down, client, user, draft, language, notice
):
    client.force_login(user)  # sessions live in the database: Redis down logs nobody out

    response = client.get(draft.get_absolute_url(), headers={"Accept-Language": language})

    assert response.status_code == 200
    assert notice in response.content.decode()
    assert "<strong>light</strong>" in response.content.decode()


@pytest.mark.django_db
def test_a_healthy_cache_shows_no_notice(client, user, draft):
    client.force_login(user)
    response = client.get(draft.get_absolute_url())
    assert response.status_code == 200 and NOTICE not in response.content.decode()


@pytest.mark.django_db
def test_the_notice_shows_on_pages_that_use_no_cache_and_goes_once_it_is_back(
    redis_down, client, user, settings, caplog
):
    """The banner asks the cache itself when nothing else did lately (at most every
    RETRY_AFTER seconds), so it neither misses an outage nor outlives one."""
    client.force_login(user)
    home = reverse("home")

    assert NOTICE in client.get(home).content.decode()

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert NOTICE in client.get(home).content.decode()  # not asked again within RETRY_AFTER
    degraded._retry_at = degraded._answered_at = 0  # RETRY_AFTER seconds later
    with caplog.at_level(logging.WARNING, logger="studio.degraded"):
        page = client.get(home).content.decode()

    assert NOTICE not in page
    assert any("reachable again" in r.getMessage() for r in caplog.records)
    assert sample("studio_shared_cache_down") == 0


@pytest.mark.django_db
def test_rate_limits_fail_open_with_one_warning_per_outage(
    redis_down, client, user, draft, settings, caplog
):
    settings.RATELIMIT_RATE = "1/h"
    client.force_login(user)
    before = errors("session") + errors("rate_limit")
    url = reverse("drafts:status", args=[draft.pk])

    with caplog.at_level(logging.WARNING, logger="studio.degraded"):
        answers = [client.post(url, {"status": "review"}).status_code for _ in range(3)]
        degraded._retry_at = 0  # the next call asks Redis again: still down, still one line
        answers.append(client.post(url, {"status": "review"}).status_code)

    assert 429 not in answers and 500 not in answers
    warnings = [r for r in caplog.records if r.name == "studio.degraded"]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    # Each request's session read asks first (studio.sessions) and finds the outage; the
    # rate limit then leaves Redis alone until RETRY_AFTER, and lets the request through.
    assert errors("session") + errors("rate_limit") > before
    assert sample("studio_shared_cache_down") == 1


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_the_api_answers_in_its_envelope_not_a_500(redis_down, user):
    respx.post(CHAT_URL).mock(return_value=completion("Zero."))
    raw_key = (await sync_to_async(create_api_key)(user=user, name="CMS"))[1]
    transport = httpx2.ASGITransport(app=application)
    async with httpx2.AsyncClient(transport=transport, base_url="http://localhost") as client:
        body = {
            "model": "deepseek-flash",
            "temperature": 0,  # through the response cache too
            "messages": [{"role": "user", "content": "A tagline."}],
        }
        headers = {"Authorization": f"Bearer {raw_key}"}
        answers = [
            await client.post("/api/ai/v1/chat/completions", json=body, headers=headers)
            for _ in range(2)
        ]

    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["choices"][0]["message"]["content"] == "Zero."
    # While the shared cache is down, this worker's memory keeps the answer.
    assert answers[1].headers["x-studio-cache"] == "hit"


@pytest.mark.django_db
def test_budgets_still_hold_from_the_audited_usage(redis_down, user, settings):
    settings.AI_DAILY_TOKEN_BUDGET = 1000
    record_ai_call(
        user=user,
        model="deepseek-flash",
        status=AuditLog.Status.OK,
        prompt_tokens=600,
        completion_tokens=300,
    )
    messages = [{"role": "user", "content": "Hi"}]

    with pytest.raises(BudgetExceeded):
        reserve_tokens(user, messages, max_tokens=500)
    held = reserve_tokens(user, messages, max_tokens=50)  # fits the 100 left

    assert held.local and held.max_tokens == 50
    with pytest.raises(BudgetExceeded):  # what this worker holds counts too
        reserve_tokens(user, messages, max_tokens=50)
    held.release()
    assert reserve_tokens(user, messages, max_tokens=50).max_tokens == 50


@pytest.mark.django_db
def test_logins_work_and_stay_throttled_per_worker(redis_down, client, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    get_user_model().objects.create_user("ophelia", password="pw-ophelia-123")
    url = reverse("login")

    ok = client.post(url, {"username": "ophelia", "password": "pw-ophelia-123"})
    assert ok.status_code == 302
    client.logout()
    for _ in range(2):
        client.post(url, {"username": "ophelia", "password": "wrong"})
    locked = client.post(url, {"username": "ophelia", "password": "pw-ophelia-123"})

    assert locked.status_code == 200
    assert "Too many failed attempts" in locked.content.decode()


def test_redis_down_logs_no_one_out(redis_down, client, user, draft):
    """Sessions are read from the cache but kept in the database (studio.sessions): with
    Redis down a signed-in user's pages still answer, as that user, without a 503."""
    before = errors("session")
    client.force_login(user)  # stored in the database; its cache write fails open

    pages = [client.get(reverse("drafts:detail", args=[draft.pk])) for _ in range(2)]

    assert [p.status_code for p in pages] == [200, 200]
    assert all(p.wsgi_request.user == user for p in pages)
    assert errors("session") > before


def _unwrapped_cache_call(*args, **kwargs):
    """A view's call to Redis that nothing degraded (a new one, say)."""
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


@pytest.mark.django_db
def test_a_cache_error_no_one_degraded_is_a_503_that_says_so(client, user, draft, monkeypatch):
    monkeypatch.setattr(drafts_views, "panel_context", _unwrapped_cache_call)
    client.force_login(user)
    before = errors("view")

    page = client.get(draft.get_absolute_url())
    toast = client.get(draft.get_absolute_url(), headers=HTMX)

    assert page.status_code == toast.status_code == 503
    assert page["Retry-After"] == "5"
    assert "Part of the studio is briefly unavailable" in page.content.decode()
    assert (toast["HX-Retarget"], toast["HX-Reswap"]) == ("#toasts", "beforeend")
    assert toast.content.decode().strip().startswith('<div role="alert"')
    assert errors("view") == before + 2


@pytest.mark.django_db
def test_the_api_answers_a_cache_error_in_its_envelope(client, user, monkeypatch):
    monkeypatch.setattr(api_module.Membership.objects, "filter", _unwrapped_cache_call)
    raw_key = create_api_key(user=user, name="CMS")[1]

    response = client.get("/api/ai/workspaces", headers={"Authorization": f"Bearer {raw_key}"})

    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "shared_cache_unavailable"
