"""The campaign pages: list, brief (new, edit), the campaign with its deliverables and their
checks, Generate all; roles and isolation (the URL sweeps cover every URL too)."""

from __future__ import annotations

import pytest

from drafts import generation as runner
from drafts.actions import add_version
from drafts.models import Generation
from studio.campaigns.models import Campaign, Deliverable
from studio.workspaces.actions import add_member

HX = {"HX-Request": "true"}


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def reviewer(client, workspace, other_user):
    add_member(workspace=workspace, user=other_user, role="reviewer")
    client.force_login(other_user)
    return client


@pytest.fixture
def stranger(client, other_user):
    client.force_login(other_user)
    return client


@pytest.fixture
def no_launch(monkeypatch):
    """Generations are stored, not run: these tests look at what Generate all stores."""
    monkeypatch.setattr(runner, "launch", lambda generation_id: None)


BRIEF = {
    "title": "Lumen lamp launch",
    "product": "Lumen lamp",
    "audience": "night readers",
    "offer": "20% off",
    "key_message": "Warm light all night",
    "starts_on": "2027-03-01",
    "ends_on": "2027-03-31",
    "notes": "",
}


def test_the_list_shows_the_workspaces_campaigns(owner, campaign, workspace):
    page = owner.get(f"/w/{workspace.pk}/campaigns/").content.decode()
    assert "Lumen lamp launch" in page and "New campaign" in page
    assert f'href="/campaigns/{campaign.pk}/"' in page


def test_an_editor_creates_a_campaign(owner, workspace, user):
    response = owner.post(f"/w/{workspace.pk}/campaigns/new/", BRIEF)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    assert (campaign.workspace, campaign.owner, campaign.dates()) == (
        workspace,
        user,
        "2027-03-01 – 2027-03-31",
    )


def test_a_brief_that_ends_before_it_starts_is_refused(owner, workspace):
    response = owner.post(f"/w/{workspace.pk}/campaigns/new/", BRIEF | {"ends_on": "2027-02-01"})
    assert response.status_code == 400 and not Campaign.objects.exists()
    assert "cannot end before it starts" in response.content.decode()


def test_the_brief_is_edited(owner, campaign):
    response = owner.post(f"/campaigns/{campaign.pk}/edit/", BRIEF | {"product": "Lumen Mini"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.product == "Lumen Mini"


def test_a_deliverable_is_added_and_removed(owner, campaign, templates):
    form = {
        "template": templates["ad-headlines"].pk,
        "channel": "google_ads_headline",
        "count": "10",
        "overrides": "tone = playful\n\nlanguage=简体中文",
    }
    assert owner.post(f"/campaigns/{campaign.pk}/", form).status_code == 302
    deliverable = Deliverable.objects.get()
    assert deliverable.overrides == {"tone": "playful", "language": "简体中文"}
    assert deliverable.count == 10
    page = owner.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Google Ads headline ×10" in page and "Not generated yet." in page
    assert owner.post(f"/deliverables/{deliverable.pk}/remove/").status_code == 302
    assert not Deliverable.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"count": "16"}, "This channel takes at most 15."),
        ({"overrides": "colour = red"}, "The template has no variable named colour."),
        ({"overrides": "just text"}, "Write each override as name = value"),
    ],
)
def test_a_deliverable_form_says_what_to_fix(owner, campaign, templates, change, message):
    form = {"template": templates["ad-headlines"].pk, "channel": "google_ads_headline", "count": 3}
    response = owner.post(f"/campaigns/{campaign.pk}/", form | change)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Deliverable.objects.exists()


def test_another_workspaces_template_cannot_be_picked(owner, campaign, other_user):
    from prompts.actions import import_template
    from studio.workspaces.actions import create_workspace

    theirs = create_workspace(name="Theirs", owner=other_user)
    import json

    from prompts.management.commands.load_demo_templates import DEMO_FILE

    data = json.loads(DEMO_FILE.read_text("utf-8"))[0] | {"slug": "theirs"}
    template = import_template(data=data, workspace=theirs, user=other_user)[0]
    form = {"template": template.pk, "channel": "email", "count": 1}
    assert owner.post(f"/campaigns/{campaign.pk}/", form).status_code == 400


def test_generate_all_starts_one_generation_per_deliverable(
    owner, campaign, headlines, email, no_launch
):
    response = owner.post(f"/campaigns/{campaign.pk}/generate/")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    assert Generation.objects.count() == 2
    page = owner.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Generating 2 deliverables." in page and page.count("data-draft-link") == 2


def test_a_deliverable_that_cannot_start_is_named(owner, campaign, headlines, email, no_launch):
    Deliverable.objects.filter(pk=email.pk).update(overrides={"tone": "grumpy"})
    owner.post(f"/campaigns/{campaign.pk}/generate/")
    page = owner.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Generating 1 deliverable." in page and "Email: tone:" in page


def test_the_page_counts_each_item_against_its_channel(owner, campaign, headlines, user):
    from studio.audit.origin import Origin
    from studio.campaigns.actions import generate_campaign

    generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    Generation.objects.update(status="done")
    headlines.refresh_from_db()
    text = "- Light that follows you\n- " + "灯" * 16 + "\n- Glow 🇨🇳"
    add_version(draft_id=headlines.draft_id, text=text, source="edited", author_id=user.pk)
    page = owner.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "22/30" in page and "32/30" in page and "32 of 30: 2 too long." in page
    assert "Emoji are not allowed on this channel." in page
    assert "3 items; 10 asked for." in page


def test_a_reviewer_reads_but_cannot_change(reviewer, campaign, headlines, workspace):
    page = reviewer.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Lumen lamp launch" in page
    assert "Generate all" not in page and "Add a deliverable" not in page and "Remove" not in page
    assert "New campaign" not in reviewer.get(f"/w/{workspace.pk}/campaigns/").content.decode()
    for url in (
        f"/w/{workspace.pk}/campaigns/new/",
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/edit/",
        f"/campaigns/{campaign.pk}/generate/",
        f"/deliverables/{headlines.pk}/remove/",
    ):
        assert reviewer.post(url, BRIEF).status_code == 403, url
        assert reviewer.post(url, headers=HX).status_code == 403, url
    assert Deliverable.objects.count() == 1 and not Generation.objects.exists()


def test_a_non_member_gets_404_everywhere(stranger, campaign, headlines, workspace):
    for url in (
        f"/w/{workspace.pk}/campaigns/",
        f"/w/{workspace.pk}/campaigns/new/",
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/edit/",
    ):
        assert stranger.get(url).status_code == 404, url
    for url in (f"/campaigns/{campaign.pk}/generate/", f"/deliverables/{headlines.pk}/remove/"):
        assert stranger.post(url).status_code == 404, url
    assert Deliverable.objects.count() == 1


def test_the_pages_speak_chinese(owner, campaign, headlines):
    page = owner.get(f"/campaigns/{campaign.pk}/", headers={"Accept-Language": "zh-hans"})
    body = page.content.decode()
    assert "全部生成" in body and "Google Ads 标题" in body


def test_an_overlong_brief_is_refused(owner, workspace):
    response = owner.post(f"/w/{workspace.pk}/campaigns/new/", BRIEF | {"notes": "x" * 10_001})
    assert response.status_code == 400 and not Campaign.objects.exists()


@pytest.mark.parametrize("number", ["9" * 30, "9" * 5000, "²", "-1"])
def test_hostile_numbers_are_refused_not_500(owner, campaign, templates, number):
    for form in (
        {"template": number, "channel": "email", "count": "1"},
        {"template": templates["marketing-email"].pk, "channel": "email", "count": number},
    ):
        assert owner.post(f"/campaigns/{campaign.pk}/", form).status_code == 400
    assert not Deliverable.objects.exists()


def test_the_board_follows_one_stream_while_one_is_generating(
    owner, campaign, headlines, email, no_launch
):
    owner.post(f"/campaigns/{campaign.pk}/generate/")
    page = owner.get(f"/campaigns/{campaign.pk}/").content.decode()
    events = f"/campaigns/{campaign.pk}/events/"
    shown = Generation.objects.order_by("pk").values_list("pk", flat=True)
    after = ".".join(f"{pk}:0" for pk in shown)  # every generation shown, even one about to end
    assert page.count("sse-connect=") == 1 and f'sse-connect="{events}?after={after}"' in page
    assert "hx-trigger" not in page  # no polling: the stream brings each deliverable
    for deliverable in (headlines, email):
        assert f'sse-swap="delta-{deliverable.pk}"' in page
        assert f'sse-swap="done-{deliverable.pk}"' in page
        assert f"/deliverables/{deliverable.pk}/stop/" in page
    assert f"/campaigns/{campaign.pk}/stop/" in page and "Stop all" in page
    partial = owner.get(f"/campaigns/{campaign.pk}/", headers=HX)
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="deliverables"') and "sse-connect=" in body
    Generation.objects.update(status="done")
    body = owner.get(f"/campaigns/{campaign.pk}/", headers=HX).content.decode()
    assert "sse-connect" not in body and "Stop all" not in body  # nothing left to follow
    assert f"/deliverables/{headlines.pk}/regenerate/" in body


@pytest.mark.parametrize(
    ("status", "kept", "words"),
    [
        ("failed", "linked", ["The generation failed.", "Busy upstream", "kept as v1"]),
        ("failed", "earlier", ["The generation failed.", "Nothing of it was kept: v1"]),
        ("failed", "none", ["The generation failed.", "Nothing was written."]),
        ("cancelled", "linked", ["Stopped before the end.", "kept as v1"]),
        ("interrupted", "linked", ["Interrupted before the end.", "kept as v1"]),
    ],
)
def test_a_generation_that_ended_early_says_how_and_what_was_kept(
    owner, written, status, kept, words
):
    """A failed, stopped or interrupted generation: the panel says how it ended, why (the
    error), what of it is the newest version, and offers Regenerate."""
    from drafts.models import DraftVersion

    generation = Generation.objects.get(draft_id=written.draft_id)
    generation.status, generation.error_message = status, "Busy upstream"
    generation.save()
    versions = DraftVersion.objects.filter(draft_id=written.draft_id)
    if kept == "linked":
        versions.update(generation=generation)
    elif kept == "none":
        versions.delete()
    page = owner.get(written.campaign.get_absolute_url()).content.decode()
    assert f'data-generation-end="{status}"' in page and "data-regenerate" in page
    for word in words + ["Regenerate to try again."]:
        assert word in page, word
    assert "data-streaming" not in page


def test_a_generation_that_ended_early_says_so_in_chinese(owner, written):
    Generation.objects.filter(draft_id=written.draft_id).update(status="failed")
    owner.cookies["django_language"] = "zh-hans"
    page = owner.get(written.campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert "生成失败。" in text and "没有保留任何内容：v1 未改动。" in text
