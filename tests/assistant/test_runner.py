"""Assistant answers across workers: with Redis, a browser whose SSE lands on a worker other
than the one answering follows the answer live through the relay, as generations do."""

from __future__ import annotations

import asyncio

import pytest
import respx
from asgiref.sync import sync_to_async
from django.urls import reverse

from studio.assistant import runner
from studio.assistant.models import AssistantMessage
from studio.streams import Done, relay
from studio.streams.framing import HEARTBEAT
from tests.assistant.test_views import HTMX, finish, make_draft
from tests.conftest import CHAT_URL, USAGE, chunk, streaming_response
from tests.streams import test_relay
from tests.streams.test_relay import frames_text

pytestmark = pytest.mark.django_db(transaction=True)
# The relay tests' fixture: the real Redis when REDIS_URL is set (CI), else fakeredis.
redis_relay = test_relay.redis_relay


@pytest.fixture
def draft(workspace, product_template, product_inputs, user):
    return make_draft(workspace, product_template, product_inputs, user)


def elsewhere(monkeypatch) -> None:
    """This process plays the other worker: it has no log of the answer in memory."""
    monkeypatch.setattr(runner, "get_log", lambda message_id: None)


@respx.mock
async def test_a_watcher_on_another_worker_follows_the_answer_live(
    async_client,
    draft,
    user,
    redis_relay,
    monkeypatch,
):
    gate = asyncio.Event()

    async def upstream():
        yield chunk({"role": "assistant", "content": ""}) + chunk({"content": "One "})
        await gate.wait()  # the rest only once the other worker's watcher has the first words
        yield chunk({"content": "two."}) + chunk({"content": ""}, finish="stop", usage=USAGE)
        yield b"data: [DONE]\n\n"

    respx.post(CHAT_URL).mock(return_value=streaming_response(upstream()))
    await async_client.aforce_login(user)
    await async_client.post(reverse("assistant:ask", args=[draft.pk]), {"question": "Count"})
    message = await AssistantMessage.objects.alatest("pk")
    elsewhere(monkeypatch)

    stream = await async_client.get(reverse("assistant:events", args=[draft.pk]))
    frames = aiter(stream.streaming_content)
    first = await anext(frames)
    gate.set()
    rest = [frame async for frame in frames]
    await finish(message.pk)

    assert frames_text([first]) == "One "  # live, before the model had finished
    assert frames_text([first, *rest]) == "One two."  # every word once, in order
    assert (
        rest[-1].startswith(b"id: 3\nevent: done\n") and b"<p>One two.</p>" in rest[-1]
    )  # after the answer's one block
    assert not await runner.is_alive(message.pk)  # the heartbeat ends with the answer


@respx.mock
async def test_a_late_watcher_replays_from_its_position(
    async_client,
    draft,
    user,
    redis_relay,
    monkeypatch,
):
    message = await answered(async_client, draft, user, ["A ", "B ", "C"])
    # Finished, but a page that loaded while it streamed still says "writing": it follows.
    await AssistantMessage.objects.filter(pk=message.pk).aupdate(status="streaming")
    elsewhere(monkeypatch)

    stream = await async_client.get(
        reverse("assistant:events", args=[draft.pk]), headers={"Last-Event-ID": "1"}
    )
    frames = [frame async for frame in stream.streaming_content]

    assert frames_text(frames) == "B C" and b"event: done" in frames[-1]


@respx.mock
async def test_a_watcher_on_another_worker_after_the_end_gets_the_whole_answer(
    async_client,
    draft,
    user,
    redis_relay,
    monkeypatch,
):
    """Under load the SSE GET can reach the other worker after the answer has ended: it
    replays the mirror (words, then the end), not the end alone."""
    await answered(async_client, draft, user, ["A ", "B ", "C"])
    elsewhere(monkeypatch)

    stream = await async_client.get(reverse("assistant:events", args=[draft.pk]))
    frames = [frame async for frame in stream.streaming_content]

    assert frames_text(frames) == "A B C"
    assert b"event: done" in frames[-1] and b"<p>A B C</p>" in frames[-1]


async def test_a_watcher_of_an_answer_lost_with_its_worker_gets_the_saved_text(
    async_client,
    draft,
    user,
    redis_relay,
    monkeypatch,
    settings,
):
    settings.GENERATION_SSE_HEARTBEAT = 0.05
    answer, _ = await sync_to_async(ask_without_answering)(draft, user)
    await AssistantMessage.objects.filter(pk=answer.pk).aupdate(content="Half an ans")
    await async_client.aforce_login(user)

    stream = await async_client.get(reverse("assistant:events", args=[draft.pk]))
    frames = [frame async for frame in stream.streaming_content]

    # The first quiet check finds no worker answering; the second, a heartbeat later, says lost.
    assert frames[:-1] == [HEARTBEAT]
    assert b"event: done" in frames[-1] and b"Half an ans" in frames[-1]


async def test_without_redis_another_workers_answer_is_sent_once_as_saved(
    async_client, draft, user, settings
):
    settings.REDIS_URL = ""
    assert not relay.enabled()
    await sync_to_async(ask_without_answering)(draft, user)
    await async_client.aforce_login(user)

    stream = await async_client.get(reverse("assistant:events", args=[draft.pk]))
    frames = [frame async for frame in stream.streaming_content]

    assert len(frames) == 1 and frames[0].startswith(b"event: done\n")


async def answered(async_client, draft, user, pieces: list[str]) -> AssistantMessage:
    """The user asks (the upstream answers ``pieces``) and the answer runs to its end here."""
    respx.post(CHAT_URL).mock(return_value=streaming_response(aiter_of(pieces)))
    await async_client.aforce_login(user)
    await async_client.post(
        reverse("assistant:ask", args=[draft.pk]), {"question": "Q"}, headers=HTMX
    )
    message = await AssistantMessage.objects.alatest("pk")
    await finish(message.pk)
    return message


def ask_without_answering(draft, user):
    """A question whose answer another worker started (its row streaming), never answered."""
    from studio.assistant import actions

    return actions.ask(draft=draft, user=user, question="Q", window=10)


async def aiter_of(pieces: list[str]):
    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces:
        yield chunk({"content": piece})
        await asyncio.sleep(0.01)  # separate batches in the mirror
    yield chunk({"content": ""}, finish="stop", usage=USAGE) + b"data: [DONE]\n\n"


@respx.mock
async def test_an_answer_ends_with_its_id_and_each_viewer_reads_it_in_their_language(
    async_client, draft, user
):
    """The log's end names the message (no HTML); the SSE view renders it per viewer, so
    the label is in the language of whoever watches, not of whoever asked."""
    respx.post(CHAT_URL).mock(return_value=streaming_response(aiter_of(["Bright."])))
    await async_client.aforce_login(user)
    await async_client.post(reverse("assistant:ask", args=[draft.pk]), {"question": "Tone?"})
    message = await AssistantMessage.objects.alatest("pk")
    await finish(message.pk)
    assert runner.get_log(message.pk).done == Done(
        "done", {"message": message.pk}, seq=2
    )  # its text, its one block

    url = reverse("assistant:events", args=[draft.pk])
    finals = {}
    for language in ["en", "zh-hans"]:
        response = await async_client.get(url, headers={"Accept-Language": language})
        finals[language] = [frame async for frame in response.streaming_content][-1].decode()

    assert finals["en"].startswith("id: 2\nevent: done\n") and ">Assistant</span>" in finals["en"]
    assert ">助手</span>" in finals["zh-hans"] and "<p>Bright.</p>" in finals["zh-hans"]


@respx.mock
async def test_an_answer_after_the_database_dropped_the_idle_connection_is_saved(
    async_client, draft, user
):
    """Issue 23: the runners' database thread got a dead connection back after a blip and
    lost the answer; it now runs the save again on a new one."""
    from studio.audit.models import AuditLog
    from tests.database_blips import adrop_background_connection

    body = chunk({"role": "assistant", "content": ""}) + chunk({"content": "Saved."})
    body += chunk({"content": ""}, finish="stop", usage=USAGE) + b"data: [DONE]\n\n"

    async def upstream():
        yield body

    respx.post(CHAT_URL).mock(return_value=streaming_response(upstream()))
    await async_client.aforce_login(user)
    await adrop_background_connection()
    audited = await AuditLog.objects.acount()

    await async_client.post(reverse("assistant:ask", args=[draft.pk]), {"question": "Save"})
    message = await AssistantMessage.objects.alatest("pk")
    await finish(message.pk)

    await message.arefresh_from_db()
    assert (message.status, message.content) == (AssistantMessage.Status.DONE, "Saved.")
    assert runner.get_log(message.pk).done == Done("done", {"message": message.pk}, seq=2)
    assert await AuditLog.objects.acount() == audited + 1
