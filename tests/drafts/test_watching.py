"""The end of a stream, as each watcher gets it: the SSE view renders the final panel for the
request that watches, in that viewer's language, with their role's controls and their CSRF
token. The runner's log carries only a status and ids."""

import asyncio

import pytest
import respx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.urls import reverse

from drafts import generation as runner
from studio.workspaces.actions import add_member
from tests.conftest import CHAT_URL, USAGE, chunk, streaming_response, studio_trips
from tests.generating import start_generation

# Controls only editors may use; a reviewer's page load shows none of them.
EDITING = ["/follow-up/", 'value="regenerate"', "/edit/", "/share/", "/sections/move/",
           "/sections/generate/", 'id="rewrite-form"']  # fmt: skip
CSRF = 'name="csrfmiddlewaretoken"'
FIRST_READ = "studio.middleware.FirstReadMiddleware"


async def collect(stream) -> list[bytes]:
    return [frame async for frame in stream]


def done_of(frames: list[bytes]) -> tuple[int | None, str]:
    """The final ``done`` frame's id and data (it must be the last frame, and the only one)."""
    finals = [frame for frame in frames if b"\nevent: done\n" in b"\n" + frame]
    assert finals == frames[-1:], "one done frame, last"
    lines = frames[-1].decode().rstrip("\n").split("\n")
    ids = [int(line[4:]) for line in lines if line.startswith("id: ")]
    data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
    return (ids[0] if ids else None), data


@pytest.fixture
def sectioned(workspace, product_template, product_inputs, user, other_user):
    """A generation about to stream a draft with sections; other_user reviews the workspace."""
    add_member(workspace=workspace, user=other_user, role="reviewer")
    version = product_template.current_version()
    return start_generation(workspace=workspace, version=version, inputs=product_inputs, user=user)


async def _watch_to_the_end(async_client, generation, watchers) -> dict[str, list[bytes]]:
    """Each (name, user, headers) follows the generation from its start; then it ends."""
    release = asyncio.Event()

    async def body():
        yield chunk({"role": "assistant", "content": ""})
        yield chunk({"content": "# Aurora\n\nBright light.\n\n"})
        await release.wait()  # every watcher is following before the end
        yield chunk({"content": "## Specs\n\nUSB-C."}, finish="stop", usage=USAGE)

    respx.post(CHAT_URL).mock(return_value=streaming_response(body()))
    task = runner.launch(generation.pk)
    url = reverse("drafts:events", args=[generation.pk])
    streams = {}
    for name, watcher, headers in watchers:
        await async_client.aforce_login(watcher)
        streams[name] = (await async_client.get(url, headers=headers)).streaming_content
    release.set()
    frames = {name: await collect(stream) for name, stream in streams.items()}
    await task
    return frames


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_a_reviewer_watching_a_stream_finish_gets_no_editing_controls(
    async_client, client, user, other_user, sectioned
):
    frames = await _watch_to_the_end(
        async_client, sectioned, [("editor", user, {}), ("reviewer", other_user, {})]
    )

    reviewer_id, reviewer_final = done_of(frames["reviewer"])
    editor_id, editor_final = done_of(frames["editor"])
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
@respx.mock
async def test_each_watcher_gets_the_final_panel_in_their_own_language_with_a_csrf_token(
    async_client, user, other_user, sectioned
):
    """The editor reads English, the reviewer Chinese (one by Accept-Language, the other by
    the language cookie): the end of the same generation reaches each in their language."""
    chinese = {"Accept-Language": "zh-hans"}
    frames = await _watch_to_the_end(
        async_client, sectioned, [("editor", user, {}), ("reviewer", other_user, chinese)]
    )
    # The editor again, now asking in Chinese by cookie: a late watcher of the ended log.
    async_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    await async_client.aforce_login(user)
    late = await async_client.get(reverse("drafts:events", args=[sectioned.pk]))
    frames["late"] = await collect(late.streaming_content)

    finals = {name: done_of(got)[1] for name, got in frames.items()}
    assert ">Status</label>" in finals["editor"] and ">状态</label>" not in finals["editor"]
    assert ">状态</label>" in finals["reviewer"] and ">Status</label>" not in finals["reviewer"]
    assert ">状态</label>" in finals["late"] and "/follow-up/" in finals["late"]
    for final in finals.values():  # every form posts with this viewer's token
        assert final.count(CSRF) == final.count('method="post"') > 0
    assert runner.get_log(sectioned.pk).done.status == "done"  # ids and a status, no HTML


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("hook", [True, False], ids=["in-the-view-hooks-trip", "without-the-hook"])
async def test_watching_is_authorised_in_one_trip_to_the_request_s_thread(
    async_client, user, sectioned, thread_trips, settings, hook
):
    """The generation, the orphan check and the connection's release: one trip, not one per
    query (at a hundred open streams, each trip waits its turn): the one the view hooks make
    anyway (``studio.middleware.FirstRead``), else one of the view's own; the end, one more."""
    if not hook:
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != FIRST_READ]
    await async_client.aforce_login(user)
    thread_trips.clear()

    response = await async_client.get(reverse("drafts:events", args=[sectioned.pk]))

    if hook:
        assert studio_trips(thread_trips) == []
        assert f"{FIRST_READ}.process_view" in thread_trips  # the test client's hooks, apart
    else:
        assert studio_trips(thread_trips) == ["drafts.views.generations._watch"]
    frames = await collect(response.streaming_content)  # nobody runs it: shown being recovered
    assert done_of(frames)[1].count("data-recovering ") == 1


async def _trips_to_response_start(path: str, cookie: str, thread_trips: list[str]) -> list[str]:
    """GET ``path`` through studio.asgi (as uvicorn calls it): the trips made before the
    response's start was sent."""
    from studio import asgi

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"cookie", f"sessionid={cookie}".encode())],
        "client": ("127.0.0.1", 50000),
    }
    before: list[list[str]] = []
    requests = [{"type": "http.request", "body": b""}]

    async def receive():
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays while the stream goes on to its end

    async def send(message):
        if message["type"] == "http.response.start":
            before.append(list(thread_trips))
            assert message["status"] == 200

    async with asyncio.timeout(10):
        await asgi.application(scope, receive, send)
    return before[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("hook", [True, False], ids=["in-the-view-hooks-trip", "without-the-hook"])
async def test_through_the_asgi_application_a_watcher_s_response_starts_after_two_trips(
    async_client, user, sectioned, thread_trips, monkeypatch, hook
):
    """The middleware chain's trip and the view hooks' trip, the read inside it: two trips to
    the request's thread before the response starts (decision 60), three when the hook
    leaves the read to the view."""
    from studio.middleware import FirstRead

    if not hook:  # studio.asgi's chain is loaded once: its hook stays, and reads nothing
        monkeypatch.setattr(FirstRead, "run_now", lambda self, request, kwargs: None)
    await async_client.aforce_login(user)
    thread_trips.clear()

    path = reverse("drafts:events", args=[sectioned.pk])
    trips = await _trips_to_response_start(
        path, async_client.cookies["sessionid"].value, thread_trips
    )

    assert len(trips) == (2 if hook else 3), trips
    assert ("drafts.views.generations._watch" in trips) is not hook
