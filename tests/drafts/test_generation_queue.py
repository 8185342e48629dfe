"""The runner beyond GENERATION_MAX_RUNNING: a generation waits its turn in order, queued and
alive, its place in line streamed to every watcher; Stop and shutdown end it while it waits."""

import asyncio

import pytest
import respx
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from drafts import errors, sweeper
from drafts import generation as runner
from drafts.models import Generation
from studio.audit.metrics import sample
from tests.conftest import CHAT_URL, chunk, streaming_response
from tests.drafts.test_relay_views import redis_relay  # noqa: F401 — a fixture
from tests.generating import start_generation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def three(workspace, product_template, product_inputs, user) -> list[Generation]:
    """Three queued generations, each in a draft of its own, not launched."""
    version = product_template.current_version()
    return [
        start_generation(workspace=workspace, version=version, inputs=product_inputs, user=user)
        for _ in range(3)
    ]


class Upstream:
    """DeepSeek, answering each request in turn with ``Answer <n> `` and then holding the
    stream until the test releases that answer (``finish(n)``)."""

    def __init__(self) -> None:
        self.releases: list[asyncio.Event] = []
        self.route = respx.post(CHAT_URL).mock(side_effect=self.answer)

    def answer(self, request):
        n = len(self.releases)
        release = asyncio.Event()
        self.releases.append(release)

        async def body():
            yield chunk({"role": "assistant", "content": ""})
            yield chunk({"content": f"Answer {n} "})
            await release.wait()
            yield chunk({"content": "done."}, finish="stop", usage={"prompt_tokens": 3})
            yield b"data: [DONE]\n\n"

        return streaming_response(body())

    @property
    def asked(self) -> int:
        return self.route.call_count

    def finish(self, n: int) -> None:
        self.releases[n].set()


async def _until(log, condition, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition(log.items):
            await log.wait(len(log.items), timeout=timeout)


def _writing(items) -> bool:
    return any(kind == "content" for kind, _ in items)


def _ahead(generation: Generation) -> str | None:
    """The place in line its log says last (None: never queued)."""
    places = [text for kind, text in runner.get_log(generation.pk).items if kind == "queued"]
    return places[-1] if places else None


async def _status(generation: Generation) -> tuple[str, str]:
    ended = await Generation.objects.aget(pk=generation.pk)
    return ended.status, ended.text


async def _watch(async_client, user, generation: Generation) -> asyncio.Task[str]:
    """A watcher of its SSE stream from the start (the draft's panel), reading in the
    background: the whole body once the stream ends."""
    await async_client.aforce_login(user)
    response = await async_client.get(reverse("drafts:events", args=[generation.pk]))

    async def read() -> str:
        return b"".join([part async for part in response.streaming_content]).decode()

    return asyncio.create_task(read())


@respx.mock
async def test_beyond_the_limit_the_next_waits_queued_then_streams_after_the_first(
    three, settings, async_client, user
):
    settings.GENERATION_MAX_RUNNING = 1
    upstream = Upstream()
    first, second, _ = three
    waits_before = sample("generation_admission_wait_seconds_count")

    tasks = [runner.launch(first), runner.launch(second)]
    await _until(runner.get_log(first.pk), _writing)
    watcher = await _watch(async_client, user, second)
    await asyncio.sleep(0)

    # The second waits: still queued in the database, its place in line in its log, alive
    # (a heartbeat for every worker), nothing asked of DeepSeek for it.
    assert runner.get_log(second.pk).items == [("queued", "1")]
    assert await _status(second) == ("queued", "")
    assert upstream.asked == 1 and runner.is_live(second.pk)
    assert await cache.aget(runner.alive_key(second.pk)) is not None
    assert sample("generation_queue_depth") == 1
    async with asyncio.timeout(1):  # a view rendering its panel need not wait for its request
        await runner.asked(second.pk, limit=30)

    upstream.finish(0)
    await _until(runner.get_log(second.pk), _writing)
    await tasks[0]
    assert upstream.asked == 2 and await _status(first) == ("done", "Answer 0 done.")
    assert runner.get_log(second.pk).items[:2] == [("queued", "1"), ("queued", "0")]
    assert sample("generation_queue_depth") == 0
    upstream.finish(1)
    await asyncio.gather(*tasks)

    assert await _status(second) == ("done", "Answer 1 done.")
    body = await watcher
    # The watcher was told its place, then its turn, then the text, then the end.
    assert body.index("event: queued\ndata: 1") < body.index("event: queued\ndata: 0")
    assert body.index("event: queued\ndata: 0") < body.index("Answer 1") < body.index("event: done")
    assert sample("generation_admission_wait_seconds_count") == waits_before + 2
    # Its timings count from its turn: the time in line is the admission wait's.
    ended = await Generation.objects.aget(pk=second.pk)
    assert ended.duration_ms is not None and ended.ttft_ms is not None


@respx.mock
async def test_under_the_limit_a_generation_is_never_queued(three, settings):
    settings.GENERATION_MAX_RUNNING = 2
    upstream = Upstream()
    tasks = [runner.launch(generation) for generation in three[:2]]

    for generation in three[:2]:
        await _until(runner.get_log(generation.pk), _writing)
    assert upstream.asked == 2
    assert [_ahead(generation) for generation in three[:2]] == [None, None]
    upstream.finish(0)
    upstream.finish(1)
    await asyncio.gather(*tasks)


@respx.mock
async def test_stop_while_queued_leaves_the_line_at_once_and_ends_it_stopped(
    three, settings, async_client, user
):
    settings.GENERATION_MAX_RUNNING = 1
    upstream = Upstream()
    first, second, third = three
    tasks = [runner.launch(generation) for generation in three]
    await _until(runner.get_log(first.pk), _writing)
    await _until(runner.get_log(third.pk), lambda items: items)
    assert (_ahead(second), _ahead(third)) == ("1", "2")
    watcher = await _watch(async_client, user, second)

    assert await runner.request_stop(second)  # the Stop button's path
    await tasks[1]

    status, text = await _status(second)
    assert (status, text) == ("cancelled", "")  # nothing was written: nothing lost
    assert upstream.asked == 1  # it never asked DeepSeek
    body = await watcher
    assert "event: queued\ndata: 1" in body and "event: done" in body
    assert "event: delta" not in body
    await _until(runner.get_log(third.pk), lambda items: items[-1] == ("queued", "1"))
    assert sample("generation_queue_depth") == 1

    upstream.finish(0)
    await _until(runner.get_log(third.pk), _writing)
    upstream.finish(1)
    await asyncio.gather(tasks[0], tasks[2])
    assert await _status(third) == ("done", "Answer 1 done.")


@respx.mock
async def test_worker_shutdown_ends_queued_generations_as_interrupted_like_running_ones(
    three, settings
):
    settings.GENERATION_MAX_RUNNING = 1
    upstream = Upstream()
    first, second, third = three
    for generation in three:
        runner.launch(generation)
    await _until(runner.get_log(first.pk), _writing)
    await _until(runner.get_log(third.pk), lambda items: items)

    await runner.shutdown()

    assert await _status(first) == ("interrupted", "Answer 0 ")
    for queued in (second, third):
        ended = await Generation.objects.aget(pk=queued.pk)
        assert (ended.status, ended.text) == ("interrupted", "")
        assert ended.error_message == errors.RESTARTED
    assert upstream.asked == 1  # the slot the running one gave back went to nobody
    assert sample("generation_queue_depth") == 0


@respx.mock
async def test_the_sweeper_leaves_a_queued_generation_alone_while_its_worker_runs(three, settings):
    settings.GENERATION_MAX_RUNNING = 1
    settings.GENERATION_HEARTBEAT_TTL = 1.5  # a beat every 0.5 s
    upstream = Upstream()
    first, second, _ = three
    tasks = [runner.launch(first), runner.launch(second)]
    await _until(runner.get_log(first.pk), _writing)
    long_ago = timezone.now() - timezone.timedelta(seconds=runner.HEARTBEAT_TTL + 5)
    await Generation.objects.filter(pk=second.pk).aupdate(created=long_ago)
    # Its heartbeat beats while it waits: gone for a moment (a Redis restart), it is back.
    await cache.adelete(runner.alive_key(second.pk))
    async with asyncio.timeout(5):
        while await cache.aget(runner.alive_key(second.pk)) is None:
            await asyncio.sleep(0.05)

    assert await sync_to_async(sweeper.sweep)() == []

    assert await _status(second) == ("queued", "")
    upstream.finish(0)
    await _until(runner.get_log(second.pk), _writing)
    upstream.finish(1)
    await asyncio.gather(*tasks)
    assert await _status(second) == ("done", "Answer 1 done.")


def test_a_queued_generation_whose_worker_was_killed_is_settled_by_the_sweeper(three):
    """Queued in a worker that died: no task, no heartbeat. The sweep ends it as it ends a
    running one."""
    lost = three[0]
    long_ago = timezone.now() - timezone.timedelta(seconds=runner.HEARTBEAT_TTL + 5)
    Generation.objects.filter(pk=lost.pk).update(created=long_ago)

    assert sweeper.sweep() == [lost.pk]

    assert Generation.objects.get(pk=lost.pk).status == "interrupted"


@respx.mock
async def test_a_watcher_in_another_worker_sees_the_place_in_line_through_the_relay(
    redis_relay,  # noqa: F811 — the fixture
    three,
    settings,
    async_client,
    user,
):
    settings.GENERATION_MAX_RUNNING = 1
    upstream = Upstream()
    first, second, _ = three
    tasks = [runner.launch(first), runner.launch(second)]
    await _until(runner.get_log(first.pk), _writing)
    await _until(runner.get_log(second.pk), lambda items: items)
    runner.GENERATIONS.discard_log(second.pk)  # this "worker" has no log: it reads Redis
    await async_client.aforce_login(user)

    response = await async_client.get(reverse("drafts:events", args=[second.pk]))
    frames = aiter(response.streaming_content)
    first_frame = (await anext(frames)).decode()
    assert "event: queued\ndata: 1" in first_frame

    upstream.finish(0)
    rest = []
    async with asyncio.timeout(10):
        async for frame in frames:
            rest.append(frame.decode())
            if "Answer 1" in rest[-1]:
                upstream.finish(1)
    await asyncio.gather(*tasks)

    body = "".join(rest)
    assert "event: queued\ndata: 0" in body
    assert body.index("event: queued\ndata: 0") < body.index("Answer 1") < body.index("event: done")
    assert await _status(second) == ("done", "Answer 1 done.")


@respx.mock
@pytest.mark.parametrize(
    ("language", "label"), [("en", "Queued ({n} ahead)"), ("zh-hans", "排队中（前面还有 {n} 个）")]
)
async def test_a_page_loaded_while_it_waits_follows_from_its_place_in_line(
    three, settings, async_client, user, language, label
):
    """The page shows no queue of its own: its stream starts at the place in line, which
    the panel's notice shows in the viewer's language (studio.js fills in the number)."""
    settings.GENERATION_MAX_RUNNING = 1
    upstream = Upstream()
    first, second, _ = three
    tasks = [runner.launch(first), runner.launch(second)]
    await _until(runner.get_log(first.pk), _writing)
    await async_client.aforce_login(user)
    async_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = (await async_client.get(reverse("drafts:detail", args=[second.draft_id]))).content

    text = page.decode()
    events = reverse("drafts:events", args=[second.pk])
    assert f'sse-connect="{events}?after=0"' in text  # before its one item, its place
    assert f'data-queued-label="{label}"' in text and 'sse-swap="queued"' in text
    upstream.finish(0)
    await _until(runner.get_log(second.pk), _writing)
    upstream.finish(1)
    await asyncio.gather(*tasks)
