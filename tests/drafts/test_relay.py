"""Cross-worker streaming through Redis: a watcher in another worker sees exactly the text.

Runs against the real Redis when REDIS_URL is set (CI), else against fakeredis.
"""

import asyncio
import os

import fakeredis
import pytest
import redis.asyncio as aioredis
import respx
from asgiref.sync import sync_to_async
from django.urls import reverse

from drafts import generation as runner
from drafts import relay
from drafts.actions import start_generation
from drafts.events import GenerationLog, discard_log, get_log
from drafts.models import Generation
from tests.conftest import CHAT_URL, chunk, streaming_response


@pytest.fixture
def redis_relay(settings, monkeypatch):
    """Relay on; each test gets a fresh Redis client on its own event loop."""
    url = os.environ.get("REDIS_URL")
    settings.REDIS_URL = url or "redis://fake"
    clients = {}

    def get_redis():
        loop = asyncio.get_running_loop()
        if loop not in clients:
            clients[loop] = aioredis.Redis.from_url(url) if url else fakeredis.FakeAsyncRedis()
        return clients[loop]

    monkeypatch.setattr(relay, "get_redis", get_redis)
    return get_redis


def frames_text(frames: list[bytes]) -> str:
    """The text a browser would append from delta frames."""
    out = []
    for frame in frames:
        lines = frame.decode().split("\n")
        if "event: delta" in lines:
            out.append("\n".join(line[6:] for line in lines if line.startswith("data: ")))
    return "".join(out)


async def test_a_watcher_follows_the_mirror_from_any_position(redis_relay):
    log = GenerationLog(generation_id=987654)
    publisher = asyncio.create_task(relay.publish(log, batch=0.001))
    for piece in ["One ", "two ", "three ", "four"]:
        log.append("content", piece)
        await asyncio.sleep(0.005)  # let the publisher cut several batches
    log.finish("<section>final</section>")
    await publisher

    async def never_idle():
        return None

    everything = [f async for f in relay.follow(987654, after=0, heartbeat=1, when_idle=never_idle)]
    from_two = [f async for f in relay.follow(987654, after=2, heartbeat=1, when_idle=never_idle)]

    assert frames_text(everything) == "One two three four"
    assert frames_text(from_two) == "three four"
    assert everything[-1] == b"id: 4\nevent: done\ndata: <section>final</section>\n\n"


async def test_a_watcher_of_a_lost_generation_gets_the_settled_panel(redis_relay):
    async def settled():
        return "<section>interrupted</section>"

    frames = [f async for f in relay.follow(123456789, after=0, heartbeat=0.01, when_idle=settled)]

    assert frames == [b"id: 0\nevent: done\ndata: <section>interrupted</section>\n\n"]


async def test_stop_reaches_the_worker_that_runs_the_generation(redis_relay):
    stopped = asyncio.Event()
    seen = []

    def cancel(generation_id: int) -> bool:
        seen.append(generation_id)
        stopped.set()
        return True

    listener = asyncio.create_task(relay.listen_for_cancels(cancel))
    while not await relay.request_cancel(42):  # until the listener has subscribed
        await asyncio.sleep(0.01)
    await asyncio.wait_for(stopped.wait(), 5)
    listener.cancel()

    assert seen[0] == 42


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
    log = get_log(generation.pk)
    while not log.items:
        await log.wait(0, timeout=5)
    discard_log(generation.pk)  # this "worker" has no local log: it must read Redis
    await async_client.aforce_login(user)

    response = await async_client.get(reverse("drafts:events", args=[generation.pk]))
    release.set()
    body_text = b"".join([part async for part in response.streaming_content]).decode()
    await task

    assert "Across " in body_text and "workers" in body_text
    assert body_text.count("event: done") == 1
    assert (await Generation.objects.aget(pk=generation.pk)).text == "Across workers"


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
