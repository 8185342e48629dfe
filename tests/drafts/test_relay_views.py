"""The SSE view through the Redis relay: a watcher in another worker streams from Redis."""

import asyncio

import pytest
import respx
from asgiref.sync import sync_to_async
from django.urls import reverse

from drafts import generation as runner
from drafts.models import Generation
from tests.conftest import CHAT_URL, chunk, streaming_response
from tests.generating import start_generation
from tests.streams import test_relay

redis_relay = test_relay.redis_relay


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_the_sse_view_in_another_worker_streams_from_redis(
    redis_relay, async_client, user, workspace, product_template, product_inputs
):
    release = asyncio.Event()

    async def body():
        yield chunk({"role": "assistant", "content": ""})
        yield chunk({"content": "Across "})
        await release.wait()
        yield chunk({"content": "workers"})
        yield chunk(
            {"content": ""}, finish="stop", usage={"prompt_tokens": 3, "completion_tokens": 2}
        )
        yield b"data: [DONE]\n\n"

    respx.post(CHAT_URL).mock(return_value=streaming_response(body()))
    version = await product_template.versions.afirst()
    generation = await sync_to_async(start_generation)(
        workspace=workspace, version=version, inputs=product_inputs, user=user
    )
    task = runner.launch(generation.pk)
    log = runner.get_log(generation.pk)
    while not log.items:
        await log.wait(0, timeout=5)
    runner.GENERATIONS.discard_log(
        generation.pk
    )  # this "worker" has no local log: it must read Redis
    await async_client.aforce_login(user)

    response = await async_client.get(reverse("drafts:events", args=[generation.pk]))
    release.set()
    body_text = b"".join([part async for part in response.streaming_content]).decode()
    await task

    assert "Across " in body_text and "workers" in body_text
    assert body_text.count("event: done") == 1
    assert (await Generation.objects.aget(pk=generation.pk)).text == "Across workers"


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_a_watcher_in_another_worker_after_the_end_gets_the_whole_text(
    redis_relay, async_client, user, workspace, product_template, product_inputs, settings
):
    """Under load the SSE GET can reach the other worker after the generation has ended (the
    benchmark's image shape at N=500): it replays the mirror, then the end, not the end alone."""
    settings.GENERATION_SSE_HEARTBEAT = 60  # a replay never waits for the idle check

    async def body():
        yield chunk({"role": "assistant", "content": ""})
        for piece in ["Late ", "yet ", "whole"]:
            yield chunk({"content": piece})
            await asyncio.sleep(0.01)  # separate batches in the mirror
        yield chunk(
            {"content": ""}, finish="stop", usage={"prompt_tokens": 3, "completion_tokens": 3}
        )
        yield b"data: [DONE]\n\n"

    respx.post(CHAT_URL).mock(return_value=streaming_response(body()))
    version = await product_template.versions.afirst()
    generation = await sync_to_async(start_generation)(
        workspace=workspace, version=version, inputs=product_inputs, user=user
    )
    await runner.launch(generation.pk)
    runner.GENERATIONS.discard_log(generation.pk)  # the other worker: no local log
    await async_client.aforce_login(user)

    async with asyncio.timeout(10):
        response = await async_client.get(reverse("drafts:events", args=[generation.pk]))
        frames = [frame async for frame in response.streaming_content]

    assert test_relay.frames_text(frames) == "Late yet whole"
    assert frames[-1].startswith(b"id: ") and b"event: done" in frames[-1]
    assert b"Late yet whole" in frames[-1]  # the finished panel, rendered for this viewer


@pytest.mark.django_db(transaction=True)
async def test_a_generation_no_worker_runs_is_shown_at_once_not_after_a_heartbeat(
    redis_relay, async_client, user, workspace, product_template, product_inputs, settings
):
    settings.GENERATION_SSE_HEARTBEAT = 60  # if the view waited for the idle check, it'd hang
    version = await product_template.versions.afirst()
    lost = await sync_to_async(start_generation)(
        workspace=workspace, version=version, inputs=product_inputs, user=user
    )  # queued, but no runner and no heartbeat anywhere: a crashed worker's
    await async_client.aforce_login(user)

    response = await async_client.get(reverse("drafts:events", args=[lost.pk]))
    body = b"".join([part async for part in response.streaming_content]).decode()

    assert body.startswith("event: done\n") and "data-recovering " in body
    # Watching only reads: the sweeper ends it (tests/drafts/test_sweeper.py).
    assert (await Generation.objects.aget(pk=lost.pk)).status == "queued"


@pytest.mark.django_db
def test_a_relay_watcher_calls_a_generation_lost_only_on_two_quiet_checks_in_a_row(
    workspace, product_template, product_inputs, user, monkeypatch
):
    """Redis back from an outage, empty, answers before the runner's heartbeat is written
    again: one look in that gap (the infrastructure fault suite caught it ending a running
    stream on the other worker) must not end the watcher's stream."""
    from drafts.views import generations as views

    generation = start_generation(
        workspace=workspace,
        version=product_template.current_version(),
        inputs=product_inputs,
        user=user,
    )
    sightings = iter([True, False, True, True])  # no heartbeat, back, none, none
    monkeypatch.setattr(runner, "is_orphan", lambda _generation: next(sightings))
    check = views._Settled(generation.pk)

    assert check() is None  # maybe Redis has just come back: look again next quiet spell
    assert check() is None  # the heartbeat is back: it runs
    assert check() is None
    done = check()  # none twice in a row: lost
    assert done.status == views.RECOVERING and done.ids["generation"] == generation.pk

    Generation.objects.filter(pk=generation.pk).update(status="done")
    assert check().status == "done"  # ended: at once
