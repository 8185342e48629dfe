"""The workspace's Generate (prompts.experiments.views.generate, routed as drafts:generate): the
form's errors come back inline, a valid one starts a generation that streams into a new draft,
and what the guardrails refuse is explained in the form."""

import json

import pytest
import respx
from django.urls import reverse

from drafts import generation as runner
from drafts.models import Draft, DraftVersion, Generation
from tests.conftest import CHAT_URL, sse_body, sse_response, studio_trips
from tests.drafts import test_views

HTMX = {"HX-Request": "true"}
staged = test_views.staged  # the product template with production at v1, staging at v2


def test_invalid_form_comes_back_inline_with_errors(client, user, workspace, product_template):
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])
    data = {"version": product_template.current_version().pk, "words": "5"}

    response = client.post(url, data, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#template-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert "This field is required." in html
    assert "greater than or equal to 30" in html
    assert not Draft.objects.exists()


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_streams_into_a_draft_saved_as_version_one(
    async_client, user, workspace, product_template, product_inputs
):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Meet ", "*Aurora*"])))
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()
    url = reverse("drafts:generate", args=[workspace.pk])

    response = await async_client.post(url, {"version": version.pk, **product_inputs}, headers=HTMX)

    html = response.content.decode()
    generation = await Generation.objects.aget()
    assert response.status_code == 200
    assert f'sse-connect="/generations/{generation.pk}/events/?after=0"' in html
    assert 'sse-close="done"' in html and 'hx-swap="beforeend"' in html
    assert f"draft={generation.draft_id}" in response["HX-Push-Url"]
    assert "drafts-changed" in json.loads(response["HX-Trigger"])  # Recent drafts refreshes
    if task := runner.task_for(generation.pk):  # it may have finished already
        await task
    saved = await DraftVersion.objects.aget(draft_id=generation.draft_id)
    assert (saved.number, saved.text) == (1, "Meet *Aurora*")

    page = await async_client.get(reverse("drafts:detail", args=[generation.draft_id]))
    assert "<em>Aurora</em>" in page.content.decode()  # survives a reload, rendered


@pytest.mark.django_db(transaction=True)
async def test_generate_asks_deepseek_after_one_trip_past_the_middleware(
    async_client, user, workspace, product_template, product_inputs, thread_trips, monkeypatch
):
    """Each trip to a thread before the launch is time to the first token: the role check
    runs in the process_view hooks' trip (RoleCheckMiddleware), everything ``_start`` does
    in one more, and the role check's user is the view's."""
    trips_at_launch: list[list[str]] = []
    monkeypatch.setattr(runner, "launch", lambda _: trips_at_launch.append(list(thread_trips)))
    await async_client.aforce_login(user)
    version = await product_template.versions.afirst()
    thread_trips.clear()

    await async_client.post(
        reverse("drafts:generate", args=[workspace.pk]),
        {"version": version.pk, **product_inputs},
        headers=HTMX,
    )

    [trips] = trips_at_launch
    # The process_view hooks' trip (the role check among them), then the view's own.
    assert studio_trips(trips) == ["prompts.experiments.views.generate._start"]


@pytest.mark.django_db
def test_a_non_member_s_generate_is_a_404(client, user, other_user, workspace, product_template):
    client.force_login(other_user)
    version = product_template.current_version()

    response = client.post(reverse("drafts:generate", args=[workspace.pk]), {"version": version.pk})

    assert response.status_code == 404 and not Draft.objects.exists()


def test_generate_without_htmx_redirects_to_the_draft(client, user, workspace, product_template):
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])
    response = client.post(url, {"version": product_template.current_version().pk})
    assert response.status_code == 200 and b"This field is required." in response.content


def test_a_blocked_prompt_is_refused_with_a_message_naming_why(
    client, user, workspace, product_template, product_inputs
):
    client.force_login(user)
    data = {
        "version": product_template.current_version().pk,
        **product_inputs,
        "features": "my key is sk-abcdefghijklmnopqrstuvwxyz123456",
    }

    response = client.post(reverse("drafts:generate", args=[workspace.pk]), data, headers=HTMX)

    assert response["HX-Retarget"] == "#template-form"
    assert "secret" in response.content.decode().lower()
    assert not Draft.objects.exists()


def test_an_exhausted_daily_budget_is_explained_in_the_form(
    client, user, workspace, product_template, product_inputs, settings
):
    from studio.audit.recording import record_ai_call

    settings.AI_DAILY_TOKEN_BUDGET = 100
    record_ai_call(status="done", user=user, prompt_tokens=90, completion_tokens=20)
    client.force_login(user)
    data = {"version": product_template.current_version().pk, **product_inputs}

    response = client.post(reverse("drafts:generate", args=[workspace.pk]), data, headers=HTMX)

    assert "budget" in response.content.decode().lower()
    assert not Draft.objects.exists()


def test_generating_with_staging_records_the_version_it_points_at(
    client, user, workspace, staged, product_inputs, monkeypatch
):
    monkeypatch.setattr(runner, "launch", lambda generation: None)
    client.force_login(user)
    v2 = staged.labelled("staging")
    url = reverse("drafts:generate", args=[workspace.pk])

    response = client.post(url, {"version": v2.pk, "label": "staging", **product_inputs})

    assert response.status_code == 302
    generation = Generation.objects.get()
    assert generation.template_version == v2 and generation.draft.template_version == v2
    assert "P.S." in generation.messages[1]["content"]
    # The page it lands on (and a reload of it) keeps the picked label.
    assert response["Location"].endswith(f"&draft={generation.draft_id}&label=staging")


def test_a_version_of_another_workspaces_template_is_not_found(
    client, user, other_user, workspace, product_template, product_inputs, launched
):
    """The version comes by its key; the workspace's rule (its own templates and the shared
    library, ``PromptTemplate.is_offered_in``) decides whether it may run here."""
    from prompts.actions import duplicate_template
    from studio.workspaces.actions import create_workspace

    elsewhere = create_workspace(name="Elsewhere", owner=other_user)
    theirs = duplicate_template(template=product_template, workspace=elsewhere, user=other_user)
    ours = duplicate_template(template=product_template, workspace=workspace, user=user)
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])

    def generate(template) -> int:
        data = {"version": template.current_version().pk, **product_inputs}
        return client.post(url, data, headers=HTMX).status_code

    assert generate(theirs) == 404 and launched == []
    assert generate(ours) == 200 and generate(product_template) == 200  # its own, the library
    assert len(launched) == 2


def test_the_generate_reads_its_version_with_sql_compiled_once(
    client, user, workspace, product_template, product_inputs, launched, compiles, monkeypatch
):
    """Every Generate reads the form's version by its key: the same row (and template) as
    the queryset's, one compile however many Generates and versions (studio.tuning 7)."""
    from prompts.actions import duplicate_template
    from prompts.experiments.views import generate as view

    monkeypatch.setattr(view, "_VERSION", type(view._VERSION)(view._VERSION.build))  # new process
    ours = duplicate_template(template=product_template, workspace=workspace, user=user)
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])
    compiles.clear()

    for template in (product_template, ours):
        data = {"version": template.current_version().pk, **product_inputs}
        assert client.post(url, data, headers=HTMX).status_code == 200
    for missing in ("0", "9" * 19, "x"):  # no such row; past bigint (no key: not read)
        assert client.post(url, {"version": missing}, headers=HTMX).status_code == 404

    read = 'FROM "prompts_templateversion" INNER JOIN "prompts_prompttemplate"'
    assert len([sql for sql in compiles if read in sql]) == 1
    versions = [g.template_version for g in Generation.objects.order_by("pk")]
    assert [v.template for v in versions] == [product_template, ours] and len(launched) == 2


def test_a_plain_generate_s_panel_asks_nothing_of_experiment_columns(
    client, user, workspace, product_template, product_inputs, monkeypatch
):
    """No experiment ran it: the live panel knows without a query (a variant's generation
    comes back with its column: tests/prompts/test_single_variant.py shows its badge)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(runner, "launch", lambda generation: None)
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])
    data = {"version": product_template.current_version().pk, **product_inputs}

    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data, headers=HTMX)

    assert response.status_code == 200 and "data-variant-badge" not in response.content.decode()
    assert not [q for q in queries if 'FROM "prompts_variantrun"' in q["sql"]]
