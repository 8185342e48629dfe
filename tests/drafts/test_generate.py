"""The one generate action (drafts/generate.py): every entry point goes through it, it alone
creates Generation rows, it stores the request's origin in the generation's own columns and
launches the runner once committed, and the controls are typed columns, not params."""

from __future__ import annotations

import ast
import asyncio
import gc
import hashlib
import weakref
from pathlib import Path

import pytest
import respx
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from drafts import generate
from drafts import generation as runner
from drafts.actions import add_version, finish_generation
from drafts.audit import record_generation
from drafts.generate import Ask, Generate, NotAllowed, do_generate_one, start_follow_up
from drafts.models import Draft, Generation
from prompts.experiments.actions import create_experiment
from prompts.experiments.batch_progress import start_row
from prompts.experiments.models import VariantRun
from studio import degraded
from studio.api.actions import create_api_key
from studio.audit.models import AuditLog
from studio.audit.origin import Origin
from studio.audit.recording import record_ai_call
from studio.guardrails.budgets import _reserved_key
from studio.workspaces.actions import add_member
from tests.conftest import CHAT_URL, sse_body, sse_response
from tests.generating import start_generation
from tests.prompts.batch_helpers import make_batch

HTMX = {"HX-Request": "true"}
ROOT = Path(__file__).resolve().parents[2]
TEXT = "Intro.\n\n# Install\n\nRun it and let the lazy dog sleep.\n\n# Use\n\nUse it.\n"


@pytest.fixture
def through_action(monkeypatch) -> list[tuple[Generate, list[Generation]]]:
    """Every call of the one action (``do_generate_one`` goes through it too), with what it
    made."""
    calls: list[tuple[Generate, list[Generation]]] = []
    real = generate.do_generate

    def spy(request: Generate, **kwargs) -> list[Generation]:
        made = real(request, **kwargs)
        calls.append((request, made))
        return made

    monkeypatch.setattr(generate, "do_generate", spy)
    return calls


def made_by_action(calls, before: set[int]) -> list[Generation]:
    """The generations created since ``before``: each one made by the action."""
    new = list(Generation.objects.exclude(pk__in=before).order_by("pk"))
    assert new, "the entry point created no generation"
    assert {g.pk for g in new} == {g.pk for _, made in calls for g in made}
    return new


@pytest.fixture
def draft(workspace, user) -> Draft:
    draft = Draft.objects.create(workspace=workspace, title="Guide", created_by=user)
    add_version(draft_id=draft.pk, text=TEXT, source="generated", author_id=user.pk)
    return draft


@pytest.fixture
def finished(workspace, product_template, product_inputs, user) -> Generation:
    generation = start_generation(
        workspace=workspace,
        version=product_template.current_version(),
        inputs=product_inputs,
        user=user,
    )
    return finish_generation(
        generation_id=generation.pk, status="cancelled", text="So far", reasoning="", fields={}
    )


# --- Every entry point calls the one action ---------------------------------------------------


def test_the_workspace_generate_goes_through_the_action(
    client, user, workspace, product_template, product_inputs, through_action, launched
):
    client.force_login(user)
    version = product_template.current_version()

    client.post(
        reverse("drafts:generate", args=[workspace.pk]),
        {"version": version.pk, **product_inputs},
        headers=HTMX,
    )

    (generation,) = made_by_action(through_action, set())
    assert (generation.channel, generation.client_ip) == ("ui", "127.0.0.1")
    assert generation.session_hash and launched == [generation.pk]


def test_an_assigned_variant_goes_through_the_action(
    client, user, workspace, product_template, product_inputs, through_action, launched
):
    version = product_template.current_version()
    create_experiment(
        workspace=workspace,
        name="Single",
        user=user,
        mode="single",
        variants=[
            {"name": "A", "version": version, "temperature": 0.2},
            {"name": "B", "version": version, "temperature": 0.9},
        ],
    )
    client.force_login(user)

    client.post(
        reverse("drafts:generate", args=[workspace.pk]),
        {"version": version.pk, **product_inputs},
        headers=HTMX,
    )

    (generation,) = made_by_action(through_action, set())
    assert VariantRun.objects.get().generation == generation
    assert generation.cache_mode == "off" and generation.client_ip == "127.0.0.1"
    assert launched == [generation.pk]


def test_the_api_goes_through_the_action(
    client, user, workspace, product_template, product_inputs, through_action, launched
):
    key, raw = create_api_key(user=user, name="CMS")

    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )

    assert response.status_code == 202
    (generation,) = made_by_action(through_action, set())
    assert (generation.channel, generation.api_key_id, generation.session_hash) == (
        "api",
        key.pk,
        "",
    )
    assert launched == [generation.pk]


def test_a_follow_up_goes_through_the_action(client, user, finished, through_action, launched):
    client.force_login(user)

    client.post(
        reverse("drafts:follow_up", args=[finished.draft_id]), {"action": "continue"}, headers=HTMX
    )

    (generation,) = made_by_action(through_action, {finished.pk})
    assert generation.client_ip == "127.0.0.1" and launched == [generation.pk]


def test_a_section_goes_through_the_action(client, user, draft, through_action, launched):
    client.force_login(user)

    client.post(
        f"/drafts/{draft.pk}/sections/generate/",
        {"base": 1, "index": 1, "action": "expand", "instruction": "Add an example"},
        headers=HTMX,
    )

    (generation,) = made_by_action(through_action, set())
    assert generation.suggestion.draft == draft and generation.client_ip == "127.0.0.1"
    assert launched == [generation.pk]


def test_a_rewrite_goes_through_the_action(client, user, draft, through_action, launched):
    client.force_login(user)

    client.post(
        f"/drafts/{draft.pk}/rewrite/",
        {"base": 1, "kind": "translate", "language": "zh-hans", "selection": " lazy dog "},
        headers=HTMX,
    )

    (generation,) = made_by_action(through_action, set())
    assert generation.suggestion.kind == "translate" and launched == [generation.pk]


@pytest.fixture
def experiment(workspace, product_template, user):
    version = product_template.current_version()
    return create_experiment(
        workspace=workspace,
        name="Warmer?",
        user=user,
        variants=[
            {"name": "Cool", "version": version, "temperature": 0.2},
            {"name": "Warm", "version": version, "temperature": 0.9},
        ],
    )


def test_an_experiment_run_goes_through_the_action_once_for_all_its_columns(
    client, user, workspace, experiment, product_inputs, through_action, launched
):
    client.force_login(user)

    client.post(
        reverse("prompts:run_start", args=[workspace.pk, experiment.pk]),
        product_inputs,
        headers=HTMX,
    )

    generations = made_by_action(through_action, set())
    assert len(through_action) == 1 and len(generations) == 2
    assert {c.generation_id for c in VariantRun.objects.all()} == {g.pk for g in generations}
    assert all(g.client_ip == "127.0.0.1" and g.cache_mode == "off" for g in generations)
    assert sorted(launched) == sorted(g.pk for g in generations)


def test_a_batch_row_goes_through_the_action_with_the_batch_s_origin(
    user, experiment, through_action
):
    batch = make_batch(experiment, user)
    batch.origin = Origin(ip="203.0.113.5", session="abc", request_id="r-1").as_dict()
    batch.save(update_fields=["origin"])
    row = batch.rows.order_by("pk").first()

    run = start_row(row=row)

    generations = made_by_action(through_action, set())
    assert {c.generation_id for c in run.columns.all()} == {g.pk for g in generations}
    assert {(g.client_ip, g.session_hash, g.request_id) for g in generations} == {
        ("203.0.113.5", "abc", "r-1")
    }
    row.refresh_from_db()
    assert row.run == run


# --- What the runner holds: nothing of the request that started it ---------------------------


@pytest.fixture
def kept(monkeypatch) -> list[Generation]:
    """The instances the views hand to the runner, held as a running runner holds them (its
    task lives for the whole stream, queued or streaming)."""
    held: list[Generation] = []
    monkeypatch.setattr(runner, "launch", held.append)
    return held


def _generate(client, fixtures):
    version = fixtures("product_template").current_version()
    space = fixtures("workspace")
    inputs = {"version": version.pk, **fixtures("product_inputs")}
    return client.post(reverse("drafts:generate", args=[space.pk]), inputs, headers=HTMX)


def _variant(client, fixtures):
    version = fixtures("product_template").current_version()
    variants = [
        {"name": n, "version": version, "temperature": t} for n, t in (("A", 0.2), ("B", 1))
    ]
    create_experiment(
        workspace=fixtures("workspace"), name="S", user=fixtures("user"), mode="single",
        variants=variants,
    )  # fmt: skip
    return _generate(client, fixtures)


def _api(client, fixtures):
    _key, raw = create_api_key(user=fixtures("user"), name="CMS")
    return client.post(
        f"/api/ai/workspaces/{fixtures('workspace').pk}/drafts",
        {"template": fixtures("product_template").pk, "inputs": fixtures("product_inputs")},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )


def _follow_up(client, fixtures):
    url = reverse("drafts:follow_up", args=[fixtures("finished").draft_id])
    return client.post(url, {"action": "continue"}, headers=HTMX)


def _section(client, fixtures):
    form = {"base": 1, "index": 1, "action": "expand", "instruction": "Add an example"}
    return client.post(f"/drafts/{fixtures('draft').pk}/sections/generate/", form, headers=HTMX)


def _rewrite(client, fixtures):
    form = {"base": 1, "kind": "translate", "language": "zh-hans", "selection": " lazy dog "}
    return client.post(f"/drafts/{fixtures('draft').pk}/rewrite/", form, headers=HTMX)


def _experiment_run(client, fixtures):
    space, experiment = fixtures("workspace"), fixtures("experiment")
    url = reverse("prompts:run_start", args=[space.pk, experiment.pk])
    return client.post(url, fixtures("product_inputs"), headers=HTMX)


@pytest.mark.parametrize(
    "entry_point",
    [_generate, _variant, _api, _follow_up, _section, _rewrite, _experiment_run],
    ids=lambda f: f.__name__.strip("_"),
)
def test_the_runner_holds_nothing_of_the_request_that_started_it(
    client, user, kept, entry_point, request
):
    """A queued or streaming runner holds its generation for minutes: the request that started
    it (headers, session, messages, the parsed form) must be freed with its response, not
    when the stream ends. A row made with ``created_by=request.user`` used to keep it through
    Django's lazy user (decision 62; 850 of 1,000 Generate requests alive at N=1000)."""
    client.force_login(user)
    response = entry_point(client, request.getfixturevalue)
    assert response.status_code in (200, 202), response.content[:300]
    assert kept, "the entry point launched no runner"

    gone = weakref.ref(response.wsgi_request)
    del response
    gc.collect()

    assert gone() is None, [type(o).__qualname__ for o in gc.get_referrers(gone())]
    assert all(g.pk and g.created_by_id == user.pk for g in kept)


def _creates_generation(node: ast.AST) -> bool:
    """``Generation(...)`` or ``Generation.objects.create/bulk_create/get_or_create(...)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "Generation"
    return (
        isinstance(func, ast.Attribute)
        and func.attr in {"create", "bulk_create", "get_or_create", "update_or_create"}
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "objects"
        and isinstance(func.value.value, ast.Name)
        and func.value.value.id == "Generation"
    )


def test_generation_rows_are_created_only_in_the_action_module():
    places = []
    for package in ("drafts", "prompts", "studio"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text("utf-8"))
            places += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for node in ast.walk(tree)
                if _creates_generation(node)
            ]
    assert places and all(p.startswith("drafts/generate.py:") for p in places), places


def test_no_view_launches_the_runner_itself():
    """The action launches on commit; views and tasks only wait for it to ask."""
    callers = []
    for package in ("drafts", "prompts", "studio"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "generate.py" and "runner.launch(" in path.read_text("utf-8"):
                callers.append(str(path.relative_to(ROOT)))
    assert callers == ["studio/assistant/views.py"]  # the assistant's own runner, no Generation


# --- Checks, refusals, launch on commit -----------------------------------------------------


def test_a_reviewer_is_refused_before_anything_is_stored(
    workspace, other_user, product_template, product_inputs
):
    add_member(workspace=workspace, user=other_user, role="reviewer")
    request = Generate(
        user=other_user,
        workspace=workspace,
        origin=Origin(),
        asks=[Ask.from_version(product_template.current_version(), product_inputs)],
    )

    with pytest.raises(NotAllowed):
        do_generate_one(request)
    assert not Draft.objects.exists() and not Generation.objects.exists()


def _spend_budget(settings, user, workspace) -> None:
    settings.AI_DAILY_TOKEN_BUDGET = 100
    record_ai_call(status="ok", user=user, workspace=workspace, total_tokens=500)


def test_a_budget_refusal_in_the_workspace_is_audited_with_the_request_s_origin(
    client, settings, user, workspace, product_template, product_inputs, launched
):
    _spend_budget(settings, user, workspace)
    client.force_login(user)

    response = client.post(
        reverse("drafts:generate", args=[workspace.pk]),
        {"version": product_template.current_version().pk, **product_inputs},
        headers=HTMX,
    )

    assert "daily budget" in response.content.decode() and launched == []
    refusal = AuditLog.objects.get(status="over_budget")
    assert (refusal.ip, refusal.channel, refusal.workspace) == ("127.0.0.1", "ui", workspace)
    assert refusal.session == hashlib.sha256(client.session.session_key.encode()).hexdigest()[:16]
    assert not Generation.objects.exists()


def test_a_budget_refusal_of_an_experiment_run_is_audited_with_the_request_s_origin(
    client, settings, user, workspace, experiment, product_inputs, launched
):
    _spend_budget(settings, user, workspace)
    client.force_login(user)

    client.post(
        reverse("prompts:run_start", args=[workspace.pk, experiment.pk]),
        product_inputs,
        headers=HTMX,
    )

    refusal = AuditLog.objects.get(status="over_budget")
    assert (refusal.ip, refusal.channel) == ("127.0.0.1", "ui") and refusal.session
    assert not Generation.objects.exists() and launched == []


def test_a_budget_refusal_of_the_api_names_the_key(
    client, settings, user, workspace, product_template, product_inputs
):
    _spend_budget(settings, user, workspace)
    key, raw = create_api_key(user=user, name="CMS")

    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )

    assert response.status_code == 429
    refusal = AuditLog.objects.get(status="over_budget")
    assert (refusal.channel, refusal.api_key_id, refusal.ip) == ("api", key.pk, "127.0.0.1")


@pytest.mark.django_db(transaction=True)
def test_the_runner_is_launched_only_once_the_rows_are_committed(
    monkeypatch, workspace, user, product_template, product_inputs
):
    started: list[int] = []
    monkeypatch.setattr(runner, "launch", lambda generation: started.append(generation.pk))
    loop = asyncio.new_event_loop()
    request = Generate(
        user=user,
        workspace=workspace,
        origin=Origin(),
        asks=[Ask.from_version(product_template.current_version(), product_inputs)],
        loop=loop,
    )
    try:
        with transaction.atomic():  # a caller's transaction around the action
            generation = do_generate_one(request)
            loop.run_until_complete(asyncio.sleep(0))
            assert started == []  # not before the commit
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()

    assert started == [generation.pk]


# --- The budget: held by the action for the runner it launches (decision 16) ------------------


def _reserved_now(user) -> int:
    return degraded.shared().get(_reserved_key(user.pk)) or 0


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_the_runner_asks_deepseek_with_the_tokens_the_action_held_then_gives_them_back(
    monkeypatch, settings, workspace, user, product_template, product_inputs
):
    """The reservation is made in the action's own trip; the runner does not reserve again.
    What is held is read when DeepSeek is asked: by the time the action's trip has returned,
    the runner may have finished already and given it back."""
    settings.AI_DAILY_TOKEN_BUDGET = 1_000_000
    held: list[int] = []

    def asked(request):
        held.append(_reserved_now(user))
        return sse_response(sse_body(["Hello."]))

    route = respx.post(CHAT_URL).mock(side_effect=asked)

    async def reserved_again(*args, **kwargs):
        raise AssertionError("the runner reserved the tokens a second time")

    monkeypatch.setattr(runner, "areserve_tokens", reserved_again)
    launched = asyncio.Event()
    tasks: list[asyncio.Task] = []
    real_launch = runner.launch
    monkeypatch.setattr(runner, "launch", lambda g: (tasks.append(real_launch(g)), launched.set()))
    version = await sync_to_async(product_template.current_version)()
    request = Generate(
        user=user,
        workspace=workspace,
        origin=Origin(),
        asks=[Ask.from_version(version, product_inputs)],
        loop=asyncio.get_running_loop(),
    )

    generation = await sync_to_async(do_generate_one)(request)
    await launched.wait()
    await tasks[0]

    await generation.arefresh_from_db()
    assert route.call_count == 1 and held[0] > 0
    assert (generation.status, generation.text) == ("done", "Hello.")
    assert await sync_to_async(_reserved_now)(user) == 0  # given back once audited


@pytest.mark.django_db(transaction=True)
def test_a_generate_undone_in_its_transaction_holds_nothing(
    monkeypatch, settings, workspace, user, product_template, product_inputs
):
    settings.AI_DAILY_TOKEN_BUDGET = 1_000_000
    monkeypatch.setattr(runner, "launch", lambda generation: pytest.fail("launched"))
    request = Generate(
        user=user,
        workspace=workspace,
        origin=Origin(),
        asks=[Ask.from_version(product_template.current_version(), product_inputs)],
        loop=asyncio.new_event_loop(),
    )

    def refuse(generations: list[Generation]) -> None:
        raise ValueError("a caller's own row could not be written")

    with pytest.raises(ValueError):
        do_generate_one(request, within=refuse)
    request.loop.close()

    assert _reserved_now(user) == 0 and not Generation.objects.exists()


# --- The origin lives on the generation; the audit row reads it from there -------------------


def test_the_audit_row_takes_the_origin_from_the_generation_not_a_cache(
    client, user, workspace, product_template, product_inputs, launched
):
    client.force_login(user)
    client.post(
        reverse("drafts:generate", args=[workspace.pk]),
        {"version": product_template.current_version().pk, **product_inputs},
        headers=HTMX,
    )
    generation = Generation.objects.get()
    cache.clear()  # nothing kept beside the row: a cache miss, another worker, a restart

    ended = finish_generation(
        generation_id=generation.pk, status="done", text="Lamp.", reasoning="", fields={}
    )
    row = record_generation(ended)

    assert (row.ip, row.channel, row.session) == ("127.0.0.1", "ui", generation.session_hash)
    assert row.session and row.request_id == generation.request_id


def test_an_api_generation_s_audit_row_names_its_key(
    client, user, workspace, product_template, product_inputs, launched
):
    key, raw = create_api_key(user=user, name="CMS")
    client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    cache.clear()

    row = record_generation(Generation.objects.get().pk)

    assert (row.channel, row.api_key_id, row.session) == ("api", key.pk, "")


# --- Typed controls ------------------------------------------------------------------------


def test_continue_is_a_typed_control_and_a_second_continue_starts_from_the_request(user, finished):
    draft = finished.draft

    first = start_follow_up(draft=draft, user=user, mode="continue", origin=Origin())

    assert (first.continues, first.prefix, first.cache_mode) == (finished, "So far", "off")
    assert "prefix" not in first.params and "cache" not in first.params
    assert first.messages[: len(finished.messages)] == finished.messages
    assert [m["role"] for m in first.messages[len(finished.messages) :]] == ["assistant", "user"]
    first = finish_generation(
        generation_id=first.pk, status="cancelled", text="So far, more", reasoning="", fields={}
    )

    second = start_follow_up(draft=draft, user=user, mode="continue", origin=Origin())

    assert second.continues == first and second.prefix == "So far, more"
    assert second.messages[: len(finished.messages)] == finished.messages
    assert len(second.messages) == len(finished.messages) + 2  # not a continuation of one
    assert second.messages[-2]["content"] == "So far, more"


def test_regenerate_asks_the_original_request_again_never_the_cached_answer(
    user, finished, settings
):
    settings.AI_CACHE_TTL = 3600
    follow = start_follow_up(draft=finished.draft, user=user, mode="continue", origin=Origin())
    finish_generation(generation_id=follow.pk, status="done", text="All", reasoning="", fields={})

    again = start_follow_up(draft=finished.draft, user=user, mode="regenerate", origin=Origin())

    assert again.messages == finished.messages and again.continues is None
    assert again.prefix == "" and again.cache_mode in {"off", "refresh"}
    assert "cache" not in again.params
