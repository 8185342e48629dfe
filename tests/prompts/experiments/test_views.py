"""Experiment pages: membership, create, side-by-side runs, blind votes, results, winner."""

import json
import re

import pytest
import respx
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from drafts import generation as runner
from drafts.actions import add_version
from drafts.models import DraftVersion, Generation
from prompts.actions import duplicate_template, save_version
from prompts.experiments.actions import cast_vote, create_experiment, start_run, stop
from prompts.experiments.models import Experiment, ExperimentRun, Vote
from prompts.models import PromptTemplate
from studio.audit.origin import Origin
from studio.workspaces.actions import create_workspace
from tests.conftest import CHAT_URL, sse_body, sse_response

HTMX = {"HX-Request": "true"}


@pytest.fixture
def own_template(workspace, product_template, user):
    """The demo product template copied into the workspace, with a second version."""
    template = duplicate_template(template=product_template, workspace=workspace, user=user)
    v1 = template.current_version()
    data = {f: getattr(v1, f) for f in ("system_prompt", "variables", "model", "thinking")}
    data |= {"user_prompt": v1.user_prompt + "\nEnd with a question.", "temperature": None}
    save_version(template=template, data=data, user=user, note="Ends with a question")
    return template


@pytest.fixture
def experiment(workspace, own_template, user):
    v1, v2 = own_template.versions.order_by("number")
    return create_experiment(
        workspace=workspace,
        name="Questions sell?",
        user=user,
        variants=[{"name": "Plain", "version": v1}, {"name": "Question", "version": v2}],
    )


def finished_run(experiment, inputs, user, texts=("**Bold** plain", "A question?")):
    run = start_run(origin=Origin(), experiment=experiment, inputs=inputs, user=user)
    for column, text in zip(run.columns.order_by("position"), texts, strict=True):
        Generation.objects.filter(pk=column.generation_id).update(status="done", text=text)
    return run


def _url(name, *args):
    return reverse(f"prompts:{name}", args=args)


def test_experiment_pages_need_membership(
    client, other_user, workspace, experiment, product_inputs, user
):
    run = finished_run(experiment, product_inputs, user)
    client.force_login(other_user)
    ws, pk = workspace.pk, experiment.pk
    gets = [
        _url("experiments", ws),
        _url("experiment_create", ws),
        _url("experiment", ws, pk),
        _url("experiment_results", ws, pk),
        _url("run", ws, run.pk),
        _url("run_column", ws, run.columns.first().pk),
    ]
    posts = [_url("run_start", ws, pk), _url("run", ws, run.pk), _url("experiment_results", ws, pk)]
    assert [client.get(url).status_code for url in gets] == [404] * len(gets)
    assert [client.post(url, {"choice": "A"}).status_code for url in posts] == [404] * 3
    assert not Vote.objects.exists()


def test_another_workspaces_experiment_is_not_found_from_mine(
    client, user, other_user, workspace, experiment
):
    theirs = create_workspace(name="Theirs", owner=other_user)
    Experiment.objects.filter(pk=experiment.pk).update(workspace=theirs)
    client.force_login(user)
    assert client.get(_url("experiment", workspace.pk, experiment.pk)).status_code == 404


def test_library_page_links_to_experiments_and_the_list_has_an_empty_state(
    client, user, workspace, demo_templates
):
    client.force_login(user)
    library = client.get(_url("list", workspace.pk)).content.decode()
    assert f'href="{_url("experiments", workspace.pk)}"' in library

    html = client.get(_url("experiments", workspace.pk)).content.decode()
    assert "No experiments yet." in html
    assert f'href="{_url("experiment_create", workspace.pk)}"' in html


def test_list_shows_experiments_with_votes_and_hides_archived(
    client, user, workspace, experiment, product_inputs
):
    run = finished_run(experiment, product_inputs, user)
    cast_vote(run=run, voter=user, choice="tie")
    archived = create_experiment(
        workspace=workspace,
        name="Old idea",
        user=user,
        variants=[{"name": v.name, "version": v.version} for v in experiment.variants.all()],
    )
    stop(experiment=archived, archive=True)
    client.force_login(user)

    html = client.get(_url("experiments", workspace.pk)).content.decode()

    assert "Questions sell?" in html and "1 vote" in html and "1 run" in html
    assert html.index("data-experiments") < html.index("Questions sell?")
    assert html.index("data-archived") < html.index("Old idea")  # only under "archived"


def test_create_page_starts_with_two_variants_and_blind_review(
    client, user, workspace, own_template
):
    client.force_login(user)

    html = client.get(_url("experiment_create", workspace.pk), {"template": own_template.pk})

    page = html.content.decode()
    assert "<html" in page and 'id="variant-fields"' in page
    assert 'name="blind"' in page and "checked" in page.split('name="blind"')[1].split(">")[0]
    assert page.count('name="variants-') >= 4 * 6  # four rows of six fields
    assert 'name="variants-TOTAL_FORMS" value="4"' in page


def test_picking_another_template_with_htmx_returns_only_its_variant_rows(
    client, user, workspace, own_template, demo_templates
):
    email = next(t for t in demo_templates if t.slug == "marketing-email")
    client.force_login(user)

    response = client.get(
        _url("experiment_create", workspace.pk),
        {"template": email.pk},
        headers={**HTMX, "HX-Target": "variant-fields"},
    )

    html = response.content.decode()
    assert "<html" not in html and html.strip().startswith('<fieldset id="variant-fields"')
    version = email.current_version()
    assert f'<option value="{version.pk}" selected>' in html
    assert "library template" in html  # it cannot be promoted without a copy
    assert str(own_template.latest_version().pk) not in html.split("variants-0-version")[1][:400]


def _create_data(template, **changes):
    v1, v2 = template.versions.order_by("number")
    data = {
        "name": "Questions sell?",
        "hypothesis": "A closing question gets replies",
        "template": template.pk,
        "blind": "on",
        "variants-TOTAL_FORMS": "4",
        "variants-INITIAL_FORMS": "0",
        "variants-0-version": v1.pk,
        "variants-0-name": "",
        "variants-0-weight": "1",
        "variants-1-version": v2.pk,
        "variants-1-name": "Question",
        "variants-1-temperature": "0.3",
        "variants-1-weight": "3",
        "variants-2-weight": "1",
        "variants-3-weight": "1",
    }
    return data | changes


def test_creating_an_experiment_saves_its_variants_and_overrides(
    client, user, workspace, own_template
):
    client.force_login(user)

    response = client.post(_url("experiment_create", workspace.pk), _create_data(own_template))

    experiment = Experiment.objects.get()
    assert response.status_code == 302 and response["Location"] == experiment.get_absolute_url()
    assert experiment.blind and experiment.hypothesis == "A closing question gets replies"
    plain, question = experiment.variants.all()
    assert (plain.name, plain.version.number, plain.temperature) == ("v1", 1, None)
    assert (question.name, question.version.number) == ("Question", 2)
    assert (question.temperature, question.weight) == (0.3, 3)


def test_create_without_blind_review(client, user, workspace, own_template):
    client.force_login(user)
    data = _create_data(own_template)
    del data["blind"]
    client.post(_url("experiment_create", workspace.pk), data)
    assert Experiment.objects.get().blind is False


def test_create_in_single_variant_mode(client, user, workspace, own_template):
    client.force_login(user)
    page = client.get(_url("experiment_create", workspace.pk)).content.decode()
    assert 'name="mode"' in page and 'value="single"' in page
    client.post(_url("experiment_create", workspace.pk), _create_data(own_template, mode="single"))
    experiment = Experiment.objects.get()
    assert experiment.is_single_variant and experiment.mode == Experiment.Mode.SINGLE
    results = client.get(_url("experiment_results", workspace.pk, experiment.pk))
    assert 'data-mode="single"' in results.content.decode()


def test_one_variant_is_refused_and_the_input_is_kept(client, user, workspace, own_template):
    client.force_login(user)
    data = _create_data(own_template, **{"variants-1-version": "", "variants-1-name": ""})
    data["variants-1-temperature"] = ""

    response = client.post(_url("experiment_create", workspace.pk), data)

    html = response.content.decode()
    assert response.status_code == 200 and not Experiment.objects.exists()
    assert "Pick a version for at least two variants." in html
    assert 'value="Questions sell?"' in html and "A closing question gets replies" in html


def test_a_row_with_overrides_but_no_version_says_so(client, user, workspace, own_template):
    client.force_login(user)
    data = _create_data(own_template, **{"variants-2-temperature": "0.5"})

    response = client.post(_url("experiment_create", workspace.pk), data)

    assert "Pick a version for this variant, or clear its row." in response.content.decode()
    assert not Experiment.objects.exists()


def test_versions_of_another_workspaces_template_are_refused(
    client, user, other_user, workspace, own_template
):
    theirs = create_workspace(name="Theirs", owner=other_user)
    secret = PromptTemplate.objects.create(workspace=theirs, slug="s", name="S", purpose="copy")
    version = save_version(
        template=secret, data={"system_prompt": "Secret", "user_prompt": "x"}, user=other_user
    )[0]
    client.force_login(user)

    response = client.post(
        _url("experiment_create", workspace.pk),
        _create_data(own_template, **{"variants-1-version": version.pk}),
    )

    assert "Select a valid choice" in response.content.decode()
    assert not Experiment.objects.exists()


def test_experiment_page_shows_the_shared_form(client, user, workspace, experiment):
    client.force_login(user)

    html = client.get(experiment.get_absolute_url()).content.decode()

    assert 'id="run-form"' in html and 'name="product_name"' in html
    assert f'hx-post="{_url("run_start", workspace.pk, experiment.pk)}"' in html
    assert "No runs yet" in html


def test_run_without_htmx_starts_every_variant_and_redirects(
    client, user, workspace, experiment, product_inputs, launched
):
    client.force_login(user)

    response = client.post(_url("run_start", workspace.pk, experiment.pk), product_inputs)

    run = ExperimentRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    generation_ids = set(run.columns.values_list("generation_id", flat=True))
    assert set(launched) == generation_ids and len(generation_ids) == 2


def test_run_with_htmx_streams_blind_columns_and_pushes_the_run_url(
    client, user, workspace, experiment, product_inputs, launched
):
    client.force_login(user)

    response = client.post(
        _url("run_start", workspace.pk, experiment.pk), product_inputs, headers=HTMX
    )

    html = response.content.decode()
    run = ExperimentRun.objects.get()
    assert "<html" not in html and html.strip().startswith('<div id="run"')
    assert response["HX-Push-Url"] == run.get_absolute_url()
    assert "runs-changed" in json.loads(response["HX-Trigger"])  # Recent runs refreshes
    for column in run.columns.all():
        url = f"/generations/{column.generation_id}/events/?after=0&amp;final=none"
        assert f'sse-connect="{url}"' in html  # no draft panel in the final event
        column_url = _url("run_column", workspace.pk, column.pk)
        assert f'hx-get="{column_url}" hx-trigger="sse:done"' in html
    assert 'data-column="A"' in html and 'data-column="B"' in html
    # Blind: nothing on the page says which column is which variant.
    assert "Plain" not in html and "Question" not in html and "data-variant" not in html


def test_invalid_inputs_come_back_inline_and_start_nothing(
    client, user, workspace, experiment, launched
):
    client.force_login(user)
    url = _url("run_start", workspace.pk, experiment.pk)

    response = client.post(url, {"product_name": "Lamp", "words": "5"}, headers=HTMX)

    html = response.content.decode()
    assert response["HX-Retarget"] == "#run-form" and response["HX-Reswap"] == "outerHTML"
    assert "This field is required." in html and 'value="Lamp"' in html
    full = client.post(url, {"product_name": "Lamp"})
    assert full.status_code == 200 and "<html" in full.content.decode()
    assert not ExperimentRun.objects.exists() and launched == []


def test_a_stopped_experiment_runs_no_more(
    client, user, workspace, experiment, product_inputs, launched
):
    stop(experiment=experiment)
    client.force_login(user)

    page = client.get(experiment.get_absolute_url()).content.decode()
    response = client.post(
        _url("run_start", workspace.pk, experiment.pk), product_inputs, headers=HTMX
    )

    assert "This experiment is stopped" in page and 'id="run-form"' in page
    assert "This experiment is stopped" in response.content.decode()
    assert not ExperimentRun.objects.exists() and launched == []


def test_run_page_full_and_as_a_partial(client, user, workspace, experiment, product_inputs):
    run = finished_run(experiment, product_inputs, user)
    client.force_login(user)

    full = client.get(run.get_absolute_url()).content.decode()
    partial = client.get(run.get_absolute_url(), headers=HTMX).content.decode()

    assert "<html" in full and 'id="vote-panel"' in full and "data-vote-form" in full
    assert "<html" not in partial and partial.strip().startswith('<div id="run"')
    assert "<strong>Bold</strong>" in full and "sse-connect" not in full


def test_voting_with_htmx_records_the_vote_and_reveals_the_columns(
    client, user, workspace, experiment, product_inputs
):
    run = finished_run(experiment, product_inputs, user)
    left = run.columns.get(position=0).variant
    client.force_login(user)
    before = client.get(run.get_absolute_url()).content.decode()

    response = client.post(
        run.get_absolute_url(), {"choice": "A", "reason": "  clearer  "}, headers=HTMX
    )

    html = response.content.decode()
    vote = Vote.objects.get()
    assert (vote.choice, vote.winner, vote.reason, vote.voter) == ("variant", left, "clearer", user)
    assert "data-variant" not in before
    assert "<html" not in html and html.strip().startswith('<div id="run"')
    assert f"You picked A: {left.name}." in html and "data-reveal" in html
    assert html.count("data-variant>") == 2
    assert "runs-changed" in json.loads(response["HX-Trigger"])  # "to vote" becomes "voted"


def test_recent_runs_are_the_newest_first(client, user, workspace, experiment, product_inputs):
    runs = [
        start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
        for _ in range(3)
    ]
    client.force_login(user)

    response = client.get(experiment.get_absolute_url())

    assert list(response.context["runs"]) == runs[::-1]


def test_recent_runs_refresh_alone_when_their_list_asks(
    client, user, workspace, experiment, product_inputs
):
    """The list's own htmx request (after a run or a vote) gets the list, not the page."""
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    client.force_login(user)

    response = client.get(
        experiment.get_absolute_url(), headers=HTMX | {"HX-Target": "recent-runs"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="recent-runs"')
    assert 'hx-trigger="runs-changed from:body"' in html
    assert f"Run {run.pk}" in html and "to vote" in html and "<html" not in html


def test_voting_without_htmx_redirects_and_tie_needs_no_column(
    client, user, workspace, experiment, product_inputs
):
    run = finished_run(experiment, product_inputs, user)
    client.force_login(user)

    response = client.post(run.get_absolute_url(), {"choice": "tie"})

    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    vote = Vote.objects.get()
    assert (vote.choice, vote.winner) == ("tie", None)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "You called it a tie." in page and "Vote recorded." in page


def test_voting_while_a_column_still_streams_is_refused_with_409_and_keeps_the_reason(
    client, user, workspace, experiment, product_inputs
):
    run = finished_run(experiment, product_inputs, user)
    streaming = run.columns.get(position=1).generation_id
    Generation.objects.filter(pk=streaming).update(status="running")
    cache.set(runner.alive_key(streaming), 1)  # another worker is still running it
    client.force_login(user)

    response = client.post(
        run.get_absolute_url(), {"choice": "both_bad", "reason": "too long"}, headers=HTMX
    )

    # htmx: a toast saying why (the form, and the reason typed in it, stay as they are).
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#toasts"
    assert "Wait until every column has finished" in response.content.decode()
    # Without JS: the run page again, saying why, the reason kept.
    page = client.post(run.get_absolute_url(), {"choice": "both_bad", "reason": "too long"})
    html = page.content.decode()
    assert page.status_code == 409
    assert "Wait until every column has finished" in html and "too long</textarea>" in html
    assert not Vote.objects.exists()


DISABLED = re.compile(r"\sdisabled[\s>]")  # the attribute, not the disabled: class variant


def test_the_vote_buttons_are_disabled_until_every_column_is_done(
    client, user, workspace, experiment, product_inputs
):
    run = finished_run(experiment, product_inputs, user)
    streaming = run.columns.get(position=1).generation_id
    Generation.objects.filter(pk=streaming).update(status="running")
    cache.set(runner.alive_key(streaming), 1)
    client.force_login(user)

    html = client.get(run.get_absolute_url()).content.decode()

    buttons = re.findall(r'<button type="submit" name="choice"[^>]*>', html)
    assert len(buttons) == 4 and all(DISABLED.search(b) for b in buttons)
    assert "data-waiting" in html and "data-vote-wait" in html
    Generation.objects.filter(pk=streaming).update(status="done")
    html = client.get(run.get_absolute_url()).content.decode()
    buttons = re.findall(r'<button type="submit" name="choice"[^>]*>', html)
    assert len(buttons) == 4 and not any(DISABLED.search(b) for b in buttons)
    assert "data-waiting" not in html and "data-vote-wait" not in html


@pytest.mark.parametrize(
    ("choice", "pressed"), [("A", "A"), ("tie", "tie"), ("both_bad", "both_bad")]
)
def test_after_a_vote_only_the_pick_is_pressed(
    client, user, workspace, experiment, product_inputs, choice, pressed
):
    run = finished_run(experiment, product_inputs, user)
    client.force_login(user)
    client.post(run.get_absolute_url(), {"choice": choice})

    html = client.get(run.get_absolute_url()).content.decode()

    buttons = dict(re.findall(r'<button type="submit" name="choice" value="(\w+)"([^>]*)>', html))
    assert set(buttons) == {"A", "B", "tie", "both_bad"}
    for value, attributes in buttons.items():
        assert f'aria-pressed="{"true" if value == pressed else "false"}"' in attributes
        # The pick stays solid; the others are muted.
        assert ("bg-brand-600" in attributes) == (value == pressed)


def test_before_a_vote_no_button_claims_to_be_pressed(
    client, user, workspace, experiment, product_inputs
):
    run = finished_run(experiment, product_inputs, user)
    client.force_login(user)

    html = client.get(run.get_absolute_url()).content.decode()

    buttons = re.findall(r'<button type="submit" name="choice"[^>]*>', html)
    assert len(buttons) == 4 and not any("aria-pressed" in b for b in buttons)


def test_an_unknown_choice_is_a_clear_error(client, user, workspace, experiment, product_inputs):
    run = finished_run(experiment, product_inputs, user)
    client.force_login(user)

    response = client.post(run.get_absolute_url(), {"choice": "C"})

    assert response.status_code == 200 and "Unknown choice" in response.content.decode()
    assert not Vote.objects.exists()


def test_column_partial_renders_sanitized_text_and_hides_the_variant_until_the_vote(
    client, user, workspace, experiment, product_inputs
):
    run = finished_run(experiment, product_inputs, user, texts=("<script>x()</script> *hi*", "B"))
    url = _url("run_column", workspace.pk, run.columns.get(position=0).pk)
    client.force_login(user)

    blind = client.get(url, headers=HTMX).content.decode()
    cast_vote(run=run, voter=user, choice="both_bad")
    revealed = client.get(url, headers=HTMX).content.decode()

    assert blind.strip().startswith('<section id="column-A"') and "<html" not in blind
    assert "<em>hi</em>" in blind and "<script>x()" not in blind
    assert "data-variant" not in blind and "Open as draft" not in blind
    assert run.columns.get(position=0).variant.name in revealed and "Open as draft" in revealed
    assert client.get(url).status_code == 302  # only for htmx; the page otherwise
    assert client.get(_url("run_column", workspace.pk, 10**6), headers=HTMX).status_code == 404


def test_results_show_win_rates_wilson_intervals_and_the_binomial_test(
    client, user, workspace, experiment, product_inputs, django_user_model
):
    plain, question = experiment.variants.all()
    for n in range(12):
        voter = django_user_model.objects.create_user(f"editor{n}")
        run = finished_run(experiment, product_inputs, user)
        winner = question if n < 11 else plain
        cast_vote(run=run, voter=voter, choice="variant", winner=winner, reason=f"r{n}")
    run = finished_run(experiment, product_inputs, user)
    cast_vote(run=run, voter=user, choice="tie")
    client.force_login(user)

    html = client.get(_url("experiment_results", workspace.pk, experiment.pk)).content.decode()

    # 11 of 13 shown (12 decisive + 1 tie): 85%; Wilson 95% by hand:
    # (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n) = 0.578 … 0.957.
    row = html.split('data-variant-result="Question"')[1].split("</tr>")[0]
    assert "<td" in row and ">13<" in row and ">11<" in row
    assert "85%" in row and "58–96%" in row
    # Decisive votes only: 11 of 12, two-sided exact p = 2·(1 + 12)/4096 = 0.0063.
    assert "Question beats Plain, 92% of 12 votes, p=0.0063." in html
    assert "p = 0.0063" in html
    assert "lucky streak" in html and "13 votes" in html and "“r0”" in html
    assert "data-early-warning" not in html  # 12 decisive votes: enough to call it


def test_results_with_no_votes_say_not_enough(client, user, workspace, experiment):
    client.force_login(user)
    html = client.get(_url("experiment_results", workspace.pk, experiment.pk)).content.decode()
    assert "Not enough votes yet to tell (0 of 10 needed)." in html
    assert "No votes yet" in html and "data-early-warning" in html


def test_declaring_a_winner_moves_production_with_the_evidence(
    client, user, workspace, experiment, own_template, product_inputs
):
    question = experiment.variants.get(name="Question")
    cast_vote(
        run=finished_run(experiment, product_inputs, user),
        voter=user,
        choice="variant",
        winner=question,
    )
    client.force_login(user)
    url = _url("experiment_results", workspace.pk, experiment.pk)

    response = client.post(url, {"declare": "1", "variant": question.pk, "declare_anyway": "1"})

    assert response.status_code == 302 and response["Location"] == url
    assert own_template.current_version() == question.version
    change = own_template.label_changes.get()
    assert change.evidence["wins"] == 1 and change.evidence["experiment"] == experiment.pk
    assert change.evidence["too_early"] is True
    experiment.refresh_from_db()
    assert experiment.status == "stopped" and experiment.winner == question
    page = client.get(url).content.decode()
    assert "production points at v2" in page and "Declare winner" not in page


def test_declaring_on_too_few_votes_is_refused_inline_without_the_tick(
    client, user, workspace, experiment, own_template, product_inputs
):
    question = experiment.variants.get(name="Question")
    run = finished_run(experiment, product_inputs, user)
    cast_vote(run=run, voter=user, choice="variant", winner=question)
    client.force_login(user)
    url = _url("experiment_results", workspace.pk, experiment.pk)

    page = client.get(url).content.decode()
    response = client.post(url, {"declare": "1", "variant": question.pk})

    assert 'name="declare_anyway"' in page and "data-declare-error" not in page
    assert "1 vote counts so far, of the 10 a winner is called on" in page
    html = response.content.decode()
    assert response.status_code == 200 and "data-declare-error" in html
    error = html.split("data-declare-error>")[1].split("</p>")[0]
    assert "Only 1 vote counts so far" in error and "Declare anyway" in error
    assert 'aria-invalid="true"' in html
    assert f'value="{question.pk}" selected' in html  # the pick is kept
    experiment.refresh_from_db()
    assert experiment.is_running and experiment.winner is None
    assert not own_template.label_changes.exists()


def test_enough_votes_need_no_tick(
    client, user, workspace, experiment, own_template, product_inputs, django_user_model
):
    plain, question = experiment.variants.all()
    for n in range(10):
        voter = django_user_model.objects.create_user(f"editor{n}")
        run = finished_run(experiment, product_inputs, user)
        cast_vote(run=run, voter=voter, choice="variant", winner=question if n else plain)
    client.force_login(user)
    url = _url("experiment_results", workspace.pk, experiment.pk)

    page = client.get(url).content.decode()
    response = client.post(url, {"declare": "1", "variant": question.pk})

    assert "declare_anyway" not in page and "data-early-warning" not in page
    assert response.status_code == 302 and own_template.current_version() == question.version


def test_a_winner_with_overrides_is_promoted_as_a_new_version(
    client, user, workspace, own_template
):
    v2 = own_template.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Cooler?",
        user=user,
        variants=[
            {"name": "Hot", "version": v2},
            {"name": "Cool", "version": v2, "temperature": 0.3, "model": "deepseek-v4-pro"},
        ],
    )
    cool = experiment.variants.get(name="Cool")
    client.force_login(user)
    url = _url("experiment_results", workspace.pk, experiment.pk)

    response = client.post(url, {"declare": "1", "variant": cool.pk, "declare_anyway": "1"})

    v3 = own_template.current_version()
    assert response.status_code == 302 and v3.number == 3
    assert (v3.model, v3.temperature) == ("deepseek-v4-pro", 0.3)
    page = client.get(url).content.decode()
    assert "production now points at v3, a new version" in page
    assert "production points at v3" in page and "data-baked" in page


def test_a_library_templates_winner_cannot_be_declared(client, user, workspace, product_template):
    version = product_template.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Library",
        user=user,
        variants=[
            {"name": "Hot", "version": version, "temperature": 1.3},
            {"name": "Cool", "version": version, "temperature": 0.3},
        ],
    )
    client.force_login(user)
    url = _url("experiment_results", workspace.pk, experiment.pk)

    page = client.get(url).content.decode()
    response = client.post(url, {"declare": "1", "variant": experiment.variants.first().pk})

    assert "read-only library template" in page
    assert response.status_code == 302 and not product_template.labels.exists()
    assert "cannot move" in client.get(url).content.decode()


def test_stop_then_archive(client, user, workspace, experiment):
    client.force_login(user)
    url = _url("experiment_results", workspace.pk, experiment.pk)

    client.post(url, {"stop": "1"})
    experiment.refresh_from_db()
    assert experiment.status == "stopped"
    client.post(url, {"archive": "1"})
    experiment.refresh_from_db()
    assert experiment.status == "archived"
    assert "data-archived" in client.get(_url("experiments", workspace.pk)).content.decode()


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_a_run_streams_every_variant_to_a_finished_column(
    async_client, user, workspace, experiment, product_inputs
):
    respx.post(CHAT_URL).mock(
        side_effect=lambda request: sse_response(sse_body(["One ", "*answer*"]))
    )
    await async_client.aforce_login(user)

    response = await async_client.post(
        _url("run_start", workspace.pk, experiment.pk), product_inputs, headers=HTMX
    )

    assert response.status_code == 200
    run = await ExperimentRun.objects.aget()
    columns = [c async for c in run.columns.all()]
    for column in columns:
        if task := runner.task_for(column.generation_id):
            await task
    versions = [v async for v in DraftVersion.objects.filter(generation__variant_run__run=run)]
    assert [v.text for v in versions] == ["One *answer*"] * 2
    html = (
        await async_client.get(_url("run_column", workspace.pk, columns[1].pk), headers=HTMX)
    ).content.decode()
    assert "<em>answer</em>" in html and 'data-status="done"' in html and "sse-connect" not in html


@pytest.mark.parametrize("blind", [True, False])
def test_a_blind_runs_draft_page_hides_its_figures_until_the_viewer_votes(
    client, user, workspace, experiment, product_inputs, blind
):
    """Per-variant figures (a longer prompt's 19 tokens against 17, another model, the cost)
    would tell which arm wrote a draft: hidden on its page until this viewer has voted."""
    Experiment.objects.filter(pk=experiment.pk).update(blind=blind)
    run = finished_run(experiment, product_inputs, user)
    for tokens, column in zip((19, 17), run.columns.order_by("position"), strict=True):
        Generation.objects.filter(pk=column.generation_id).update(
            prompt_tokens=tokens, completion_tokens=5,
            model="deepseek-flash", cost="0.001", reasoning="Thinking it over.",
            duration_ms=900, finished=timezone.now(),
        )  # fmt: skip
    generation = run.columns.get(position=0).generation
    add_version(draft_id=generation.draft_id, text=generation.text, source="generated",
                author_id=user.pk, generation=generation)  # fmt: skip
    draft_id = generation.draft_id
    client.force_login(user)

    before = client.get(reverse("drafts:detail", args=[draft_id])).content.decode()
    cast_vote(run=run, voter=user, choice=Vote.Choice.TIE, winner=None)
    after = client.get(reverse("drafts:detail", args=[draft_id])).content.decode()

    figures = ("19 + 5", "data-tokens", "deepseek-flash", "data-cost", "Thinking it over.")
    assert all(figure not in before for figure in figures) == blind
    assert ("data-blinded" in before) == blind
    assert [f for f in figures if f not in after] == [] and "data-blinded" not in after


def test_the_run_form_is_open_until_there_are_runs_then_folds_into_new_run(
    client, user, workspace, experiment, product_inputs
):
    client.force_login(user)
    empty = client.get(experiment.get_absolute_url()).content.decode()
    finished_run(experiment, product_inputs, user)

    with_runs = client.get(experiment.get_absolute_url()).content.decode()

    opening = re.compile(r"<details id=\"run-details\" data-run-details\s*(open)?>")
    assert opening.search(empty).group(1) == "open"
    assert opening.search(with_runs).group(1) is None
    assert "New run</summary>" in with_runs and "Run every variant" in with_runs


def test_the_shortcuts_list_on_a_run_page_names_the_vote_keys(
    client, user, workspace, experiment, product_inputs
):
    """1, 2…, t and b vote on a run page (studio.js): its shortcuts list says so, instead
    of Generate, which has no form there; the workspace's list is as it was."""
    run = finished_run(experiment, product_inputs, user)
    client.force_login(user)

    on_run = client.get(run.get_absolute_url()).content.decode()
    elsewhere = client.get(workspace.get_absolute_url()).content.decode()

    dialog = on_run[on_run.index('id="shortcuts-dialog"') :]
    assert "data-vote-shortcuts" in dialog and '<kbd class="kbd">t</kbd>' in dialog
    assert "Both bad" in dialog and "Generate with the form" not in dialog
    assert "data-vote-shortcuts" not in elsewhere and "Generate with the form" in elsewhere
