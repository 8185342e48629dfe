"""The final panel a stream sends shows each watcher only the controls their role may use."""

import asyncio

import pytest
import respx
from asgiref.sync import sync_to_async
from django.urls import reverse

from drafts import generation as runner
from drafts.actions import start_generation
from drafts.events import sse_event
from drafts.watching import bare_done, done_frame, final_for_watcher
from studio.workspaces.actions import add_member
from tests.conftest import CHAT_URL, USAGE, chunk, streaming_response, studio_trips

# Controls only editors may use; a reviewer's page load shows none of them.
EDITING = ["/follow-up/", 'value="regenerate"', "/edit/", "/share/", "/sections/move/",
           "/sections/generate/", 'id="rewrite-form"']  # fmt: skip


async def frames_of(*frames: bytes):
    for frame in frames:
        yield frame


async def collect(stream) -> list[bytes]:
    return [frame async for frame in stream]


def test_done_frame_reads_the_id_and_the_data_of_the_final_event_only():
    assert done_frame(sse_event("done", "<p>a</p>\n<p>b</p>", 7)) == (7, "<p>a</p>\n<p>b</p>")
    assert done_frame(sse_event("done", "")) == (None, "")
    assert done_frame(sse_event("delta", "event: done", 3)) is None  # text that looks like one


async def test_the_final_panel_is_replaced_once_and_empty_ones_stay_empty():
    renders = []

    async def render() -> str:
        renders.append(1)
        return "<section>mine</section>"

    delta = sse_event("delta", "hi", 1)
    shared = await collect(final_for_watcher(frames_of(delta, sse_event("done", "x", 1)), render))
    empty = await collect(final_for_watcher(frames_of(sse_event("done", "", 4)), render))
    bare = await collect(bare_done(frames_of(delta, sse_event("done", "x", 1))))

    assert shared == [delta, b"id: 1\nevent: done\ndata: <section>mine</section>\n\n"]
    assert empty == [b"id: 4\nevent: done\ndata: \n\n"] and renders == [1]
    assert bare == [delta, b"event: done\ndata: \n\n"]


@pytest.fixture
def sectioned(workspace, product_template, product_inputs, user, other_user):
    """A generation about to stream a draft with sections; other_user reviews the workspace."""
    add_member(workspace=workspace, user=other_user, role="reviewer")
    version = product_template.current_version()
    return start_generation(workspace=workspace, version=version, inputs=product_inputs, user=user)


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_a_reviewer_watching_a_stream_finish_gets_no_editing_controls(
    async_client, client, user, other_user, sectioned
):
    release = asyncio.Event()

    async def body():
        yield chunk({"role": "assistant", "content": ""})
        yield chunk({"content": "# Aurora\n\nBright light.\n\n"})
        await release.wait()  # both watchers are following before the end
        yield chunk({"content": "## Specs\n\nUSB-C."}, finish="stop", usage=USAGE)

    respx.post(CHAT_URL).mock(return_value=streaming_response(body()))
    task = runner.launch(sectioned.pk)
    url = reverse("drafts:events", args=[sectioned.pk])
    streams = {}
    for name, watcher in [("editor", user), ("reviewer", other_user)]:
        await async_client.aforce_login(watcher)
        streams[name] = (await async_client.get(url)).streaming_content
    release.set()
    frames = {name: await collect(stream) for name, stream in streams.items()}
    await task

    finals = {name: done_frame(got[-1]) for name, got in frames.items()}
    reviewer_id, reviewer_final = finals["reviewer"]
    editor_id, editor_final = finals["editor"]
    assert reviewer_id == editor_id and reviewer_id is not None  # a reconnect resumes alike
    assert "Specs" in reviewer_final and 'id="draft-panel"' in reviewer_final
    for control in EDITING:
        assert control in editor_final, control
        assert control not in reviewer_final, control
    # What the reviewer now sees is what a page load shows them.
    await sync_to_async(client.force_login)(other_user)
    page = await sync_to_async(client.get)(reverse("drafts:detail", args=[sectioned.draft_id]))
    page_html = page.content.decode()
    assert all(control not in page_html for control in EDITING)
    assert "/status/" in reviewer_final and "/status/" in page_html  # reviewers may set status


@pytest.mark.django_db(transaction=True)
async def test_watching_is_authorised_in_one_trip_to_the_request_s_thread(
    async_client, user, sectioned, thread_trips
):
    """The generation, the orphan check, the role and the connection's release: one trip,
    not one per query (at a hundred open streams, each trip waits its turn)."""
    await async_client.aforce_login(user)
    thread_trips.clear()

    response = await async_client.get(reverse("drafts:events", args=[sectioned.pk]))

    assert studio_trips(thread_trips) == ["drafts.views._watch"]
    frames = await collect(response.streaming_content)  # nobody runs it: shown being recovered
    assert done_frame(frames[-1])[1].count("data-recovering ") == 1
