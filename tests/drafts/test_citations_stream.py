"""Citations while a grounded generation streams (the runner's BlockSplitter, drafts/
generation.py): a watcher gets each finished block with its markers already linked to the
passages the prompt gave (or flagged), the same HTML as the final panel; the mocked answer
(respx) cites [1] and a number no passage has."""

from __future__ import annotations

import asyncio

import pytest
import respx
from asgiref.sync import sync_to_async

from drafts import generation as runner
from drafts.generation import GENERATIONS
from tests.conftest import CHAT_URL, streaming_response
from tests.drafts.grounding_helpers import LUMEN, add_text, grounded_template
from tests.drafts.test_markdown_stream_views import parse, shown, upstream, watch
from tests.generating import start_generation

pytestmark = pytest.mark.django_db(transaction=True)

TOKENS = ["Battery", " life is", " 40 hours [1]", ".\n\n", "It also flies [4]", ".\n\n", "End."]


@pytest.fixture
def grounded(workspace, user):
    add_text(workspace, user, LUMEN, title="Lumen lamp product sheet", tags=["lumen"])
    template = grounded_template(workspace)
    return start_generation(
        workspace=workspace,
        version=template.current_version(),
        inputs={"topic": "battery hours"},
        user=user,
    )


@respx.mock
async def test_streamed_blocks_link_the_markers(async_client, user, grounded):
    assert grounded.passages_given >= 1
    gate = asyncio.Event()
    respx.post(CHAT_URL).mock(return_value=streaming_response(upstream(TOKENS, gate)))
    await async_client.aforce_login(user)
    task = runner.launch(grounded.pk)
    await runner.asked(grounded.pk)
    watching = asyncio.create_task(watch(async_client, grounded.pk))
    await asyncio.sleep(0.05)
    gate.set()
    frames = [frame for part in await watching if (frame := parse(part))]
    await task
    GENERATIONS.discard_log(grounded.pk)

    blocks, _tail = shown(frames)
    assert f'popovertarget="cite-{grounded.pk}-1"' in blocks
    assert 'data-citation-unknown="4"' in blocks
    # The request asked the model with the numbered sources.
    sent = respx.calls.last.request.content.decode()
    assert "<sources>" in sent and "[1] Lumen lamp product sheet (v1)" in sent

    # The final panel links the same markers to the popovers it renders.
    response = await async_client.get(grounded.draft.get_absolute_url())
    html = response.content.decode()
    assert f'id="cite-{grounded.pk}-1"' in html
    assert f'popovertarget="cite-{grounded.pk}-1"' in html


@respx.mock
async def test_the_live_panel_renders_the_popovers(async_client, user, grounded):
    gate = asyncio.Event()
    respx.post(CHAT_URL).mock(return_value=streaming_response(upstream(TOKENS, gate)))
    await async_client.aforce_login(user)
    task = runner.launch(grounded.pk)
    await runner.asked(grounded.pk)
    url = await sync_to_async(grounded.draft.get_absolute_url)()
    html = (await async_client.get(url)).content.decode()
    gate.set()
    await task
    GENERATIONS.discard_log(grounded.pk)
    assert 'id="stream-text"' in html  # live
    assert f'id="cite-{grounded.pk}-1"' in html and "data-sources" in html
