"""The runner: streams into the log and the database; keeps text however the stream ends."""

import asyncio
import json
import re
import threading

import httpx
import pytest
import respx
from asgiref.sync import sync_to_async
from django.utils import translation

from drafts import generation as runner
from drafts.generate import start_follow_up
from drafts.generation import GENERATIONS, joint
from drafts.models import Draft, DraftVersion, Generation
from drafts.panels import render_draft_panel
from prompts.actions import VERSIONED_FIELDS, save_version
from studio import background
from studio.audit.metrics import sample
from studio.audit.models import AuditLog
from studio.audit.origin import Origin
from studio.streams import Done, Snapshot
from tests.conftest import CHAT_URL, USAGE, chunk, sse_body, sse_response, streaming_response
from tests.generating import start_generation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(workspace, product_template, product_inputs, user):
    version = product_template.current_version()
    inputs = {**product_inputs, "words": 120}
    return start_generation(workspace=workspace, version=version, inputs=inputs, user=user)


async def _run(generation_id: int) -> Generation:
    await runner.launch(generation_id)
    return await Generation.objects.select_related("version").aget(pk=generation_id)


@respx.mock
async def test_finished_stream_saves_version_one_with_usage_and_timings(queued):
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Hello ", "world"])))

    generation = await _run(queued.pk)

    assert generation.status == Generation.Status.DONE
    assert generation.text == "Hello world"
    assert (generation.prompt_tokens, generation.completion_tokens) == (12, 5)
    assert generation.finish_reason == "stop"
    assert generation.ttft_ms is not None and generation.duration_ms >= generation.ttft_ms
    version = generation.version
    assert (version.number, version.text, version.source) == (1, "Hello world", "generated")
    sent = route.calls.last.request
    assert b'"stream":true' in sent.content and b'"include_usage":true' in sent.content
    assert b"Aurora desk lamp" in sent.content  # the rendered prompt, as messages


@respx.mock
async def test_the_upstream_request_does_not_wait_for_the_database(queued):
    """Launched with the instance, the runner asks DeepSeek first; the database catches up."""
    requested = asyncio.Event()

    def answer(request):
        requested.set()
        return sse_response(sse_body(["Fast"]))

    respx.post(CHAT_URL).mock(side_effect=answer)
    # The runners' database thread is busy (another generation saving, say) until released.
    gate = threading.Event()
    busy = asyncio.wrap_future(background.DATABASE_THREAD.submit(gate.wait, 10))
    task = runner.launch(queued)
    try:
        async with asyncio.timeout(5):
            await requested.wait()
        assert not gate.is_set()  # DeepSeek was asked while the database was still held up
    finally:
        gate.set()
    await busy
    await task

    generation = await Generation.objects.aget(pk=queued.pk)
    assert (generation.status, generation.text) == (Generation.Status.DONE, "Fast")


@respx.mock
async def test_asked_returns_once_deepseek_is_asked_not_once_it_answers(queued):
    """What a view awaits before it renders (runner.asked): the request, never the answer."""
    release = asyncio.Event()
    set_when_sent: list[bool] = []

    async def held():
        await release.wait()
        yield sse_body(["Late"])

    def answer(request):
        set_when_sent.append(runner._asked[queued.pk].is_set())
        return streaming_response(held())

    respx.post(CHAT_URL).mock(side_effect=answer)
    task = runner.launch(queued)
    async with asyncio.timeout(2):  # long before its own limit: the request, not the limit
        await runner.asked(queued.pk, limit=30)

    assert set_when_sent == [True]  # set as the request left, before the transport had it
    assert not task.done()
    release.set()
    await task
    async with asyncio.timeout(2):
        await runner.asked(queued.pk, limit=30)  # ended: at once
    assert (await Generation.objects.aget(pk=queued.pk)).text == "Late"


async def test_asked_returns_at_once_for_a_generation_that_runs_nowhere_here(queued):
    async with asyncio.timeout(2):
        await runner.asked(queued.pk, limit=30)


@respx.mock
async def test_log_receives_every_delta_in_order_and_ends_with_ids_not_html(queued):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["a", "b", "c"])))

    await _run(queued.pk)

    log = runner.get_log(queued.pk)
    assert log.items == [("content", "a"), ("content", "b"), ("content", "c")] + [
        ("block", "3\n<p>abc</p>\n")  # the last Markdown block, finished by the end
    ]
    # The end names what to show; each watcher's view renders it (no HTML, no language).
    assert log.done == Done("done", {"generation": queued.pk, "draft": queued.draft_id}, seq=4)


@respx.mock
async def test_upstream_error_fails_with_a_message_an_editor_understands(queued):
    body = (
        b'{"error":{"message":"Insufficient Balance","type":"unknown_error",'
        b'"param":null,"code":"invalid_request_error"}}'
    )
    respx.post(CHAT_URL).mock(return_value=httpx.Response(402, content=body))

    generation = await _run(queued.pk)

    assert generation.status == Generation.Status.FAILED
    assert generation.error_code == "InsufficientBalance"
    assert "balance" in generation.error_message.lower()
    assert not await DraftVersion.objects.filter(draft_id=queued.draft_id).aexists()


@respx.mock
async def test_stream_cut_mid_way_keeps_the_text_so_far_marked_failed(queued):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Partial ", "text"], done=False)))

    generation = await _run(queued.pk)

    assert generation.status == Generation.Status.FAILED
    assert generation.error_code == "StreamTruncated"
    assert generation.version.text == "Partial text"
    assert generation.is_partial


@respx.mock
async def test_stop_keeps_what_was_written_and_closes_the_upstream(queued):
    first_sent = asyncio.Event()
    closed = asyncio.Event()

    async def body():
        try:
            yield chunk({"role": "assistant", "content": ""})
            yield chunk({"content": "Kept "})
            yield chunk({"content": "words"})
            first_sent.set()
            await asyncio.Event().wait()  # the model would go on; only Stop ends this
            yield chunk({"content": "never"}, finish="stop", usage=USAGE)
        finally:
            closed.set()

    respx.post(CHAT_URL).mock(return_value=streaming_response(body()))
    task = runner.launch(queued.pk)
    await first_sent.wait()
    log = runner.get_log(queued.pk)
    while len(log.items) < 2:  # the runner has consumed both deltas
        await log.wait(len(log.items), timeout=5)

    assert runner.cancel(queued.pk)
    await task

    generation = await Generation.objects.select_related("version").aget(pk=queued.pk)
    assert generation.status == Generation.Status.CANCELLED
    assert generation.version.text == "Kept words"
    assert closed.is_set()
    assert not runner.is_live(queued.pk)


@respx.mock
async def test_text_so_far_is_saved_by_bytes_or_interval_never_per_token(
    queued, settings, monkeypatch
):
    settings.GENERATION_PERSIST_BYTES = 10
    settings.GENERATION_PERSIST_INTERVAL = 3600  # only the byte threshold triggers here
    saves: list[dict] = []
    saved = asyncio.Event()

    def recording(texts):
        saves.append(texts)
        original(texts)
        saved.set()

    original = runner.save_partial_texts
    monkeypatch.setattr(runner, "save_partial_texts", recording)

    async def body():
        yield chunk({"role": "assistant", "content": ""})
        for _ in range(4):  # 4 × 10 characters in 8 tokens; wait for each save to land
            yield chunk({"content": "12345"})
            yield chunk({"content": "67890"})
            await asyncio.wait_for(saved.wait(), 5)
            saved.clear()
        yield chunk({"content": ""}, finish="stop", usage=USAGE)
        yield b"data: [DONE]\n\n"

    respx.post(CHAT_URL).mock(return_value=streaming_response(body()))

    generation = await _run(queued.pk)

    assert [len(texts[queued.pk][0]) for texts in saves] == [10, 20, 30, 40]
    assert generation.text == "1234567890" * 4 and generation.status == "done"


@respx.mock
async def test_the_interval_saves_every_running_generation_in_one_write(
    queued, settings, monkeypatch, workspace, product_template, product_inputs, user
):
    # No timer in play: "first" (5 characters) only marks its stream; "second" (6) is
    # urgent and wakes the writer, which must then save both streams in one write.
    settings.GENERATION_PERSIST_INTERVAL = 60
    settings.GENERATION_PERSIST_BYTES = 6
    second = await sync_to_async(start_generation)(
        workspace=workspace,
        version=await product_template.versions.afirst(),
        inputs=product_inputs,
        user=user,
    )
    saves: list[dict] = []
    original = runner.save_partial_texts
    both = asyncio.Event()

    def recording(texts):
        saves.append(dict(texts))
        original(texts)
        if len(texts) == 2:
            both.set()

    monkeypatch.setattr(runner, "save_partial_texts", recording)

    first_marked = asyncio.Event()

    async def body(word):
        if word == "second":
            await asyncio.wait_for(first_marked.wait(), 5)
        yield chunk({"content": word})
        # Resumed only once the runner has taken the chunk in, so "first" is marked by now.
        first_marked.set()
        await asyncio.wait_for(both.wait(), 5)  # hold until one save covered both streams
        yield chunk({"content": ""}, finish="stop", usage=USAGE)
        yield b"data: [DONE]\n\n"

    respx.post(CHAT_URL).mock(
        side_effect=[streaming_response(body("first")), streaming_response(body("second"))]
    )
    tasks = [runner.launch(queued.pk), runner.launch(second.pk)]
    await asyncio.gather(*tasks)

    together = next(texts for texts in saves if len(texts) == 2)
    finals = {g.pk: (g.text, "") async for g in Generation.objects.filter(pk__in=together)}
    assert together == finals == {**finals, queued.pk: finals[queued.pk]}
    assert sorted(text for text, _ in together.values()) == ["first", "second"]


def test_an_active_generation_no_process_runs_is_settled_as_interrupted(queued):
    Generation.objects.filter(pk=queued.pk).update(status="running", text="So far")
    queued.refresh_from_db()

    settled = runner.settle_orphan(queued)

    assert settled.status == Generation.Status.INTERRUPTED
    assert settled.version.text == "So far"


def test_live_snapshot_reports_text_and_position(queued):
    log = GENERATIONS.open_log(queued.pk)
    log.append("reasoning", "hmm")
    log.append("content", "Hi")

    assert runner.live_snapshot(queued.pk) == Snapshot("Hi", "hmm", 2, "", "Hi")
    log.append("block", "1\n<p>H</p>\n")
    so_far = runner.live_snapshot(queued.pk)
    assert (so_far.blocks, so_far.tail, so_far.seq) == ("<p>H</p>\n", "i", 3)
    log.finish(Done("done"))
    assert runner.live_snapshot(queued.pk) == Snapshot("", "", 0)  # ended: nothing live


@respx.mock
async def test_worker_shutdown_ends_running_generations_as_interrupted(queued):
    started = asyncio.Event()

    async def body():
        yield chunk({"content": "Before the restart"})
        started.set()
        await asyncio.Event().wait()
        yield b""

    respx.post(CHAT_URL).mock(return_value=streaming_response(body()))
    runner.launch(queued.pk)
    await started.wait()
    log = runner.get_log(queued.pk)
    while not log.items:
        await log.wait(0, timeout=5)

    await runner.shutdown()

    generation = await Generation.objects.select_related("version").aget(pk=queued.pk)
    assert generation.status == Generation.Status.INTERRUPTED
    assert generation.version.text == "Before the restart"


def test_a_generation_with_a_heartbeat_elsewhere_is_not_settled(queued):
    """Another worker runs it: its heartbeat in the shared cache says so."""
    from django.core.cache import cache

    Generation.objects.filter(pk=queued.pk).update(status="running")
    queued.refresh_from_db()
    cache.set(runner.alive_key(queued.pk), 1, 30)

    assert runner.settle_orphan(queued).status == "running"
    cache.delete(runner.alive_key(queued.pk))
    assert runner.settle_orphan(queued).status == "interrupted"


@respx.mock
async def test_regenerate_asks_again_and_adds_a_version(queued, user):
    respx.post(CHAT_URL).mock(
        side_effect=[
            sse_response(sse_body(["First"])),
            sse_response(sse_body(["Second"])),
        ]
    )
    await _run(queued.pk)
    draft = await Draft.objects.aget(pk=queued.draft_id)

    again = await sync_to_async(start_follow_up)(
        origin=Origin(), draft=draft, user=user, mode="regenerate"
    )
    await _run(again.pk)

    texts = [v.text async for v in DraftVersion.objects.filter(draft=draft).order_by("number")]
    assert texts == ["First", "Second"]
    assert again.messages == queued.messages
    costs = [g.cost async for g in Generation.objects.filter(draft=draft)]
    panel = await sync_to_async(render_draft_panel)(draft.pk)
    assert f"data-draft-cost>${sum(costs):.4f}<" in panel  # summed over the draft


@respx.mock
async def test_continue_resumes_an_unfinished_text_without_repeating_it(queued, user):
    route = respx.post(CHAT_URL).mock(
        side_effect=[
            sse_response(sse_body(["The first half"], done=False)),
            sse_response(sse_body([", and the rest."])),
        ]
    )
    await _run(queued.pk)
    draft = await Draft.objects.aget(pk=queued.draft_id)

    follow = await sync_to_async(start_follow_up)(
        origin=Origin(), draft=draft, user=user, mode="continue"
    )
    generation = await _run(follow.pk)

    assert generation.status == Generation.Status.DONE
    assert generation.version.text == "The first half, and the rest."  # mid-sentence: as is
    assert generation.version.source == DraftVersion.Source.CONTINUED
    assert generation.version.get_source_display() == "Continued"
    sent = json.loads(route.calls.last.request.content)["messages"]
    assert sent[-2] == {"role": "assistant", "content": "The first half"}
    assert sent[-1]["role"] == "user" and "Continue" in sent[-1]["content"]


async def test_a_follow_up_needs_a_finished_generation(queued, user):
    draft = await Draft.objects.aget(pk=queued.draft_id)
    with pytest.raises(ValueError, match="no finished generation"):
        await sync_to_async(start_follow_up)(
            origin=Origin(), draft=draft, user=user, mode="regenerate"
        )


@respx.mock
async def test_every_generation_leaves_one_audit_row_with_usage_and_cost(queued):
    from studio.audit.models import AuditLog

    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Audited"])))

    generation = await _run(queued.pk)

    row = await AuditLog.objects.aget(generation_id=generation.pk)
    assert (row.status, row.model, row.prompt_tokens) == ("ok", "deepseek-flash", 12)
    assert row.cost == generation.cost and generation.cost is not None


# --- The response cache: identical deterministic requests reuse an answer --------------------


@pytest.fixture
def exact_version(product_template):
    """The product template at temperature 0: an identical request may reuse an answer."""
    current = product_template.current_version()
    data = {name: getattr(current, name) for name in VERSIONED_FIELDS} | {"temperature": 0}
    version, created = save_version(template=product_template, data=data)
    assert created
    return version


def _start_exact(exact_version, workspace, product_inputs, user, **kwargs) -> Generation:
    return start_generation(
        workspace=workspace, version=exact_version, inputs=product_inputs, user=user, **kwargs
    )


async def _audit_rows() -> list[tuple[bool, int | None]]:
    return [(r.cached, r.total_tokens) async for r in AuditLog.objects.order_by("pk")]


@respx.mock
async def test_an_identical_request_at_temperature_zero_reuses_the_answer(
    exact_version, workspace, product_inputs, user
):
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Warm ", "light."])))
    start = sync_to_async(_start_exact)
    hits, misses = (
        sample("ai_cache_total", {"result": "hit"}),
        sample("ai_cache_total", {"result": "miss"}),
    )

    first = await _run((await start(exact_version, workspace, product_inputs, user)).pk)
    again = await start(exact_version, workspace, product_inputs, user)
    task = runner.launch(again.pk)
    log = runner.get_log(again.pk)  # what a watcher follows
    async with asyncio.timeout(2):
        await runner.asked(again.pk, limit=30)  # no request to wait for: the answer is kept
    await task
    second = await Generation.objects.select_related("version").aget(pk=again.pk)

    assert route.call_count == 1  # DeepSeek was asked once
    assert (first.cached, first.text, first.completion_tokens) == (False, "Warm light.", 5)
    assert (second.cached, second.text, second.status) == (True, "Warm light.", "done")
    assert (second.prompt_tokens, second.completion_tokens, second.cost) == (0, 0, 0)
    assert second.version.text == "Warm light." and second.draft_id != first.draft_id
    assert [text for kind, text in log.items if kind == "content"] == ["Warm light."]
    assert await _audit_rows() == [(False, 17), (True, 0)]  # no tokens, no budget
    assert sample("ai_cache_total", {"result": "hit"}) == hits + 1
    assert sample("ai_cache_total", {"result": "miss"}) == misses + 1
    panel = await sync_to_async(render_draft_panel)(second.draft_id)
    assert "data-cached" in panel and "reused from an identical earlier request" in panel


@respx.mock
async def test_regenerate_asks_again_and_refreshes_the_kept_answer(
    exact_version, workspace, product_inputs, user
):
    route = respx.post(CHAT_URL).mock(
        side_effect=[sse_response(sse_body(["Old."])), sse_response(sse_body(["New."]))]
    )
    first = await _run(
        (await sync_to_async(_start_exact)(exact_version, workspace, product_inputs, user)).pk
    )
    draft = await Draft.objects.aget(pk=first.draft_id)

    follow_up = await sync_to_async(start_follow_up)(
        origin=Origin(), draft=draft, user=user, mode="regenerate"
    )
    regenerated = await _run(follow_up.pk)
    later = await _run(
        (await sync_to_async(_start_exact)(exact_version, workspace, product_inputs, user)).pk
    )

    assert route.call_count == 2
    assert (regenerated.cached, regenerated.text) == (False, "New.")
    assert (later.cached, later.text) == (True, "New.")  # the refreshed answer


@respx.mock
async def test_an_unfinished_answer_is_never_kept(exact_version, workspace, product_inputs, user):
    cut = sse_response(sse_body(["Half"], done=False))  # no finish, no [DONE]: cut off
    route = respx.post(CHAT_URL).mock(side_effect=[cut, sse_response(sse_body(["Whole."]))])
    start = sync_to_async(_start_exact)

    first = await _run((await start(exact_version, workspace, product_inputs, user)).pk)
    second = await _run((await start(exact_version, workspace, product_inputs, user)).pk)

    assert first.status != "done" and first.text == "Half"
    assert route.call_count == 2 and (second.cached, second.text) == (False, "Whole.")


@respx.mock
async def test_bypass_asks_deepseek_even_with_an_answer_kept(
    exact_version, workspace, product_inputs, user
):
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Same."])))
    start = sync_to_async(_start_exact)
    await _run((await start(exact_version, workspace, product_inputs, user)).pk)

    bypassed = await _run(
        (await start(exact_version, workspace, product_inputs, user, cache="bypass")).pk
    )

    assert route.call_count == 2 and not bypassed.cached


@respx.mock
async def test_a_cache_that_cannot_answer_means_asking_deepseek(
    exact_version, workspace, product_inputs, user, monkeypatch
):
    from studio.guardrails import response_cache

    def down(key, mode):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(response_cache, "lookup", down)
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Asked."])))

    generation = await _run(
        (await sync_to_async(_start_exact)(exact_version, workspace, product_inputs, user)).pk
    )

    assert route.call_count == 1 and (generation.status, generation.text) == ("done", "Asked.")


@respx.mock
async def test_a_generation_is_shortened_to_the_budget_left_and_releases_it(queued, user, settings):
    """The daily budget is a cap: DeepSeek is asked for no more than the author has left."""
    from django.core.cache import cache

    from studio.deepseek.pricing import estimate_prompt_tokens
    from studio.guardrails.budgets import _reserved_key

    prompt = estimate_prompt_tokens(queued.messages)
    settings.AI_DAILY_TOKEN_BUDGET = prompt + 300
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Short."])))

    generation = await _run(queued.pk)

    assert generation.status == Generation.Status.DONE
    assert json.loads(route.calls.last.request.content)["max_tokens"] == 300
    assert await cache.aget(_reserved_key(user.pk)) == 0


@respx.mock
async def test_a_generation_with_no_budget_left_fails_without_asking_deepseek(
    queued, user, settings
):
    """The view checked the budget, but calls started meanwhile took what was left."""
    settings.AI_DAILY_TOKEN_BUDGET = 100
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["No."])))

    generation = await _run(queued.pk)

    assert (generation.status, generation.error_code) == ("failed", "daily_budget_exceeded")
    assert "daily budget of 100 tokens" in generation.error_message
    assert route.call_count == 0


@pytest.mark.parametrize("finish", ["length", "stop"])
@respx.mock
async def test_an_answer_cut_at_max_tokens_says_so_and_offers_continue(queued, finish):
    """DeepSeek's finish_reason "length" is a success that stops mid-way: the final panel
    names the limit and offers Continue; a "stop" answer has neither."""
    route = respx.post(CHAT_URL).mock(
        return_value=sse_response(sse_body(["Cut mid"], finish=finish))
    )

    generation = await _run(queued.pk)
    panel = await sync_to_async(render_draft_panel)(generation.draft_id)

    sent = json.loads(route.calls.last.request.content)["max_tokens"]
    assert (generation.status, generation.finish_reason) == (Generation.Status.DONE, finish)
    assert generation.max_tokens == sent
    cut = finish == "length"
    assert (f"Stopped at the length limit (max_tokens {sent})" in panel) is cut
    assert ('name="action" value="continue"' in panel) is cut
    assert generation.can_continue is cut
    # The header's badge agrees with the notice: never "Done" for a cut answer.
    badge = re.search(r'<span data-status="done"[^>]*>([^<]*)</span>', panel)[1]
    assert badge == ("Stopped at the length limit" if cut else "Done")


@respx.mock
async def test_a_length_cut_badge_says_so_in_chinese(queued):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Cut mid"], finish="length")))

    generation = await _run(queued.pk)
    with translation.override("zh-hans"):
        panel = await sync_to_async(render_draft_panel)(generation.draft_id)

    badge = re.search(r'<span data-status="done"[^>]*>([^<]*)</span>', panel)[1]
    assert badge == "已达到长度上限" and "完成" not in badge


@respx.mock
async def test_a_length_cut_answer_continues_from_its_text(queued, user):
    respx.post(CHAT_URL).mock(
        side_effect=[
            sse_response(sse_body(["The first half"], finish="length")),
            sse_response(sse_body([", and the rest."])),
        ]
    )
    await _run(queued.pk)
    draft = await Draft.objects.aget(pk=queued.draft_id)

    follow = await sync_to_async(start_follow_up)(
        origin=Origin(), draft=draft, user=user, mode="continue"
    )
    generation = await _run(follow.pk)

    assert generation.version.text == "The first half, and the rest."
    panel = await sync_to_async(render_draft_panel)(draft.pk)
    assert "data-length-cut" not in panel and 'value="continue"' not in panel


@respx.mock
async def test_a_continuation_after_a_finished_sentence_starts_a_new_paragraph(queued, user):
    respx.post(CHAT_URL).mock(
        side_effect=[
            sse_response(sse_body(["# Aurora\n\nBright light."], finish="length")),
            sse_response(sse_body(["Warm ", "evenings."])),
        ]
    )
    await _run(queued.pk)
    draft = await Draft.objects.aget(pk=queued.draft_id)

    follow = await sync_to_async(start_follow_up)(
        origin=Origin(), draft=draft, user=user, mode="continue"
    )
    generation = await _run(follow.pk)

    assert generation.version.text == "# Aurora\n\nBright light.\n\nWarm evenings."


@pytest.mark.parametrize(
    ("prefix", "text", "between"),
    [
        ("Bright light.", "Warm", "\n\n"),
        ("明亮的灯光。", "温暖", "\n\n"),
        ("Bright light.\n", "Warm", ""),  # the whitespace is there already
        ("Bright light.", "\n\nWarm", ""),
        ("Bright li", "ght", ""),  # mid-word, mid-sentence: the model goes on
        ("Bright", " light", ""),
    ],
)
def test_the_joint_of_a_continuation(prefix, text, between):
    assert joint(prefix, text) == between
