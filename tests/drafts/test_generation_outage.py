"""A database blip never leaves the runner unable to save (issue 23).

The runners' database thread keeps one connection for the worker's life; when the database
drops it, the next unit of work throws it away and runs again on a new one
(``studio.background.healing``)."""

import asyncio
import logging

import pytest
import respx
from asgiref.sync import sync_to_async
from django.db import DatabaseError

from drafts import generation as runner
from drafts.models import DraftVersion, Generation
from studio import background
from studio.audit.models import AuditLog
from studio.streams import Done
from tests.conftest import CHAT_URL, USAGE, chunk, sse_body, sse_response, streaming_response
from tests.database_blips import adrop_background_connection
from tests.generating import start_generation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start(workspace, product_template, product_inputs, user):
    version = product_template.current_version()

    def start():
        return start_generation(
            workspace=workspace, version=version, inputs=product_inputs, user=user
        )

    return sync_to_async(start)


async def _saved(generation: Generation, text: str, caplog) -> None:
    """Everything a generation's end writes was written, and watchers were told so."""
    saved = await Generation.objects.aget(pk=generation.pk)
    assert (saved.status, saved.text) == (Generation.Status.DONE, text)
    version = await DraftVersion.objects.aget(generation=generation)
    assert (version.number, version.text) == (1, text)
    assert await AuditLog.objects.filter(generation_id=generation.pk).acount() == 1
    ids = {"generation": generation.pk, "draft": generation.draft_id}
    assert runner.get_log(generation.pk).done.status == Done("done", ids).status
    assert runner.get_log(generation.pk).done.ids == ids
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@respx.mock
async def test_a_generation_after_the_database_dropped_the_idle_connection_is_saved(start, caplog):
    """The outage drill: connections terminated while the worker is idle, then Generate."""
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Before"])))
    first = await start()
    await runner.launch(first.pk)
    assert (await Generation.objects.aget(pk=first.pk)).status == Generation.Status.DONE

    await adrop_background_connection()
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["After ", "the blip"])))
    second = await start()
    await runner.launch(second.pk)

    await _saved(second, "After the blip", caplog)


@respx.mock
async def test_a_blip_at_the_end_of_a_generation_loses_nothing(start, caplog):
    """The connection is dropped after the last text, before the runner saves the end."""

    async def stream():
        yield chunk({"role": "assistant", "content": ""})
        yield chunk({"content": "All of "})
        yield chunk({"content": "the text"})
        await adrop_background_connection()  # after mark-running and any partial save
        yield chunk({}, finish="stop", usage=USAGE)
        yield b"data: [DONE]\n\n"

    respx.post(CHAT_URL).mock(return_value=streaming_response(stream()))
    generation = await start()
    await runner.launch(generation.pk)

    await _saved(generation, "All of the text", caplog)


@respx.mock
async def test_a_failed_mark_running_is_logged_and_the_end_is_saved_all_the_same(
    start, caplog, monkeypatch
):
    """It was swallowed silently (``gather(return_exceptions=True)``): the row stayed queued
    if the end could not be saved either, and nobody knew why."""

    def fails(*, generation_id: int) -> bool:
        raise DatabaseError("could not mark it")

    monkeypatch.setattr(runner, "mark_running", fails)
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Kept"])))
    generation = await start()
    await runner.launch(generation.pk)

    saved = await Generation.objects.aget(pk=generation.pk)
    assert (saved.status, saved.text) == (Generation.Status.DONE, "Kept")
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == f"Could not mark generation {generation.pk} running"
    assert isinstance(record.exc_info[1], DatabaseError)


async def test_the_text_so_far_is_saved_after_the_database_dropped_the_connection(start):
    """The worker's writer of partial texts ("Could not save the text so far" after a blip)."""
    generation = await start()
    await adrop_background_connection()

    await asyncio.wrap_future(
        background.DATABASE_THREAD.submit(runner._save_texts, {generation.pk: ("So far", "")})
    )

    assert (await Generation.objects.aget(pk=generation.pk)).text == "So far"
