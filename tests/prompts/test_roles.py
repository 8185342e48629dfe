"""Prompts pages show reviewers no editing control they would be refused (the views still
answer 403 to their POSTs: tests/workspaces/test_roles.py sweeps every unsafe route)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from drafts import generation as runner
from prompts.actions import save_brand_voice
from prompts.experiments.actions import start_run
from studio.audit.origin import Origin
from studio.workspaces.actions import add_member
from tests.prompts.experiments.test_views import experiment, own_template  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(client, workspace, other_user):
    add_member(workspace=workspace, user=other_user, role="reviewer")
    client.force_login(other_user)
    return client


def _main(response) -> str:
    """The page's own content (the layout's language and sign-out forms left out)."""
    html = response.content.decode()
    return html[html.index('<main id="main"') : html.index("</main>")]


def _live_run(experiment, inputs, user):  # noqa: F811
    """A run whose columns are still generating (their heartbeat says so)."""
    run = start_run(origin=Origin(), experiment=experiment, inputs=inputs, user=user)
    for generation_id in run.columns.values_list("generation_id", flat=True):
        cache.set(runner.alive_key(generation_id), 1, runner.HEARTBEAT_TTL)
    return run


def test_a_reviewer_sees_the_columns_stream_without_a_stop_button(
    client,
    reviewer,
    user,
    experiment,  # noqa: F811
    product_inputs,
):
    run = _live_run(experiment, product_inputs, user)
    html = reviewer.get(run.get_absolute_url()).content.decode()
    assert html.count("sse-connect") == 2 and "data-column-stop" not in html
    assert "data-vote-form" in html  # reviewing is theirs
    column = run.columns.first()
    url = reverse("drafts:cancel", args=[column.generation_id])
    assert reviewer.post(url).status_code == 403

    client.force_login(user)
    html = client.get(run.get_absolute_url()).content.decode()
    assert html.count("data-column-stop") == 2


def test_a_reviewer_gets_no_side_by_side_form(reviewer, experiment):  # noqa: F811
    html = reviewer.get(experiment.get_absolute_url()).content.decode()
    assert 'id="run-form"' in html and "Run every variant" not in html


def test_reviewers_read_templates_and_voices_without_edit_forms(
    reviewer,
    user,
    workspace,
    own_template,  # noqa: F811
):
    voice = save_brand_voice(workspace=workspace, name="House", text="Warm.", user=user)
    voice_html = _main(reviewer.get(voice.voice.get_absolute_url()))
    assert "data-read-only" in voice_html and 'method="post"' not in voice_html

    edit = reverse("prompts:edit", args=[workspace.pk, own_template.pk])
    edit_html = reviewer.get(edit).content.decode()
    assert "data-read-only" in edit_html and "Save as new version" not in edit_html

    detail_html = _main(reviewer.get(own_template.get_absolute_url()))
    assert 'method="post"' not in detail_html

    create = reverse("prompts:experiment_create", args=[workspace.pk])
    create_html = reviewer.get(create).content.decode()
    assert "data-read-only" in create_html and "data-experiment-form" not in create_html
