"""Template library pages: membership, read-only library, versions, htmx validation, diff."""

import json
import tracemalloc

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from prompts.forms import ImportForm
from prompts.models import PromptTemplate
from prompts.transfer import MAX_BYTES
from studio.audit.origin import Origin
from studio.workspaces.actions import create_workspace
from tests.prompts.hostile_documents import billion_laughs, nested_json

LAUGHS = billion_laughs().encode()

HTMX = {"HX-Request": "true"}


def _form(template=None, **changes):
    version = template.current_version() if template else None
    data = {
        "name": template.name if template else "Launch post",
        "purpose": "copy",
        "description": "",
        "system_prompt": version.system_prompt if version else "You write posts.",
        "user_prompt": version.user_prompt if version else "Announce {{ product }}.",
        "variables": json.dumps(version.variables if version else [{"name": "product"}]),
        "model": "",
        "temperature": "",
        "max_tokens": "",
        "note": "",
    }
    return data | changes


def test_pages_need_membership(client, other_user, workspace, product_template):
    client.force_login(other_user)
    urls = [
        reverse("prompts:list", args=[workspace.pk]),
        reverse("prompts:detail", args=[workspace.pk, product_template.pk]),
        reverse("prompts:diff", args=[workspace.pk, product_template.pk]),
        reverse("prompts:voices", args=[workspace.pk]),
        reverse("prompts:export", args=[workspace.pk]),
    ]
    assert [client.get(url).status_code for url in urls] == [404] * len(urls)


def test_another_workspaces_template_is_not_found(client, user, other_user, workspace):
    theirs = create_workspace(name="Theirs", owner=other_user)
    template = PromptTemplate.objects.create(workspace=theirs, slug="t", name="T", purpose="copy")
    client.force_login(user)
    response = client.get(reverse("prompts:detail", args=[workspace.pk, template.pk]))
    assert response.status_code == 404


def test_list_shows_own_templates_and_the_library(client, user, workspace, demo_templates):
    client.force_login(user)
    html = client.get(reverse("prompts:list", args=[workspace.pk])).content.decode()
    assert "Shared library" in html and "Product description" in html
    assert "No templates of your own yet." in html


def test_creating_then_editing_adds_versions_and_never_changes_one(client, user, workspace):
    client.force_login(user)
    response = client.post(reverse("prompts:create", args=[workspace.pk]), _form())
    template = PromptTemplate.objects.get(workspace=workspace)
    assert response.status_code == 302 and response["Location"] == template.get_absolute_url()

    edit = reverse("prompts:edit", args=[workspace.pk, template.pk])
    client.post(edit, _form(template, user_prompt="Announce {{ product }} loudly."))
    client.post(edit, _form(template, user_prompt="Announce {{ product }} loudly."))  # no change

    versions = list(template.versions.order_by("number"))
    assert [v.user_prompt for v in versions] == [
        "Announce {{ product }}.",
        "Announce {{ product }} loudly.",
    ]
    page = client.get(template.get_absolute_url()).content.decode()
    assert 'data-version="2"' in page and 'data-version="1"' in page


def test_invalid_variables_are_shown_inline_with_htmx_and_nothing_is_saved(client, user, workspace):
    client.force_login(user)
    url = reverse("prompts:create", args=[workspace.pk])
    bad = _form(user_prompt="{{ product }} {{ missing }}")

    response = client.post(url, bad, headers={**HTMX, "HX-Target": "variables-errors"})
    html = response.content.decode()
    assert "<html" not in html and html.strip().startswith('<div id="variables-errors"')
    assert "{{ missing }}" in html

    broken = client.post(
        url, _form(variables="[{"), headers=HTMX | {"HX-Target": "variables-errors"}
    )
    assert "Not valid JSON" in broken.content.decode()

    good = client.post(url, _form(), headers={**HTMX, "HX-Target": "variables-errors"})
    assert "fit together" in good.content.decode()
    assert not PromptTemplate.objects.filter(workspace=workspace).exists()

    full = client.post(url, bad)  # without JS: the whole page, the input kept
    html = full.content.decode()
    assert full.status_code == 200 and "no such variable is declared" in html
    assert "{{ product }} {{ missing }}</textarea>" in html


def test_library_templates_are_read_only_but_can_be_duplicated(
    client, user, workspace, product_template
):
    client.force_login(user)
    edit = client.post(
        reverse("prompts:edit", args=[workspace.pk, product_template.pk]),
        _form(product_template, user_prompt="hacked"),
    )
    assert edit.status_code == 302
    assert product_template.versions.count() == 1
    label = client.post(
        reverse("prompts:detail", args=[workspace.pk, product_template.pk]),
        {"label": "production", "version": product_template.current_version().pk},
    )
    assert label.status_code == 302 and not product_template.labels.exists()

    other = create_workspace(name="Second", owner=user)
    response = client.post(
        reverse("prompts:detail", args=[workspace.pk, product_template.pk]),
        {"duplicate": "1", "target": other.pk},
    )
    copy = PromptTemplate.objects.get(workspace=other)
    assert response["Location"] == copy.get_absolute_url()
    assert copy.current_version().user_prompt == product_template.current_version().user_prompt


def test_duplicating_into_a_workspace_you_are_not_in_is_refused(
    client, user, other_user, workspace, product_template
):
    theirs = create_workspace(name="Theirs", owner=other_user)
    client.force_login(user)
    response = client.post(
        reverse("prompts:detail", args=[workspace.pk, product_template.pk]),
        {"duplicate": "1", "target": theirs.pk},
    )
    assert response.status_code == 404
    assert not PromptTemplate.objects.filter(workspace=theirs).exists()


def test_moving_production_changes_what_the_workspace_generates_with(client, user, workspace):
    client.force_login(user)
    client.post(reverse("prompts:create", args=[workspace.pk]), _form())
    template = PromptTemplate.objects.get(workspace=workspace)
    client.post(
        reverse("prompts:edit", args=[workspace.pk, template.pk]),
        _form(template, user_prompt="Second {{ product }}."),
    )
    first = template.versions.get(number=1)

    client.post(
        template.get_absolute_url(),
        {"label": "production", "version": first.pk, "note": "roll back"},
    )

    page = client.get(workspace.get_absolute_url(), {"template": template.pk})
    assert f'name="version" value="{first.pk}"' in page.content.decode()
    history = client.get(template.get_absolute_url()).content.decode()
    assert "roll back" in history and "production" in history


def test_diff_shows_removed_and_added_lines_escaped(client, user, workspace):
    client.force_login(user)
    client.post(reverse("prompts:create", args=[workspace.pk]), _form())
    template = PromptTemplate.objects.get(workspace=workspace)
    client.post(
        reverse("prompts:edit", args=[workspace.pk, template.pk]),
        _form(template, user_prompt="Announce {{ product }} <b>now</b>.", temperature="0.3"),
    )

    html = client.get(reverse("prompts:diff", args=[workspace.pk, template.pk])).content.decode()
    assert 'data-kind="removed"' in html and 'data-kind="added"' in html
    assert "Announce {{ product }} &lt;b&gt;now&lt;/b&gt;." in html
    assert "temperature: 0.3" in html


def test_export_and_import_through_the_pages(client, user, workspace, product_template):
    client.force_login(user)
    exported = client.get(
        reverse("prompts:export", args=[workspace.pk]),
        {"template": product_template.pk, "format": "yaml"},
    )
    assert exported["Content-Type"] == "application/yaml"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("t.yaml", exported.content)
    response = client.post(reverse("prompts:import", args=[workspace.pk]), {"file": upload})
    assert response.status_code == 302
    assert PromptTemplate.objects.filter(workspace=workspace, slug=product_template.slug).exists()

    bad = SimpleUploadedFile("t.json", b"{nope")
    response = client.post(
        reverse("prompts:import", args=[workspace.pk]), {"file": bad}, follow=True
    )
    assert "Nothing was imported" in response.content.decode()


def test_brand_voice_pages_create_and_version(client, user, workspace):
    client.force_login(user)
    client.post(reverse("prompts:voices", args=[workspace.pk]), {"name": "House", "text": "Warm."})
    voice = workspace.brand_voices.get()
    client.post(voice.get_absolute_url(), {"name": "House", "text": "Warmer."})
    assert [v.text for v in voice.versions.order_by("number")] == ["Warm.", "Warmer."]
    dup = client.post(
        reverse("prompts:voices", args=[workspace.pk]), {"name": "House", "text": "x"}
    )
    assert "already exists" in dup.content.decode()


def _own(workspace, product_template, user):
    """The demo product template copied into the workspace, with a second version."""
    from prompts.actions import duplicate_template, save_version

    template = duplicate_template(template=product_template, workspace=workspace, user=user)
    v1 = template.current_version()
    data = {f: getattr(v1, f) for f in ("system_prompt", "variables", "model", "thinking")}
    data |= {"user_prompt": v1.user_prompt + "\nEnd with a question.", "temperature": None}
    save_version(template=template, data=data, user=user, note="Ends with a question")
    return template


def _vote_on(experiment, inputs, user, django_user_model, votes):
    """One finished run and one new editor's vote per (variant name or "tie")."""
    from drafts.models import Generation
    from prompts.experiments.actions import cast_vote, start_run

    variants = {v.name: v for v in experiment.variants.all()}
    for n, name in enumerate(votes):
        run = start_run(origin=Origin(), experiment=experiment, inputs=inputs, user=user)
        Generation.objects.filter(pk__in=run.columns.values("generation")).update(status="done")
        voter = django_user_model.objects.create_user(f"voter{n}")
        if name in variants:
            cast_vote(run=run, voter=voter, choice="variant", winner=variants[name])
        else:
            cast_vote(run=run, voter=voter, choice=name)


def _cell(html: str, marker: str) -> str:
    """The text of the first element carrying ``marker`` (a data attribute)."""
    return html.split(marker, 1)[1].split(">", 1)[1].split("<", 1)[0].strip()


def test_the_history_shows_the_winners_votes_interval_p_value_and_experiment(
    client, user, workspace, product_template, product_inputs, django_user_model
):
    from prompts.experiments.actions import create_experiment

    template = _own(workspace, product_template, user)
    v1, v2 = template.versions.order_by("number")
    experiment = create_experiment(
        workspace=workspace,
        name="Questions sell?",
        user=user,
        variants=[{"name": "Plain", "version": v1}, {"name": "Question", "version": v2}],
    )
    _vote_on(
        experiment, product_inputs, user, django_user_model, ["Question"] * 11 + ["Plain", "tie"]
    )
    client.force_login(user)
    results_url = reverse("prompts:experiment_results", args=[workspace.pk, experiment.pk])
    question = experiment.variants.get(name="Question")
    client.post(results_url, {"declare": "1", "variant": question.pk})

    history = client.get(template.get_absolute_url()).content.decode()
    results = client.get(results_url).content.decode()

    # 11 wins of the 13 votes Question was shown in (the tie too), Wilson 95% 58–96%; the
    # exact binomial test on the 12 decisive votes, p = 2·13/4096.
    assert _cell(history, "data-evidence-votes") == "11 of 13 votes it was shown in (85%)"
    assert _cell(history, "data-evidence-interval") == "58–96%"
    assert _cell(history, "data-evidence-p") == "p = 0.0063"
    statement = "Question beats Plain, 92% of 12 votes, p=0.0063."
    assert _cell(history, "data-evidence-statement") == statement
    assert f'href="{results_url}" data-evidence-link' in history
    assert "Experiment “Questions sell?”: results" in history
    # The same numbers as the results page's row and verdict.
    row = results.split('data-variant-result="Question"')[1].split("</tr>")[0]
    assert _cell(row, "data-interval") == "58–96%" and _cell(row, "data-appearances") == "13"
    assert _cell(row, "data-wins") == "11" and statement in results


def test_the_history_shows_the_bradley_terry_rank_of_a_three_way_winner(
    client, user, workspace, product_template, product_inputs, django_user_model
):
    from prompts.experiments.actions import create_experiment

    template = _own(workspace, product_template, user)
    v1, v2 = template.versions.order_by("number")
    experiment = create_experiment(
        workspace=workspace,
        name="Three ways",
        user=user,
        variants=[
            {"name": "Plain", "version": v1},
            {"name": "Question", "version": v2},
            {"name": "Question again", "version": v2},
        ],
    )
    votes = ["Question"] * 7 + ["Plain"] * 2 + ["Question again"] * 2 + ["tie"]
    _vote_on(experiment, product_inputs, user, django_user_model, votes)
    client.force_login(user)
    results_url = reverse("prompts:experiment_results", args=[workspace.pk, experiment.pk])
    question = experiment.variants.get(name="Question")
    client.post(results_url, {"declare": "1", "variant": question.pk})

    history = client.get(template.get_absolute_url()).content.decode()
    results = client.get(results_url).content.decode()

    ranked = results.split('data-ranked="Question"')[1].split("</tr>")[0]
    share, interval = _cell(ranked, "data-share"), _cell(ranked, "data-ranked-interval")
    rank = _cell(history, "data-evidence-rank")
    assert rank.startswith("#1 of 3") and f"{share} (95% interval {interval})" in rank
    assert "data-evidence-p" not in history  # the binomial test is for two variants
    assert _cell(history, "data-evidence-votes").startswith("7 of 12 votes")
    assert _cell(history, "data-evidence-statement") in results  # the ranking's statement


def test_the_editor_keeps_a_pinned_voice_unless_told_to_follow_the_newest(client, user, workspace):
    from prompts.actions import save_brand_voice, save_version

    client.force_login(user)
    client.post(reverse("prompts:create", args=[workspace.pk]), _form())
    template = PromptTemplate.objects.get(workspace=workspace)
    old = save_brand_voice(workspace=workspace, name="House", text="Short and warm.")
    save_brand_voice(workspace=workspace, name="House", text="Long.", voice=old.voice)
    v1 = template.current_version()
    fields = ("system_prompt", "user_prompt", "variables", "model", "thinking", "temperature")
    save_version(
        template=template, data={f: getattr(v1, f) for f in fields}, brand_voice_version=old
    )
    url = reverse("prompts:edit", args=[workspace.pk, template.pk])

    page = client.get(url).content.decode()
    client.post(url, _form(template, user_prompt="Kept {{ product }}.", brand_voice=old.voice.pk))
    client.post(
        url,
        _form(template, user_prompt="Newest {{ product }}.", brand_voice=old.voice.pk)
        | {"follow_voice": "on"},
    )

    assert "Use House&#x27;s newest text (the latest version pins v1" in page
    kept, followed = template.versions.order_by("number")[2:]
    assert kept.brand_voice_version == old and followed.brand_voice_version is None
    assert followed.brand_voice_text() == "Long."
    detail = client.get(template.get_absolute_url()).content.decode()
    assert "data-pinned-voice" not in detail  # the newest version follows the voice again


def _import(client, workspace, upload):
    return client.post(reverse("prompts:import", args=[workspace.pk]), {"file": upload})


def test_a_billion_laughs_import_is_a_clear_400_that_saves_nothing(client, user, workspace):
    client.force_login(user)
    tracemalloc.start()
    try:
        response = _import(client, workspace, SimpleUploadedFile("laughs.yaml", LAUGHS))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert response.status_code == 400
    assert "Aliases and anchors are not supported in YAML imports" in response.content.decode()
    assert peak < 50 * 1024 * 1024  # a memory bound: the review's limit is 300 MB
    assert not PromptTemplate.objects.filter(workspace=workspace).exists()


def test_a_deeply_nested_import_is_a_clear_400(client, user, workspace):
    client.force_login(user)
    upload = SimpleUploadedFile("deep.json", nested_json(100_000).encode())

    response = _import(client, workspace, upload)

    assert response.status_code == 400
    assert "Nested too deeply" in response.content.decode()


class _Huge(SimpleUploadedFile):
    """A 50 MB upload as Django describes it after receiving it; reading it fails the test."""

    def __init__(self) -> None:
        super().__init__("big.json", b"", "application/json")
        self.size = 50 * 1024 * 1024

    def read(self, *args):
        raise AssertionError("the upload was read")

    def chunks(self, *args):
        raise AssertionError("the upload was read")


def test_a_50_mb_import_is_refused_by_its_size_before_reading():
    form = ImportForm(files={"file": _Huge()})

    assert not form.is_valid()
    assert form.errors["file"] == ["The file is too large (at most 2048 KB)."]


def test_an_import_over_the_cap_gets_the_size_error_on_the_page(client, user, workspace):
    client.force_login(user)
    upload = SimpleUploadedFile("big.json", b"[" + b" " * MAX_BYTES + b"]")

    response = _import(client, workspace, upload)

    assert response.status_code == 400
    assert "The file is too large (at most 2048 KB)." in response.content.decode()


def test_importing_an_edited_export_moves_production_only_when_the_box_is_ticked(
    client, user, workspace
):
    """Issue 18 item 11, through the library page's import form (its box off by default)."""
    from tests.prompts.test_transfer import edited_export

    own, text = edited_export(workspace, user)
    client.force_login(user)
    library = client.get(reverse("prompts:list", args=[workspace.pk])).content.decode()
    assert 'type="checkbox" name="move_labels"' in library
    assert 'name="move_labels" checked' not in library

    upload = SimpleUploadedFile("edited.json", text.encode())
    page = client.post(
        reverse("prompts:import", args=[workspace.pk]), {"file": upload}, follow=True
    ).content.decode()
    assert own.labelled("production").number == 3
    assert "Labels not moved: production stays on v3" in page

    upload = SimpleUploadedFile("edited.json", text.encode())
    page = client.post(
        reverse("prompts:import", args=[workspace.pk]),
        {"file": upload, "move_labels": "on"},
        follow=True,
    ).content.decode()
    assert own.labelled("production").number == 4
    assert "Labels moved: production moved v3 → v4." in page


def _rows(*rows: dict[str, str], **extra: str) -> dict[str, str]:
    """The editor's form posted from the variables builder's rows."""
    data = _form(variables_mode="form", **{"var-count": str(len(rows))})
    del data["variables"]  # in form mode the JSON textarea is not on the page
    for i, row in enumerate(rows):
        data |= {f"var-{i}-{key}": value for key, value in row.items()}
    return data | extra


def test_the_builder_shows_a_templates_variables_as_rows(client, user, workspace):
    client.force_login(user)
    client.post(reverse("prompts:create", args=[workspace.pk]), _form())
    template = PromptTemplate.objects.get(workspace=workspace)
    html = client.get(reverse("prompts:edit", args=[workspace.pk, template.pk])).content.decode()
    assert 'data-mode="form"' in html and 'name="var-0-name" value="product"' in html
    assert 'name="var-count" value="1"' in html and 'name="variables"' not in html


def test_a_builder_button_answers_htmx_with_the_builder_only_and_saves_nothing(
    client, user, workspace
):
    client.force_login(user)
    url = reverse("prompts:create", args=[workspace.pk])
    data = _rows({"name": "product", "required": "on"}, builder="add")
    response = client.post(url, data, headers=HTMX | {"HX-Target": "variables-builder"})
    html = response.content.decode()
    assert "<html" not in html and html.strip().startswith('<section id="variables-builder"')
    assert 'name="var-count" value="2"' in html and 'name="var-1-name" value="" ' in html
    assert "autofocus" in html

    page = client.post(url, _rows({"name": "product"}, builder="json"))  # without JS
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and 'data-mode="json"' in html
    assert "&quot;product&quot;" in html
    assert not PromptTemplate.objects.filter(workspace=workspace).exists()


def test_saving_from_the_builder_stores_the_typed_json(client, user, workspace):
    client.force_login(user)
    rows = (
        {"name": "product", "type": "text", "required": "on"},
        {"name": "mood", "type": "choice", "label": "Mood", "choices": "calm\nbold"},
    )
    data = _rows(*rows, user_prompt="Announce {{ product }}, {{ mood }}.", note="First cut")
    response = client.post(reverse("prompts:create", args=[workspace.pk]), data)
    assert response.status_code == 302
    version = PromptTemplate.objects.get(workspace=workspace).current_version()
    assert version.variables == [
        {"name": "product", "type": "text", "required": True},
        {
            "name": "mood",
            "type": "choice",
            "label": "Mood",
            "required": False,
            "choices": ["calm", "bold"],
        },
    ]
    assert version.note == "First cut"
    edit = reverse("prompts:edit", args=[workspace.pk, version.template.pk])
    client.post(edit, data)  # the same rows again: no new version
    assert version.template.versions.count() == 1


def test_a_variables_problems_show_next_to_its_row(client, user, workspace):
    client.force_login(user)
    url = reverse("prompts:create", args=[workspace.pk])
    data = _rows(
        {"name": "product", "required": "on"},
        {"name": "mood", "type": "choice"},
        user_prompt="{{ product }} {{ mood }} {{ missing }}",
    )
    html = client.post(url, data).content.decode()
    row = html[html.index('data-variable-row="1"') :]
    row = row[: row.index("</li>")]
    assert "Choice variable &#x27;mood&#x27; needs choices." in row
    assert "data-variable-problems" not in html[: html.index('data-variable-row="1"')]
    errors = html[html.index('id="variables-errors"') :]
    assert "{{ missing }}" in errors and "Fix the variables marked below." in errors

    live = client.post(url, data, headers=HTMX | {"HX-Target": "variables-errors"})
    html = live.content.decode()
    assert html.strip().startswith('<div id="variables-errors"')
    assert '<div id="var-1-problems" aria-live="polite" hx-swap-oob="true">' in html
    assert "needs choices" in html
    assert not PromptTemplate.objects.filter(workspace=workspace).exists()


def test_the_template_page_shows_variables_notes_and_a_way_to_use_it(client, user, workspace):
    client.force_login(user)
    rows = (
        {"name": "product", "type": "text", "required": "on"},
        {"name": "mood", "type": "choice", "label": "Mood", "choices": "calm\n<b>bold</b>"},
    )
    data = _rows(*rows, user_prompt="Announce {{ product }}, {{ mood }}.", note="First cut")
    client.post(reverse("prompts:create", args=[workspace.pk]), data)
    template = PromptTemplate.objects.get(workspace=workspace)
    edit = reverse("prompts:edit", args=[workspace.pk, template.pk])
    client.post(edit, data | {"user_prompt": "Tell {{ product }}, {{ mood }}.", "note": "Shorter"})

    html = client.get(template.get_absolute_url()).content.decode()
    table = html[html.index("data-template-variables") : html.index("</table>")]
    assert '<tr data-variable="product">' in table and '<tr data-variable="mood">' in table
    mood = table[table.index('data-variable="mood"') :]
    assert "Choice" in mood and "calm, &lt;b&gt;bold&lt;/b&gt;" in mood and "<b>" not in mood
    assert ">no<" in mood and ">yes<" in table[: table.index('data-variable="mood"')]
    notes = html[html.index("data-versions") :]
    assert "What changed: Shorter" in notes and "What changed: First cut" in notes
    use = f'href="{workspace.get_absolute_url()}?template={template.pk}"'
    assert use in html and "Use this template" in html

    page = client.get(f"{workspace.get_absolute_url()}?template={template.pk}").content.decode()
    assert 'name="mood"' in page and '<option value="calm"' in page  # its form, picked


def test_a_first_version_without_a_note_says_so(client, user, workspace):
    client.force_login(user)
    client.post(reverse("prompts:create", args=[workspace.pk]), _form())
    template = PromptTemplate.objects.get(workspace=workspace)
    html = client.get(template.get_absolute_url()).content.decode()
    assert "What changed: First version." in html


def test_a_rows_problems_show_before_the_prompts_are_written(client, user, workspace):
    client.force_login(user)
    url = reverse("prompts:create", args=[workspace.pk])
    data = _rows({"name": "mood", "type": "choice"}, system_prompt="", user_prompt="")
    html = client.post(url, data, headers=HTMX | {"HX-Target": "variables-errors"}).content
    assert "Choice variable &#x27;mood&#x27; needs choices." in html.decode()


def test_the_workspace_says_which_brand_voice_the_template_includes(client, user, workspace):
    from prompts.actions import save_brand_voice

    client.force_login(user)
    voice = save_brand_voice(workspace=workspace, name="House <b>", text="Warm.").voice
    data = _form(system_prompt="{{ brand_voice }}", brand_voice=str(voice.pk))
    client.post(reverse("prompts:create", args=[workspace.pk]), data)
    template = PromptTemplate.objects.get(workspace=workspace)
    assert template.current_version().brand_voice == voice

    page = client.get(f"{workspace.get_absolute_url()}?template={template.pk}").content.decode()
    assert "Brand voice: House &lt;b&gt; (set on the template)" in page
    assert 'name="brand_voice"' not in page  # the generate form asks nothing about it
