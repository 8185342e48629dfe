"""Single-variant experiments wired into generation: the workspace and the API run the
variant assigned to the user, always the same one, tagged with it; blind hides the badge."""

import json
import re

import pytest
import respx
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.urls import reverse

from drafts import generation as runner
from drafts.models import Generation
from prompts.actions import duplicate_template, save_brand_voice
from prompts.experiments.actions import create_experiment, start_assigned_generation, stop
from prompts.experiments.assignment import assign, subject_for
from prompts.experiments.models import Experiment, ExperimentRun, VariantRun
from prompts.experiments.results import rewrites
from studio.api.actions import create_api_key
from studio.audit.origin import Origin
from studio.workspaces.models import Membership
from tests.conftest import CHAT_URL, sse_body, sse_response

HTMX = {"HX-Request": "true"}


@pytest.fixture
def template(workspace, product_template, user):
    return duplicate_template(template=product_template, workspace=workspace, user=user)


def _single(workspace, template, user, *, blind=False, weights=(1, 1)):
    voice = save_brand_voice(workspace=workspace, name="House", text="Short and warm.")
    version = template.current_version()
    return create_experiment(
        workspace=workspace,
        name="Cooler copy?",
        user=user,
        blind=blind,
        mode=Experiment.Mode.SINGLE,
        variants=[
            {"name": "Current", "version": version, "weight": weights[0]},
            {
                "name": "Cool",
                "version": version,
                "weight": weights[1],
                "model": "deepseek-v4-pro",
                "temperature": 0.2,
                "brand_voice_version": voice,
            },
        ],
    )


def _generate(workspace, template, user, inputs):
    return start_assigned_generation(
        origin=Origin(),
        loop=None,
        workspace=workspace,
        version=template.current_version(),
        inputs=inputs,
        user=user,
        subject=subject_for(user),
    )


def test_the_same_user_always_runs_the_same_variant_with_its_overrides(
    workspace, template, user, product_inputs
):
    experiment = _single(workspace, template, user)
    expected = assign(experiment.pk, f"user:{user.pk}", list(experiment.variants.order_by("pk")))

    generations = [_generate(workspace, template, user, product_inputs) for _ in range(6)]

    columns = VariantRun.objects.filter(generation__in=generations).select_related("variant")
    assert {c.variant for c in columns} == {expected}
    assert columns.count() == 6 and ExperimentRun.objects.filter(experiment=experiment).count() == 6
    assert all(c.position == 0 for c in columns)
    params = expected.generation_params()
    for generation in generations:
        generation.refresh_from_db()
        assert generation.model == params["model"] and generation.params == params
        assert generation.messages == expected.build_messages(product_inputs)
        assert generation.status == Generation.Status.QUEUED


def test_a_handful_of_users_get_their_hashed_variant_and_both_arms_are_used(
    workspace, template, user, product_inputs
):
    experiment = _single(workspace, template, user)
    variants = list(experiment.variants.order_by("pk"))
    users = [user] + [get_user_model().objects.create_user(f"editor{n}") for n in range(15)]
    seen = set()
    for person in users:
        Membership.objects.get_or_create(workspace=workspace, user=person)
        generation = _generate(workspace, template, person, product_inputs)
        variant = VariantRun.objects.get(generation=generation).variant
        assert variant == assign(experiment.pk, f"user:{person.pk}", variants)
        seen.add(variant.name)
    assert seen == {"Current", "Cool"}


def test_weights_are_respected_and_a_zero_weight_variant_never_runs(
    workspace, template, user, product_inputs
):
    _single(workspace, template, user, weights=(0, 1))
    for _ in range(3):
        generation = _generate(workspace, template, user, product_inputs)
        assert VariantRun.objects.get(generation=generation).variant.name == "Cool"


def test_side_by_side_stopped_or_other_experiments_leave_generation_alone(
    workspace, template, user, product_inputs
):
    version = template.current_version()
    create_experiment(
        workspace=workspace,
        name="Side by side",
        user=user,
        variants=[{"name": "A", "version": version}, {"name": "B", "version": version}],
    )
    experiment = _single(workspace, template, user)
    stop(experiment=experiment)

    generation = _generate(workspace, template, user, product_inputs)

    assert not VariantRun.objects.filter(generation=generation).exists()
    assert generation.params == version.generation_params()


def test_the_deciding_experiment_is_read_with_sql_compiled_once(
    workspace, template, product_template, user, product_inputs, compiles, monkeypatch
):
    """Every Generate asks which single-variant experiment decides it: the newest running one
    of this workspace and template, with one compile for every workspace and template
    (studio.tuning 7)."""
    from prompts.experiments import actions

    monkeypatch.setattr(
        actions,
        "_SINGLE_VARIANT",
        type(actions._SINGLE_VARIANT)(Experiment.objects.single_variant_of),
    )  # as in a new process
    older, newer = _single(workspace, template, user), _single(workspace, template, user)
    compiles.clear()

    tagged = _generate(workspace, template, user, product_inputs)
    other = duplicate_template(template=product_template, workspace=workspace, user=user)
    plain = _generate(workspace, other, user, product_inputs)  # no experiment on that one
    stop(experiment=newer)
    after = _generate(workspace, template, user, product_inputs)

    read = 'FROM "prompts_experiment" INNER JOIN "prompts_variant"'
    assert len([sql for sql in compiles if read in sql]) == 1

    def experiment(generation):
        run = VariantRun.objects.filter(generation=generation).select_related("variant").first()
        return run and run.variant.experiment

    assert (experiment(tagged), experiment(plain), experiment(after)) == (newer, None, older)


def test_the_workspace_runs_the_assigned_variant_and_shows_its_badge(
    client, workspace, template, user, product_inputs, launched
):
    experiment = _single(workspace, template, user, blind=False)
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])
    data = {"version": template.current_version().pk, **product_inputs}

    response = client.post(url, data, headers=HTMX)

    generation = Generation.objects.get(pk=launched[0])
    column = VariantRun.objects.select_related("variant").get(generation=generation)
    assert column.run.experiment == experiment
    html = response.content.decode()
    assert "data-variant-badge" in html and f"Variant: {column.variant.name}" in html
    page = client.get(reverse("drafts:detail", args=[generation.draft_id]))
    assert f"Variant: {column.variant.name}" in page.content.decode()


def test_a_blind_experiment_never_names_the_variant_in_the_workspace(
    client, workspace, template, user, product_inputs, launched
):
    _single(workspace, template, user, blind=True)
    client.force_login(user)
    url = reverse("drafts:generate", args=[workspace.pk])

    response = client.post(url, {"version": template.current_version().pk, **product_inputs})

    generation = Generation.objects.get(pk=launched[0])
    assert VariantRun.objects.filter(generation=generation).exists()
    page = client.get(response["Location"])
    assert "data-variant-badge" not in page.content.decode()
    detail = client.get(generation.draft.get_absolute_url())
    assert "data-variant-badge" not in detail.content.decode()


def test_the_api_runs_the_keys_users_variant(
    client, workspace, template, user, product_inputs, launched
):
    experiment = _single(workspace, template, user)
    expected = assign(experiment.pk, f"user:{user.pk}", list(experiment.variants.order_by("pk")))
    auth = {"Authorization": f"Bearer {create_api_key(user=user, name='CMS')[1]}"}

    for _ in range(3):
        response = client.post(
            f"/api/ai/workspaces/{workspace.pk}/drafts",
            {"template": template.pk, "inputs": product_inputs},
            content_type="application/json",
            headers=auth,
        )
        assert response.status_code == 202, response.json()
        assert response.json()["model"] == expected.generation_params()["model"]

    variants = VariantRun.objects.filter(generation_id__in=launched).values_list(
        "variant__name", flat=True
    )
    assert list(variants) == [expected.name] * 3


def test_declaring_a_single_variant_winner_attaches_the_edit_evidence(
    workspace, template, user, product_inputs
):
    from drafts.actions import finish_generation
    from prompts.experiments.actions import declare_winner
    from prompts.models import LabelChange

    experiment = _single(workspace, template, user, weights=(0, 1))
    generation = _generate(workspace, template, user, product_inputs)
    finish_generation(
        generation_id=generation.pk, status="done", text="Warm.", reasoning="", fields={}
    )
    cool = experiment.variants.get(name="Cool")

    declare_winner(experiment=experiment, variant=cool, user=user)

    evidence = LabelChange.objects.filter(template=template).latest("pk").evidence
    assert (evidence["drafts"], evidence["approved"], evidence["rewritten"]) == (1, 0, 0.0)


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_the_assigned_variant_reaches_deepseek_end_to_end(
    async_client, workspace, template, user, product_inputs
):
    """Through the real runner: the request upstream carries the variant's model, temperature
    and messages, and the finished draft counts in the variant's results."""
    experiment = await sync_to_async(_single)(workspace, template, user, weights=(0, 1))
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Cool ", "copy."])))
    await async_client.aforce_login(user)
    version = await sync_to_async(template.current_version)()
    url = reverse("drafts:generate", args=[workspace.pk])

    await async_client.post(url, {"version": version.pk, **product_inputs}, headers=HTMX)

    generation = await Generation.objects.aget()
    if task := runner.task_for(generation.pk):
        await task
    sent = json.loads(route.calls.last.request.content)
    assert sent["model"] == "deepseek-v4-pro" and sent["temperature"] == 0.2
    assert sent["messages"] == generation.messages  # the variant's, checked above
    edits = await sync_to_async(lambda: rewrites(experiment))()
    cool = await experiment.variants.aget(name="Cool")
    assert edits[cool.pk].drafts == 1 and edits[cool.pk].rewritten == 0


def test_the_experiment_page_explains_assignment_and_shows_the_split(
    client, workspace, template, user, product_inputs
):
    """No side-by-side form: how assignment works, generations per variant, a results link."""
    experiment = _single(workspace, template, user, weights=(1, 3))
    generations = [_generate(workspace, template, user, product_inputs) for _ in range(3)]
    assigned = VariantRun.objects.get(generation=generations[0]).variant
    client.force_login(user)

    html = client.get(experiment.get_absolute_url()).content.decode()

    assert "data-single-variant" in html and "they are assigned one variant" in html
    assert 'id="run-form"' not in html and "Run every variant" not in html
    assert 'id="run-area"' not in html
    results = reverse("prompts:experiment_results", args=[workspace.pk, experiment.pk])
    assert f'href="{results}"' in html and "data-results-link" in html
    other = next(v for v in experiment.variants.all() if v != assigned)
    expected = {"Current": 25, "Cool": 75}[assigned.name]  # weights 1 and 3
    assert re.search(
        rf'data-share="{assigned.name}">.*?data-count>3<.*?100%.*?{expected}%', html, re.S
    )
    assert re.search(rf'data-share="{other.name}">.*?data-count>0<', html, re.S)
    assert "Recent assigned generations" in html and "to vote" not in html


def test_a_side_by_side_run_is_refused_for_a_single_variant_experiment(
    client, workspace, template, user, product_inputs, launched
):
    experiment = _single(workspace, template, user)
    client.force_login(user)
    url = reverse("prompts:run_start", args=[workspace.pk, experiment.pk])

    response = client.post(url, product_inputs, follow=True)

    assert "it runs no variants side by side" in response.content.decode()
    assert response.redirect_chain == [(experiment.get_absolute_url(), 302)]
    htmx = client.post(url, product_inputs, headers=HTMX)
    assert htmx.status_code == 409 and htmx["HX-Retarget"] == "#toasts"
    assert "it runs no variants side by side" in htmx.content.decode()
    assert not ExperimentRun.objects.exists() and not Generation.objects.exists()
    assert launched == []


def test_the_results_page_tests_the_approvals_between_variants(
    client, workspace, template, user, product_inputs
):
    """Fisher's exact test on approved drafts out of drafts, in plain words."""
    from drafts.actions import finish_generation
    from drafts.models import Draft

    experiment = _single(workspace, template, user)
    variants = list(experiment.variants.order_by("pk"))
    people = [get_user_model().objects.create_user(f"writer{n}") for n in range(60)]
    per_variant = {v.pk: [] for v in variants}
    for person in people:
        Membership.objects.get_or_create(workspace=workspace, user=person)
        generation = _generate(workspace, template, person, product_inputs)
        finish_generation(
            generation_id=generation.pk, status="done", text="Copy.", reasoning="", fields={}
        )
        per_variant[VariantRun.objects.get(generation=generation).variant_id].append(generation)
    first, second = (per_variant[v.pk][:10] for v in variants)
    assert len(first) == len(second) == 10
    # 8 of the first variant's 10 drafts approved, 2 of the second's: Fisher's p = 0.023.
    approved = [g.draft_id for g in first[:8] + second[:2]]
    Draft.objects.filter(pk__in=approved).update(status=Draft.Status.APPROVED)
    extra = [g.draft_id for v in variants for g in per_variant[v.pk][10:]]
    Draft.objects.filter(pk__in=extra).delete()
    client.force_login(user)

    html = client.get(
        reverse("prompts:experiment_results", args=[workspace.pk, experiment.pk])
    ).content.decode()

    statement = re.search(r"data-approval-statement>(.*?)</p>", html, re.S).group(1)
    assert statement == (
        f"{variants[0].name} is approved more often than {variants[1].name}: 80% of 10 drafts "
        "against 20% of 10, p=0.023, Fisher&#x27;s exact test."
    )


def test_an_explicitly_picked_label_runs_its_version_unassigned(
    workspace, template, user, product_inputs
):
    """Staging picked in the workspace or the API is that version, not the assigned variant."""
    from prompts.actions import move_label

    _single(workspace, template, user, weights=(0, 1))  # everyone gets Cool
    version = template.current_version()
    move_label(template=template, name="staging", version=version, user=user)

    picked = start_assigned_generation(
        origin=Origin(),
        loop=None,
        workspace=workspace,
        version=version,
        inputs=product_inputs,
        user=user,
        subject=subject_for(user),
        label="staging",
    )
    forged = start_assigned_generation(
        origin=Origin(),
        loop=None,
        workspace=workspace,
        version=version,
        inputs=product_inputs,
        user=user,
        subject=subject_for(user),
        label="nonexistent",
    )

    assert not hasattr(picked, "variant_run") and picked.template_version == version
    assert picked.params == version.generation_params()
    assert VariantRun.objects.get(generation=forged).variant.name == "Cool"
