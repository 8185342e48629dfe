"""Live Markdown over SSE, end to end through the runner and the events view: every finished
block arrives once as sanitized HTML, the bytes sent grow with the new text only, and a
watcher that resumes with Last-Event-ID ends up showing exactly what one that never left
shows: the final render."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from html import unescape

import pytest
import respx
from asgiref.sync import sync_to_async
from django.urls import reverse

from drafts import generation as runner
from drafts.generation import GENERATIONS
from drafts.markdown_html import render_markdown
from tests.conftest import CHAT_URL, USAGE, chunk, streaming_response
from tests.generating import start_generation

pytestmark = pytest.mark.django_db(transaction=True)

Frame = tuple[str, str, int | None]  # event, data, id


@pytest.fixture
def queued(workspace, product_template, product_inputs, user):
    version = product_template.current_version()
    return start_generation(workspace=workspace, version=version, inputs=product_inputs, user=user)


def markdown_tokens(count: int) -> list[str]:
    """About ``count`` tokens of a long Markdown answer: headings, paragraphs, lists, a table
    and a code fence in every section, in English and Chinese."""
    tokens: list[str] = []
    section = 0
    while len(tokens) < count:
        section += 1
        tokens += ["## ", "Section", f" {section}", "\n\n"]
        tokens += ["Some", " **bold**", " words", " and a", " [link](https://example.com)", ".\n\n"]
        tokens += ["- ", "first", " item\n", "- ", "second", " item\n\n"]
        tokens += ["中文", "段落", "，", "包含", "**粗体**", "。\n\n"]
        tokens += ["| a | b |\n", "|---|---|\n", f"| {section} | x |\n\n"]
        tokens += ["```python\n", "x = 1\n", "\n", "y = 2\n", "```\n\n"]
    return tokens[:count]


def upstream(tokens: list[str], gate: asyncio.Event) -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""})
        await gate.wait()  # the watcher is there: every token is seen live
        for token in tokens:
            yield chunk({"content": token})
            await asyncio.sleep(0)
        yield chunk({"content": ""}, finish="stop", usage=USAGE)
        yield b"data: [DONE]\n\n"

    return chunks()


def parse(raw: bytes) -> Frame | None:
    event, data, ident = "message", [], None
    for line in raw.decode().split("\n"):
        name, _, value = line.partition(": ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            ident = int(value)
    return (event, "\n".join(data), ident) if data else None


async def watch(client, generation_id: int, last_event_id: int | None = None) -> list[bytes]:
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    url = reverse("drafts:events", args=[generation_id]) + "?final=none"
    response = await client.get(url, headers=headers)
    return [part async for part in response.streaming_content]


def shown(frames: list[Frame], blocks: str = "", tail: str = "") -> tuple[str, str]:
    """What the browser shows after these frames (studio.js): the blocks' HTML, the open text."""
    for event, data, _ in frames:
        if event == "delta":
            tail += unescape(data)
        elif event == "block":
            length, _, html = data.partition("\n")
            blocks, tail = blocks + html, tail[int(length) :]
    return blocks, tail


async def stream(async_client, user, generation, tokens: list[str]) -> list[bytes]:
    """Run the generation with ``tokens`` while a watcher follows it live; its raw frames."""
    gate = asyncio.Event()
    respx.post(CHAT_URL).mock(return_value=streaming_response(upstream(tokens, gate)))
    await async_client.aforce_login(user)
    task = runner.launch(generation.pk)
    await runner.asked(generation.pk)
    watching = asyncio.create_task(watch(async_client, generation.pk))
    await asyncio.sleep(0.05)
    gate.set()
    raw = await watching
    await task
    return raw


@respx.mock
async def test_the_bytes_sent_per_token_do_not_grow_with_the_answer(async_client, user, queued):
    tokens = markdown_tokens(2000)
    text = "".join(tokens)

    raw = await stream(async_client, user, queued, tokens)

    frames = [frame for part in raw if (frame := parse(part))]
    blocks, tail = shown(frames)
    assert blocks == render_markdown(text) and tail == ""  # the final render, nothing left over
    assert sum(event == "block" for event, _, _ in frames) > 100  # each block on its own
    # Each character is sent once as text and once inside its block's HTML, never the whole
    # answer again: a frame's few header bytes per token, plus the text and its HTML...
    sent = sum(len(part) for part in raw)
    escaped, html = len(text.encode()) * 1.3, len(blocks.encode())
    assert sent < 40 * len(tokens) + 1.5 * (escaped + html)
    # ...and no frame comes near the whole answer (a frame holds one batch: a busy moment
    # may gather a few blocks).
    assert max(map(len, raw)) < (escaped + html) / 20


@respx.mock
async def test_twice_the_tokens_cost_twice_the_bytes(
    async_client, user, workspace, product_template, product_inputs, queued
):
    short = await stream(async_client, user, queued, markdown_tokens(1000))
    again = await sync_to_async(
        lambda: start_generation(
            workspace=workspace,
            version=product_template.current_version(),
            inputs=product_inputs,
            user=user,
        )
    )()
    long = await stream(async_client, user, again, markdown_tokens(2000))

    # The frames' data (escaped text, blocks' HTML), not their envelopes: how many tokens
    # one frame carries depends on how busy the machine is (a busy watcher batches), and
    # each envelope's bytes with it (CI once measured 1.16 on whole frames).
    def payload(raw: list[bytes]) -> int:
        return sum(len(frame[1]) for part in raw if (frame := parse(part)))

    per_token_short = payload(short) / 1000
    per_token_long = payload(long) / 2000
    assert per_token_long < 1.15 * per_token_short  # proportional: no quadratic term


@respx.mock
async def test_resuming_with_last_event_id_shows_what_watching_throughout_shows(
    async_client, user, queued
):
    raw = await stream(async_client, user, queued, markdown_tokens(400))
    frames = [frame for part in raw if (frame := parse(part))]
    whole = shown(frames)
    ids = [ident for _, _, ident in frames if ident is not None]
    assert len(ids) > 50

    for cut in ids[1 :: len(ids) // 7]:
        before = frames[: next(i for i, f in enumerate(frames) if f[2] == cut) + 1]
        rest = [f for p in await watch(async_client, queued.pk, cut) if (f := parse(p))]
        assert rest[-1][0] == "done"
        assert shown(rest, *shown(before)) == whole, cut
    GENERATIONS.discard_log(queued.pk)


@respx.mock
async def test_a_page_loaded_mid_stream_then_following_shows_the_same(async_client, user, queued):
    """The live panel's snapshot (blocks, open text) and the frames after its position."""
    tokens = markdown_tokens(300)
    gate = asyncio.Event()
    respx.post(CHAT_URL).mock(return_value=streaming_response(upstream(tokens, gate)))
    await async_client.aforce_login(user)
    task = runner.launch(queued.pk)
    await runner.asked(queued.pk)
    gate.set()
    while len(runner.get_log(queued.pk).items) < 150:
        await asyncio.sleep(0)
    so_far = runner.live_snapshot(queued.pk)
    assert so_far.blocks and so_far.seq >= 150
    await task

    rest = [f for p in await watch(async_client, queued.pk, so_far.seq) if (f := parse(p))]
    GENERATIONS.discard_log(queued.pk)
    assert shown(rest, so_far.blocks, so_far.tail) == (render_markdown("".join(tokens)), "")


@respx.mock
async def test_hostile_markdown_is_never_active_in_the_blocks_or_the_open_text(
    async_client, user, queued
):
    tokens = [
        "# Hi <script>alert(1)</script>\n\n",
        "<img src=x onerror=alert(1)>",
        " and <a href='javascript:alert(1)'>raw</a>\n\n",
        "[click](javascript:alert(1)) ",
        "[ok](https://example.com)\n\n",
        '<div hx-get="/x" hx-trigger="load">htmx</div>\n\n',
        "> <iframe src=//evil>",
    ]
    raw = await stream(async_client, user, queued, tokens)
    frames = [frame for part in raw if (frame := parse(part))]
    blocks, tail = shown(frames)
    GENERATIONS.discard_log(queued.pk)
    sent = "".join(data for event, data, _ in frames if event in {"delta", "block"})
    for tag in ("<script", "<img", "<a href='javascript", "<iframe", "<div hx-get"):
        assert tag not in sent
    assert not re.search(r"<[^>]+ (on\w+|hx-[\w-]+|href=\"javascript)", blocks)
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in blocks
    assert blocks == render_markdown("".join(tokens))
