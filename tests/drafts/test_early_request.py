"""A Generate's request to DeepSeek leaves before its rows are stored (drafts.generate
``_asked_early``, drafts.generation ``EarlyRequest``): the runner streams that request, a
Generate whose rows are not stored gives it up, and what must be asked later still is."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
import respx
from asgiref.sync import sync_to_async
from django.db import IntegrityError
from django.urls import reverse

from drafts import generate
from drafts import generation as runner
from drafts.generate import Ask, Generate
from drafts.models import Draft, Generation
from studio import degraded
from studio.audit.origin import Origin
from studio.guardrails.budgets import _reserved_key
from tests.conftest import CHAT_URL, sse_body, sse_response, streaming_response

HTMX = {"HX-Request": "true"}
WAIT = 10  # seconds a store waits for the request before it says it never came

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def asked() -> threading.Event:
    """Set when DeepSeek is asked (the simulated upstream answers a short stream)."""
    seen = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        seen.set()
        return sse_response(sse_body(["Bright ", "light."]))

    respx.post(CHAT_URL).mock(side_effect=answer)
    return seen


@pytest.fixture
def store_waits_for(monkeypatch):
    """Each store waits (at most WAIT s) for ``event`` first; ``waited`` says whether it came
    while the rows were not stored yet."""
    waited: list[bool] = []

    def install(event: threading.Event) -> list[bool]:
        real = generate._store

        def store(request, ask):
            waited.append(event.wait(WAIT))
            return real(request, ask)

        monkeypatch.setattr(generate, "_store", store)
        return waited

    return install


async def _generate(async_client, workspace, version, inputs, **extra):
    url = reverse("drafts:generate", args=[workspace.pk])
    return await async_client.post(url, {"version": version.pk, **inputs, **extra}, headers=HTMX)


async def _finished(generation_id: int) -> Generation:
    if task := runner.task_for(generation_id):
        await task
    return await Generation.objects.aget(pk=generation_id)


@respx.mock
async def test_the_request_leaves_before_the_rows_are_stored_and_is_streamed_once(
    async_client, user, workspace, product_template, product_inputs, asked, store_waits_for
):
    waited = store_waits_for(asked)
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()

    response = await _generate(async_client, workspace, version, product_inputs)

    assert response.status_code == 200 and waited == [True]
    generation = await _finished((await Generation.objects.aget()).pk)
    assert generation.status == Generation.Status.DONE
    assert generation.text == "Bright light." and generation.ttft_ms is not None
    assert respx.calls.call_count == 1  # the runner streamed the early request, asked no more
    assert runner.SLOTS.running == 0


@respx.mock
async def test_the_action_stores_the_rows_once_the_request_has_left(
    async_client, user, workspace, product_template, product_inputs, asked, monkeypatch
):
    """It waits for the request (at most EARLY_WAIT) rather than holding Python's lock
    while the event loop would send it. "Out" is the studio's own mark: the request handed
    to the client's connection pool (``EarlyRequest._sending``). The simulated upstream
    (``asked``) hears it a moment later, on the loop: on a loaded machine the action's
    thread could run in that moment, and ``asked`` failed the check once (CI, 2026-12-06)."""
    monkeypatch.setattr(runner, "EARLY_WAIT", WAIT)
    out_first: list[bool] = []
    handed = threading.Event()
    real_store, real_sending = generate._store, runner.EarlyRequest._sending

    def store(request, ask):
        out_first.append(handed.is_set())
        return real_store(request, ask)

    def sending(self) -> None:
        handed.set()
        real_sending(self)

    monkeypatch.setattr(generate, "_store", store)
    monkeypatch.setattr(runner.EarlyRequest, "_sending", sending)
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()

    await _generate(async_client, workspace, version, product_inputs)

    assert out_first == [True]
    await _finished((await Generation.objects.aget()).pk)
    assert asked.is_set()  # the request the rows followed reached DeepSeek


@respx.mock
async def test_rows_that_are_not_stored_give_the_request_and_its_tokens_back(
    async_client, user, workspace, product_template, product_inputs, monkeypatch
):
    seen = threading.Event()

    async def long_answer():
        yield sse_body(["Never "], done=False)
        await asyncio.Event().wait()  # until the studio lets go of it

    def answer(request: httpx.Request) -> httpx.Response:
        seen.set()
        return streaming_response(long_answer())

    respx.post(CHAT_URL).mock(side_effect=answer)
    sent: list[runner.EarlyRequest] = []
    closed = asyncio.Event()
    real_ask, real_close = runner.ask_early, runner.EarlyRequest._close

    def ask_early(*args, **kwargs):
        sent.append(real_ask(*args, **kwargs))
        return sent[-1]

    async def close(self):
        await real_close(self)
        closed.set()

    def failing_store(request, ask):
        assert seen.wait(WAIT)  # the request is out
        raise IntegrityError("the database refused the row")

    monkeypatch.setattr(runner, "ask_early", ask_early)
    monkeypatch.setattr(runner.EarlyRequest, "_close", close)
    monkeypatch.setattr(generate, "_store", failing_store)
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()

    with pytest.raises(IntegrityError):
        await _generate(async_client, workspace, version, product_inputs)

    async with asyncio.timeout(WAIT):
        await closed.wait()
    (early,) = sent
    assert early.discarded and early._events.ag_frame is None  # the upstream stream closed
    assert not await Draft.objects.aexists() and runner.SLOTS.running == 0
    key = _reserved_key(user.pk)
    assert not degraded.fail_open(lambda cache: cache.get(key), None, what="budget")


@respx.mock
async def test_a_cacheable_generation_is_asked_by_its_runner_after_the_commit(
    user, workspace, product_template, product_inputs, asked, monkeypatch
):
    """A cached answer may make the request needless: only the runner knows, after its
    lookup (here the caller asks to reuse one, as the API's ``X-Studio-Cache`` does)."""
    early: list[object] = []
    monkeypatch.setattr(runner, "ask_early", lambda *a, **k: early.append(a))
    version = await product_template.versions.afirst()
    request = Generate(
        user=user,
        workspace=workspace,
        origin=Origin(),
        asks=[Ask.from_version(version, product_inputs)],
        cache="reuse",
        loop=asyncio.get_running_loop(),
    )

    started = await sync_to_async(generate.do_generate_one)(request)

    assert early == [] and started.cache_mode != Generation.CacheMode.OFF
    generation = await _finished(started.pk)
    assert generation.text == "Bright light." and respx.calls.call_count == 1


@respx.mock
async def test_switched_off_the_runner_asks_after_the_commit(
    async_client, user, workspace, product_template, product_inputs, asked, settings, monkeypatch
):
    settings.GENERATION_EARLY_REQUEST = False
    early: list[object] = []
    monkeypatch.setattr(runner, "ask_early", lambda *a, **k: early.append(a))
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()

    response = await _generate(async_client, workspace, version, product_inputs)

    assert response.status_code == 200 and early == []
    generation = await _finished((await Generation.objects.aget()).pk)
    assert generation.text == "Bright light." and respx.calls.call_count == 1


@respx.mock
async def test_a_full_worker_queues_the_generation_instead(
    async_client, user, workspace, product_template, product_inputs, asked, settings
):
    """No slot free at once: no early request; the runner waits in line and asks then."""
    settings.GENERATION_MAX_RUNNING = 1
    runner.SLOTS.enter()  # another generation holds the only slot
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()
    try:
        await _generate(async_client, workspace, version, product_inputs)
        await asyncio.sleep(0)
        generation = await Generation.objects.aget()
        assert not asked.is_set() and runner.SLOTS.waiting  # in line, nothing asked
    finally:
        runner.SLOTS.leave()
    generation = await _finished(generation.pk)
    assert generation.text == "Bright light." and respx.calls.call_count == 1
