"""Workspace, generate, draft, SSE and cancel views: full pages, htmx partials, isolation."""

import asyncio

import pytest
from django.urls import reverse

from drafts.actions import add_version
from drafts.models import Draft, Generation
from tests.generating import start_generation

HTMX = {"HX-Request": "true"}


@pytest.fixture
def draft(workspace, product_template, product_inputs, user):
    version = product_template.current_version()
    generation = start_generation(
        workspace=workspace, version=version, inputs=product_inputs, user=user
    )
    Generation.objects.filter(pk=generation.pk).update(status="done")
    add_version(
        draft_id=generation.draft_id,
        text=(
            "# Aurora\n\nBright **light**.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"
        ),
        source="generated",
        author_id=user.pk,
        generation=generation,
    )
    return Draft.objects.get(pk=generation.draft_id)


def test_login_is_required(client, workspace):
    response = client.get(workspace.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_workspace_page_shows_the_template_form(client, user, workspace, demo_templates):
    client.force_login(user)

    response = client.get(workspace.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and 'id="template-form"' in html
    assert 'name="product_name"' in html  # the first template's variables as fields
    assert "Your draft appears here." in html


def test_recent_drafts_are_the_eight_newest_newest_first(client, user, workspace):
    for n in range(1, 11):
        Draft.objects.create(workspace=workspace, title=f"Draft {n}", created_by=user)
    Draft.objects.get(title="Draft 2").save()  # touched last: it moves to the top
    client.force_login(user)

    response = client.get(workspace.get_absolute_url())

    titles = [d.title for d in response.context["recent_drafts"]]
    assert titles == ["Draft 2", "Draft 10", "Draft 9", "Draft 8", "Draft 7", "Draft 6",
                      "Draft 5", "Draft 4"]  # fmt: skip


def test_recent_drafts_refresh_alone_when_their_list_asks(client, user, workspace, draft):
    """The list's own htmx request (after a generation) gets the list, not the page."""
    client.force_login(user)

    response = client.get(
        workspace.get_absolute_url(), headers=HTMX | {"HX-Target": "recent-drafts"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="recent-drafts"')
    assert 'hx-trigger="drafts-changed from:body"' in html
    assert draft.title in html and "1 version" in html and "<html" not in html


def test_picking_a_template_with_htmx_returns_only_its_form(
    client, user, workspace, demo_templates
):
    client.force_login(user)
    email = next(t for t in demo_templates if t.slug == "marketing-email")

    response = client.get(
        workspace.get_absolute_url(),
        {"template": email.pk},
        headers={**HTMX, "HX-Target": "template-form"},
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="template-form">')
    assert 'name="cta"' in html and 'name="product_name"' not in html


def test_draft_page_renders_sanitized_markdown_and_versions(client, user, draft):
    client.force_login(user)

    response = client.get(draft.get_absolute_url())

    html = response.content.decode()
    assert "<h1>Aurora</h1>" in html and "<strong>light</strong>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'href="javascript' not in html
    assert 'id="version-list"' in html and "v1" in html


def test_version_link_with_htmx_returns_the_panel_only(client, user, draft):
    client.force_login(user)
    add_version(draft_id=draft.pk, text="Second take", source="edited", author_id=user.pk)

    response = client.get(draft.get_absolute_url(), {"v": 1}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html and 'id="draft-panel"' in html
    assert "Aurora" in html and "Second take" not in html
    assert 'aria-current="true"' in html


@pytest.mark.django_db(transaction=True)
async def test_events_of_a_finished_generation_send_the_final_panel_once(async_client, user, draft):
    await async_client.aforce_login(user)
    generation = await draft.generations.afirst()

    response = await async_client.get(reverse("drafts:events", args=[generation.pk]))

    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache" and response["X-Accel-Buffering"] == "no"
    body = b"".join([part async for part in response.streaming_content]).decode()
    assert body.startswith("event: done\ndata: ")
    assert body.count("event: done") == 1 and "Aurora" in body


@pytest.mark.django_db(transaction=True)
async def test_a_stream_releases_its_request_thread_before_the_first_frame(
    async_client, user, draft, monkeypatch
):
    from studio import tuning

    calls = []
    monkeypatch.setattr(tuning, "release_request_thread", lambda: calls.append("released"))
    await async_client.aforce_login(user)
    generation = await draft.generations.afirst()

    response = await async_client.get(reverse("drafts:events", args=[generation.pk]))
    assert calls == []  # the middleware still had its thread while the response was built
    frames = [part async for part in response.streaming_content]

    assert calls == ["released"] and frames


@pytest.mark.django_db(transaction=True)
async def test_events_replay_from_last_event_id(async_client, user, draft):
    from drafts.generation import GENERATIONS
    from studio.streams import Done

    await async_client.aforce_login(user)
    generation = await draft.generations.afirst()
    log = GENERATIONS.open_log(generation.pk)
    for piece in ["one ", "two ", "three"]:
        log.append("content", piece)
    log.finish(Done("done", {"generation": generation.pk, "draft": draft.pk}))

    response = await async_client.get(
        reverse("drafts:events", args=[generation.pk]), headers={"Last-Event-ID": "1"}
    )

    body = b"".join([part async for part in response.streaming_content]).decode()
    GENERATIONS.discard_log(generation.pk)
    assert body.startswith("id: 3\nevent: delta\ndata: two three\n\nid: 3\nevent: done\ndata: ")
    assert body.count("event: done") == 1 and 'id="draft-panel"' in body


def test_cancel_of_a_generation_not_running_settles_it(client, user, draft):
    client.force_login(user)
    generation = draft.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="running", text="half")

    response = client.post(reverse("drafts:cancel", args=[generation.pk]), headers=HTMX)

    assert response.status_code == 204
    generation.refresh_from_db()
    assert generation.status == "interrupted"


@pytest.mark.parametrize(
    "name, method",
    [
        ("workspace", "get"),
        ("drafts:generate", "post"),
        ("drafts:detail", "get"),
        ("drafts:events", "get"),
        ("drafts:cancel", "post"),
    ],
)
def test_another_users_objects_are_not_found(client, other_user, draft, name, method):
    client.force_login(other_user)
    pk = {
        "workspace": draft.workspace_id,
        "drafts:generate": draft.workspace_id,
        "drafts:detail": draft.pk,
        "drafts:events": draft.generations.get().pk,
        "drafts:cancel": draft.generations.get().pk,
    }[name]

    response = getattr(client, method)(reverse(name, args=[pk]))

    assert response.status_code == 404


def test_post_without_csrf_token_is_refused(user, workspace, product_template):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])

    response = client.post(url, {"version": product_template.current_version().pk})

    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_watcher_can_ask_for_a_bare_final_event(async_client, user, draft):
    """Blind A/B columns re-fetch their own text: the panel (naming the draft) is not sent."""
    await async_client.aforce_login(user)
    generation = await draft.generations.afirst()

    response = await async_client.get(
        reverse("drafts:events", args=[generation.pk]), {"final": "none"}
    )

    body = b"".join([part async for part in response.streaming_content]).decode()
    assert body == "event: done\ndata: \n\n"


def test_a_generated_draft_offers_a_new_variant_of_its_template(client, user, draft):
    client.force_login(user)
    template_id = draft.generations.get().template_version.template_id

    html = client.get(draft.get_absolute_url()).content.decode()

    url = reverse("prompts:experiment_create", args=[draft.workspace_id])
    assert f'href="{url}?template={template_id}"' in html and "New variant" in html


@pytest.fixture
def staged(workspace, product_template, user):
    """The product template in the workspace: production at v1, staging at v2."""
    from prompts.actions import duplicate_template, move_label, save_version

    template = duplicate_template(template=product_template, workspace=workspace, user=user)
    v1 = template.current_version()
    data = {f: getattr(v1, f) for f in ("system_prompt", "variables", "model", "temperature")}
    save_version(template=template, data=data | {"user_prompt": v1.user_prompt + "\nP.S."})
    move_label(template=template, name="production", version=v1, user=user)
    move_label(template=template, name="staging", version=template.latest_version(), user=user)
    return template


def test_the_label_picker_shows_only_for_templates_with_other_labels(
    client, user, workspace, product_template, staged
):
    client.force_login(user)

    plain = client.get(workspace.get_absolute_url(), {"template": product_template.pk})
    page = client.get(workspace.get_absolute_url(), {"template": staged.pk})

    assert "data-label-picker" not in plain.content.decode()
    html = page.content.decode()
    assert "data-label-picker" in html and '<option value="staging"' in html
    v1 = staged.versions.get(number=1)
    assert f'name="version" value="{v1.pk}"' in html and 'name="label"' in html


def test_picking_staging_with_htmx_swaps_in_the_version_it_points_at(
    client, user, workspace, staged
):
    client.force_login(user)

    response = client.get(
        workspace.get_absolute_url(),
        {"template": staged.pk, "label": "staging"},
        headers={**HTMX, "HX-Target": "template-form"},
    )

    html = response.content.decode()
    v2 = staged.versions.get(number=2)
    assert "<html" not in html and f'name="version" value="{v2.pk}"' in html
    assert '<input type="hidden" name="label" value="staging">' in html
    assert '<option value="staging" selected>' in html and "version 2" in html
    unknown = client.get(workspace.get_absolute_url(), {"template": staged.pk, "label": "nope"})
    v1 = staged.versions.get(number=1)
    assert f'name="version" value="{v1.pk}"' in unknown.content.decode()  # production


def test_recent_drafts_leave_out_an_experiment_runs_drafts(
    client, user, workspace, draft, product_template, product_inputs
):
    """Each side-by-side run writes a draft per column: reviewed on the run page, not here."""
    from prompts.actions import duplicate_template
    from prompts.experiments.actions import create_experiment, start_run
    from studio.audit.origin import Origin

    version = duplicate_template(template=product_template, workspace=workspace, user=user)
    variants = [{"name": n, "version": version.current_version()} for n in ("A1", "B1")]
    experiment = create_experiment(workspace=workspace, name="E", user=user, variants=variants)
    start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    client.force_login(user)

    page = client.get(workspace.get_absolute_url())
    alone = client.get(workspace.get_absolute_url(), headers=HTMX | {"HX-Target": "recent-drafts"})

    assert Draft.objects.count() == 3
    assert [d.pk for d in page.context["recent_drafts"]] == [draft.pk]
    assert [d.pk for d in alone.context["recent_drafts"]] == [draft.pk]


def test_a_reopened_draft_fills_the_form_as_it_was_made(client, user, workspace, draft):
    """?draft=N (the draft page's "Open in workspace"): the form holds the inputs of its
    newest generation, at the template version that made it, even after a newer version."""
    from prompts.actions import save_version

    made = draft.generations.get()
    template = made.template_version.template
    v1 = made.template_version
    data = {f: getattr(v1, f) for f in ("system_prompt", "variables", "model", "temperature")}
    save_version(template=template, data=data | {"user_prompt": v1.user_prompt + "\nP.S."})
    Generation.objects.filter(pk=made.pk).update(inputs=made.inputs | {"audience": "night owls"})
    client.force_login(user)

    html = client.get(f"{workspace.get_absolute_url()}?draft={draft.pk}").content.decode()

    assert f'name="version" value="{v1.pk}"' in html
    assert 'value="Aurora desk lamp"' in html and 'value="night owls"' in html
    assert f'id="draft-title-{draft.pk}"' in html  # beside the draft's panel
    detail = client.get(draft.get_absolute_url()).content.decode()
    assert f'href="{workspace.get_absolute_url()}?draft={draft.pk}"' in detail


def test_without_a_draft_the_form_is_empty(client, user, workspace, draft):
    client.force_login(user)

    html = client.get(workspace.get_absolute_url()).content.decode()

    assert 'value="Aurora desk lamp"' not in html


@pytest.mark.django_db(transaction=True)
async def test_final_panels_render_on_their_own_threads_which_keep_a_sqlite_connection(
    async_client, user, draft, monkeypatch
):
    """A stream's final panel renders on the panel threads, not on a fresh thread that must
    open a database connection of its own; on SQLite the connection stays for the next panel
    (PostgreSQL gives its pooled one back)."""
    import threading

    from django.db import connection

    from drafts.views import generations

    seen = []
    render = generations.render_draft_panel

    def recording(draft_id, request):
        html = render(draft_id, request)
        seen.append((threading.current_thread().name, connection.connection))
        return html

    monkeypatch.setattr(generations, "render_draft_panel", recording)
    await async_client.aforce_login(user)
    generation = await draft.generations.afirst()
    for _ in range(2):
        response = await async_client.get(reverse("drafts:events", args=[generation.pk]))
        body = b"".join([part async for part in response.streaming_content]).decode()
        assert "Aurora" in body and "csrfmiddlewaretoken" in body
        await asyncio.sleep(0)
    assert all(name.startswith("final-panel") for name, _ in seen)
    # Each panel thread says what it holds (all of them at once: one each).
    kept = await asyncio.gather(*(asyncio.wrap_future(f) for f in _on_every_panel_thread()))
    if connection.vendor == "sqlite":
        assert any(c is not None for c in kept)  # for the next panel
    else:
        assert all(c is None for c in kept)  # back in the pool


def _connection():
    from django.db import connection

    return connection.connection


def _on_every_panel_thread():
    """``_connection()`` on each of the panel threads: every call waits for the others, so
    no thread runs two of them (the pool picks any idle thread for a lone call)."""
    import threading

    from drafts.views import generations

    count = generations.PANEL_THREADS._max_workers
    barrier = threading.Barrier(count)

    def held():
        barrier.wait(timeout=10)
        return _connection()

    return [generations.PANEL_THREADS.submit(held) for _ in range(count)]


def test_the_final_panel_names_its_template_without_a_query_of_its_own(
    rf, user, draft, django_assert_num_queries
):
    from drafts.panels import render_draft_panel

    request = rf.get("/")
    request.user = user
    generation = draft.generations.get()
    # 10 before decision 19 (the template version had a query of its own), 9 before 25,
    # 6 before 39 (three existence questions of their own)
    with django_assert_num_queries(3):
        html = render_draft_panel(draft.pk, request)
    assert f"?template={generation.template_version.template_id}" in html
