"""Template library pages: membership, read-only library, versions, htmx validation, diff."""

import json

from django.urls import reverse

from prompts.models import PromptTemplate
from studio.workspaces.actions import create_workspace

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
