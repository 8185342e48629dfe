"""The board's one stream: every deliverable's generation multiplexed over one SSE response,
resumed after a cut by its cursor; and each deliverable's Stop, the campaign's Stop and
Regenerate, with their roles."""

from __future__ import annotations

import asyncio
import html

import pytest
import respx
from asgiref.sync import sync_to_async

from drafts import generation as runner
from drafts.models import Generation
from studio.audit.origin import Origin
from studio.campaigns.actions import generate_campaign
from studio.campaigns.models import Deliverable
from studio.campaigns.streaming import format_cursor, multiplex, parse_cursor
from studio.streams import Done, sse_event
from studio.workspaces.actions import add_member
from tests.conftest import CHAT_URL, USAGE, chunk, streaming_response, studio_trips

HX = {"HX-Request": "true"}


def parse(frame: bytes) -> tuple[str | None, str, str]:
    """A frame's id, event and data."""
    ident, event, data = None, "", []
    for line in frame.decode().rstrip("\n").split("\n"):
        name, _, value = line.partition(": ")
        if name == "id":
            ident = value
        elif name == "event":
            event = value
        elif name == "data":
            data.append(value)
    return ident, event, "\n".join(data)


def texts(frames: list[bytes]) -> dict[str, str]:
    """The text each deliverable's deltas carried, by deliverable id."""
    found: dict[str, str] = {}
    for frame in frames:
        _, event, data = parse(frame)
        if event.startswith("delta-"):
            key = event.removeprefix("delta-")
            found[key] = found.get(key, "") + html.unescape(data)
    return found


def events(frames: list[bytes]) -> list[str]:
    return [parse(frame)[1] for frame in frames if frame.strip() and not frame.startswith(b":")]


# The multiplexer alone ----------------------------------------------------------------------


def test_a_cursor_round_trips_and_a_hostile_one_replays_from_the_start():
    assert parse_cursor("41:118.42:x") == {41: 118, 42: None}
    assert format_cursor({42: None, 41: 118}) == "41:118.42:x"
    for hostile in ["", "41", "41:", "41:-1", "a:1", "1:1.", "9" * 20 + ":1", "1:" + "9" * 20]:
        assert parse_cursor(hostile) == {}
    assert parse_cursor(".".join(f"{n}:1" for n in range(201))) == {}
    assert parse_cursor(None) == {}


async def _source(frames):
    for frame in frames:
        await asyncio.sleep(0)
        yield frame


async def test_frames_of_several_sources_are_named_after_their_deliverable():
    sources = {
        7: (
            70,
            _source(
                [
                    sse_event("delta", "a&lt;", 1),
                    sse_event("block", "1\n<p>a</p>", 2),
                    Done("done", {}),
                ]
            ),
        ),  # fmt: skip
        8: (
            80,
            _source(
                [sse_event("reasoning", "hm", 1), sse_event("delta", "b", 2), Done("cancelled", {})]
            ),
        ),  # fmt: skip
    }

    async def render(deliverable, done):
        return f"<li>{deliverable} {done.status}</li>"

    frames = [f async for f in multiplex(sources, {}, render, heartbeat=15)]
    got = [parse(frame) for frame in frames]
    assert {event for _, event, _ in got} == {"delta-70", "done-70", "delta-80", "done-80", "end"}
    by_event = {event: (ident, data) for ident, event, data in got}
    assert by_event["delta-70"][1] == "a&lt;" and by_event["delta-80"][1] == "b"
    assert by_event["done-70"][1] == "<li>70 done</li>"
    assert by_event["done-80"][1] == "<li>80 cancelled</li>"
    assert got[-1][1] == "end" and parse_cursor(got[-1][0]) == {7: None, 8: None}
    # Every id is the whole board's cursor: each generation where its frames got to.
    assert parse_cursor(by_event["delta-80"][0])[8] == 2


async def test_a_place_in_line_is_named_after_its_deliverable():
    sources = {
        7: (70, _source([sse_event("queued", "1", 1), sse_event("queued", "0", 2), Done("done")])),
    }

    async def render(deliverable, done):
        return ""

    got = [parse(f) async for f in multiplex(sources, {}, render, heartbeat=15)]

    assert [(event, data) for _, event, data in got][:2] == [("queued-70", "1"), ("queued-70", "0")]
    assert parse_cursor(got[1][0]) == {7: 2}


async def _failing(frames):
    for frame in frames:
        await asyncio.sleep(0)
        yield frame
    raise ConnectionError("the relay broke")


async def test_a_failing_source_ends_its_own_panel_while_the_others_stream_on():
    go_on = asyncio.Event()

    async def slow():
        yield sse_event("delta", "a", 1)
        await go_on.wait()
        yield sse_event("delta", "b", 2)
        yield Done("done", {})

    sources = {
        7: (70, slow()),
        8: (80, _failing([sse_event("delta", "x", 1)])),  # raises after its first delta
        9: (90, _source([sse_event("delta", "y", 1)])),  # stops without its Done
    }
    seen: list[tuple[int, str | None]] = []

    async def render(deliverable, done):
        seen.append((deliverable, done and done.status))
        return f"<li>{deliverable}</li>"

    stream = aiter(multiplex(sources, {}, render, heartbeat=15))
    got = []
    while {"done-80", "done-90"} - {parse(f)[1] for f in got}:
        got.append(await anext(stream))
    # Both broken ones got their final panel (rendered from the database: no Done), marked
    # ended in the cursor, before the healthy one finished.
    assert sorted(seen) == [(80, None), (90, None)]
    assert parse_cursor(parse(got[-1])[0])[8] is None and parse_cursor(parse(got[-1])[0])[9] is None
    go_on.set()
    rest = [parse(f)[1] async for f in stream]
    assert rest == ["delta-70", "done-70", "end"]
    assert seen[-1] == (70, "done")


# The view, with the real runner ------------------------------------------------------------


@pytest.fixture
def stored(monkeypatch, campaign, headlines, email, user):
    """Generate all, stored but not launched: the test launches each generation itself."""
    launch = runner.launch
    monkeypatch.setattr(runner, "launch", lambda generation: None)

    def generate():
        outcomes = generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
        return [outcome.generation for outcome in outcomes]

    return launch, generate


def _bodies(release: asyncio.Event):
    """Each upstream answer: a first half, then (once released) the rest."""
    answers = iter(["- Warm light\n- <All> night\n", "Subject: Lumen & you\n\nHello, reader."])

    def answer(request):
        text = next(answers)

        async def body():
            yield chunk({"role": "assistant", "content": ""})
            yield chunk({"content": text[:9]})
            await release.wait()
            yield chunk({"content": text[9:]}, finish="stop", usage=USAGE)

        return streaming_response(body())

    return answer


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_one_response_carries_every_deliverable_and_resumes_after_a_cut(
    async_client, stored, campaign, headlines, email, user
):
    launch, generate = stored
    release = asyncio.Event()
    respx.post(CHAT_URL).mock(side_effect=_bodies(release))
    generations = await sync_to_async(generate)()
    tasks = [launch(generation.pk) for generation in generations]
    await async_client.aforce_login(user)
    url = f"/campaigns/{campaign.pk}/events/"

    response = await async_client.get(url)
    assert response["Content-Type"] == "text/event-stream"
    first: list[bytes] = []
    stream = aiter(response.streaming_content)
    while len(texts(first)) < 2:  # a delta of each deliverable, on the one response
        first.append(await anext(stream))
    await stream.aclose()  # the connection is cut mid-stream
    cursor = [parse(f)[0] for f in first if parse(f)[0]][-1]
    assert set(parse_cursor(cursor)) == {g.pk for g in generations}

    release.set()
    await asyncio.gather(*tasks)  # both end while nobody watches
    again = await async_client.get(url, headers={"Last-Event-ID": cursor})
    rest = [frame async for frame in again.streaming_content]

    for deliverable in (headlines, email):
        draft = (await Deliverable.objects.aget(pk=deliverable.pk)).draft_id
        generation = await Generation.objects.aget(draft_id=draft)
        key = str(deliverable.pk)
        # Exactly what the model wrote: nothing lost, nothing repeated across the cut.
        assert texts(first).get(key, "") + texts(rest).get(key, "") == generation.text
        assert generation.status == "done"
    # Each deliverable's end after its last text (the two interleave as they come), then end.
    names = events(rest)
    assert names[-1] == "end" and names.count("end") == 1
    for deliverable in (headlines, email):
        done = names.index(f"done-{deliverable.pk}")
        assert f"delta-{deliverable.pk}" not in names[done:]
    done = {parse(f)[1]: parse(f)[2] for f in rest}
    assert "data-item" in done[f"done-{headlines.pk}"]  # its final panel: items and counters
    assert parse_cursor(parse(rest[-1])[0]) == {g.pk: None for g in generations}

    # Once a generation's end was sent, a reconnect does not send it again.
    last = await async_client.get(url, headers={"Last-Event-ID": parse(rest[-1])[0]})
    assert events([frame async for frame in last.streaming_content]) == ["end"]


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_a_deliverable_beyond_the_workers_limit_shows_its_place_then_streams(
    async_client, stored, campaign, headlines, email, user, settings
):
    settings.GENERATION_MAX_RUNNING = 1
    launch, generate = stored
    release = asyncio.Event()
    respx.post(CHAT_URL).mock(side_effect=_bodies(release))
    generations = await sync_to_async(generate)()
    deliverables = {}
    for deliverable in (headlines, email):
        draft = (await Deliverable.objects.aget(pk=deliverable.pk)).draft_id
        deliverables[(await Generation.objects.aget(draft_id=draft)).pk] = deliverable.pk
    tasks = [launch(generation.pk) for generation in generations]  # the second waits
    await async_client.aforce_login(user)

    response = await async_client.get(f"/campaigns/{campaign.pk}/events/")
    stream = aiter(response.streaming_content)
    waiting = deliverables[generations[1].pk]
    first = await _frames_until(stream, f"queued-{waiting}")
    assert parse(first[-1])[2] == "1"
    assert f"delta-{waiting}" not in events(first)

    release.set()
    rest = [frame async for frame in stream]
    await asyncio.gather(*tasks)

    named = [(event, data) for _, event, data in map(parse, rest)]
    assert named.index((f"queued-{waiting}", "0")) < events(rest).index(f"delta-{waiting}")
    assert events(rest)[-1] == "end"
    generation = await Generation.objects.aget(pk=generations[1].pk)
    assert generation.status == "done" and texts(first + rest)[str(waiting)] == generation.text


@pytest.mark.django_db(transaction=True)
async def test_a_board_with_nothing_generating_streams_only_its_end(
    async_client, user, campaign, headlines, thread_trips
):
    await async_client.aforce_login(user)
    thread_trips.clear()
    response = await async_client.get(f"/campaigns/{campaign.pk}/events/?after=bogus")
    # The board is read in the view hooks' trip (studio.middleware.FirstRead), not its own.
    assert "studio.middleware.FirstReadMiddleware.process_view" in thread_trips
    assert studio_trips(thread_trips) == []
    assert events([frame async for frame in response.streaming_content]) == ["end"]


@pytest.mark.django_db(transaction=True)
async def test_a_generation_that_ends_before_the_board_connects_still_gets_its_end(
    async_client, stored, campaign, headlines, email, user
):
    _, generate = stored
    generations = await sync_to_async(generate)()
    await async_client.aforce_login(user)
    page = await async_client.get(f"/campaigns/{campaign.pk}/")  # both shown generating
    after = ".".join(f"{g.pk}:0" for g in sorted(generations, key=lambda g: g.pk))
    assert f"/events/?after={after}" in page.content.decode()
    await Generation.objects.aupdate(status="done", text="- Done early")
    response = await async_client.get(f"/campaigns/{campaign.pk}/events/?after={after}")
    got = events([frame async for frame in response.streaming_content])
    assert sorted(got) == sorted([f"done-{headlines.pk}", f"done-{email.pk}", "end"])


# Stop, Stop all, Regenerate ----------------------------------------------------------------


def _endless(started: asyncio.Event):
    def answer(request):
        async def body():
            yield chunk({"role": "assistant", "content": ""})
            yield chunk({"content": "So far"})
            started.set()
            await asyncio.Event().wait()  # until stopped

        return streaming_response(body())

    return answer


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_stop_ends_one_deliverable_and_stop_all_the_rest(
    async_client, stored, campaign, headlines, email, user
):
    launch, generate = stored
    started = asyncio.Event()
    respx.post(CHAT_URL).mock(side_effect=_endless(started))
    generations = await sync_to_async(generate)()
    tasks = {g.pk: launch(g.pk) for g in generations}
    await started.wait()
    await async_client.aforce_login(user)
    one = await Deliverable.objects.aget(pk=headlines.pk)

    response = await async_client.post(f"/deliverables/{one.pk}/stop/", headers=HX)
    assert response.status_code == 204
    mine = next(g for g in generations if g.draft_id == one.draft_id)
    await tasks.pop(mine.pk)
    assert (await Generation.objects.aget(pk=mine.pk)).status == "cancelled"
    assert [g.status async for g in Generation.objects.exclude(pk=mine.pk)] == ["running"]

    response = await async_client.post(f"/campaigns/{campaign.pk}/stop/")
    assert response.status_code == 302
    await asyncio.gather(*tasks.values())
    assert {g.status async for g in Generation.objects.all()} == {"cancelled"}
    kept = await Generation.objects.aget(pk=mine.pk)
    assert kept.text == "So far"  # the text so far is kept


@pytest.fixture
def no_launch(monkeypatch):
    monkeypatch.setattr(runner, "launch", lambda generation: None)


@pytest.mark.django_db
def test_regenerate_asks_again_into_the_same_draft(client, user, campaign, headlines, no_launch):
    client.force_login(user)
    client.post(f"/campaigns/{campaign.pk}/generate/")
    draft = Deliverable.objects.get(pk=headlines.pk).draft_id
    assert client.post(f"/deliverables/{headlines.pk}/regenerate/").status_code == 302
    assert Generation.objects.filter(draft_id=draft).count() == 1  # still running: left alone
    Generation.objects.update(status="done")
    response = client.post(f"/deliverables/{headlines.pk}/regenerate/")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    assert Generation.objects.filter(draft_id=draft).count() == 2
    assert Deliverable.objects.get(pk=headlines.pk).draft_id == draft


@pytest.mark.django_db
def test_a_reviewer_cannot_stop_or_regenerate(
    client, workspace, other_user, user, campaign, headlines, no_launch
):
    client.force_login(user)
    client.post(f"/campaigns/{campaign.pk}/generate/")
    add_member(workspace=workspace, user=other_user, role="reviewer")
    client.force_login(other_user)
    for url in (
        f"/deliverables/{headlines.pk}/stop/",
        f"/deliverables/{headlines.pk}/regenerate/",
        f"/campaigns/{campaign.pk}/stop/",
    ):
        for headers in ({}, HX):
            assert client.post(url, headers=headers).status_code == 403
    assert list(Generation.objects.values_list("status", flat=True)) == ["queued"]
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "/events/" in page  # a reviewer watches the board stream too
    assert "/stop/" not in page and "/regenerate/" not in page


@pytest.mark.django_db
def test_a_stranger_gets_404(client, other_user, campaign, headlines):
    client.force_login(other_user)
    assert client.get(f"/campaigns/{campaign.pk}/events/").status_code == 404
    for url in (
        f"/deliverables/{headlines.pk}/stop/",
        f"/deliverables/{headlines.pk}/regenerate/",
        f"/campaigns/{campaign.pk}/stop/",
    ):
        assert client.post(url).status_code == 404


def _one_fails(release: asyncio.Event, cut: asyncio.Event):
    """The headlines stream until released; the email's upstream breaks off after its first
    words once ``cut`` (a stream cut: the generation fails, its text so far kept)."""

    def answer(request):
        failing = "Pre-order now" in request.content.decode()

        async def body():
            yield chunk({"role": "assistant", "content": ""})
            yield chunk({"content": "Subject: Lumen" if failing else "- Warm light\n"})
            if failing:
                await cut.wait()
                return  # no finish, no [DONE]: the upstream broke off
            await release.wait()
            yield chunk({"content": "- All night\n"}, finish="stop", usage=USAGE)

        return streaming_response(body())

    return answer


async def _frames_until(stream, event: str) -> list[bytes]:
    got: list[bytes] = []
    while event not in events(got):
        got.append(await anext(stream))
    return got


@pytest.mark.django_db(transaction=True)
@respx.mock
@pytest.mark.parametrize("language", ["en", "zh-hans"])
async def test_an_upstream_failure_ends_its_panel_at_once_while_the_others_stream(
    async_client, stored, campaign, headlines, email, user, language
):
    launch, generate = stored
    release, cut = asyncio.Event(), asyncio.Event()
    respx.post(CHAT_URL).mock(side_effect=_one_fails(release, cut))
    generations = await sync_to_async(generate)()
    tasks = [launch(generation.pk) for generation in generations]
    await async_client.aforce_login(user)
    await async_client.post("/i18n/setlang/", {"language": language})
    response = await async_client.get(f"/campaigns/{campaign.pk}/events/")
    stream = aiter(response.streaming_content)
    got = await _frames_until(stream, f"delta-{email.pk}")
    cut.set()

    got += await _frames_until(stream, f"done-{email.pk}")  # the headlines still stream
    assert f"done-{headlines.pk}" not in events(got)
    panel = {parse(f)[1]: parse(f)[2] for f in got}[f"done-{email.pk}"]
    assert 'data-generation-end="failed"' in panel and "data-streaming" not in panel
    assert "data-regenerate" in panel  # and Regenerate, for the editor
    draft = (await Deliverable.objects.aget(pk=email.pk)).draft_id
    failed = await Generation.objects.aget(draft_id=draft)
    assert failed.status == "failed"
    words = {
        "en": ["The generation failed.", "kept as v1", "Regenerate to try again."],
        "zh-hans": ["生成失败。", "保存为 v1", "重新生成"],
    }[language]
    for word in words + [html.escape(failed.error_text, quote=False)]:
        assert word in panel, word

    release.set()
    rest = [frame async for frame in stream]
    assert events(rest)[-2:] == [f"done-{headlines.pk}", "end"]
    await asyncio.gather(*tasks)


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_a_lost_stream_ends_its_panel_saying_so(
    async_client, monkeypatch, stored, campaign, headlines, email, user
):
    """A source that breaks (here: the relay raising) while its generation still runs: the
    panel stops showing it streaming and says where its text is; the others stream on."""
    from studio.campaigns import views

    launch, generate = stored
    release = asyncio.Event()
    respx.post(CHAT_URL).mock(side_effect=_bodies(release))
    generations = await sync_to_async(generate)()
    tasks = [launch(generation.pk) for generation in generations]
    email_draft = (await Deliverable.objects.aget(pk=email.pk)).draft_id
    real = views.source

    def source(generation, lost, after):
        if generation.draft_id == email_draft:
            return _failing([])
        return real(generation, lost, after)

    monkeypatch.setattr(views, "source", source)
    await async_client.aforce_login(user)
    response = await async_client.get(f"/campaigns/{campaign.pk}/events/")
    stream = aiter(response.streaming_content)
    got = await _frames_until(stream, f"done-{email.pk}")
    panel = {parse(f)[1]: parse(f)[2] for f in got}[f"done-{email.pk}"]
    assert "data-stream-lost" in panel and "data-streaming" not in panel
    assert f'sse-swap="delta-{email.pk}"' not in panel
    release.set()
    rest = [frame async for frame in stream]
    assert events(rest)[-2:] == [f"done-{headlines.pk}", "end"]
    await asyncio.gather(*tasks)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_regenerate_by_htmx_answers_the_panel_streaming(
    client, user, campaign, headlines, email, no_launch, language
):
    """Regenerate by htmx: the deliverable's panel alone, streaming, naming the generation the
    board's stream must now follow (studio.js reopens it with it in the cursor), and Stop all;
    refused (still running), a toast says why and nothing is swapped."""
    client.force_login(user)
    client.post(f"/campaigns/{campaign.pk}/generate/")
    Generation.objects.update(status="done")
    client.cookies["django_language"] = language
    response = client.post(f"/deliverables/{headlines.pk}/regenerate/", headers=HX)
    assert response.status_code == 200
    new = Generation.objects.latest("pk")
    panel = response.content.decode()
    assert (
        f'data-deliverable="{headlines.pk}"' in panel
        and f'data-deliverable="{email.pk}"' not in panel
    )
    assert f'data-follow="{new.pk}"' in panel and "data-streaming" in panel
    assert (
        f'sse-swap="delta-{headlines.pk}"' in panel and f'sse-swap="done-{headlines.pk}"' in panel
    )
    assert 'id="board-stop-all"' in panel and 'hx-swap-oob="true"' in panel
    assert {"en": "Stop all", "zh-hans": "全部停止"}[language] in panel
    # Its place in line, should its worker have no slot for it yet (components/queued.html).
    assert f'sse-swap="queued-{headlines.pk}"' in panel
    label = {"en": "Queued ({n} ahead)", "zh-hans": "排队中（前面还有 {n} 个）"}[language]
    assert f'data-queued-label="{label}"' in panel

    again = client.post(f"/deliverables/{headlines.pk}/regenerate/", headers=HX)
    assert again.status_code == 409 and again["HX-Retarget"] == "#toasts"
    assert Generation.objects.filter(draft_id=new.draft_id).count() == 2  # none started
