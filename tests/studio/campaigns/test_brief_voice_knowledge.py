"""The brief's brand voice and knowledge: every deliverable's generation writes in the voice
and is grounded in the picked sources (through the generate action's one grounding path),
a deliverable may opt out, and the voice's forbidden words are a channel rule."""

from __future__ import annotations

import pytest

from drafts.actions import add_version
from drafts.models import Generation, GroundingPassage
from prompts.actions import create_template, save_brand_voice
from studio.audit.origin import Origin
from studio.campaigns.actions import add_deliverable, generate_campaign, grounding_scope
from studio.campaigns.models import Campaign
from tests.drafts.grounding_helpers import LUMEN, ORBIT, add_text, grounded_template

GUIDE = "Warm and plain.\nForbidden words: cheap, revolutionary\n禁用词：最便宜"


@pytest.fixture
def voice(workspace, user):
    return save_brand_voice(workspace=workspace, name="Lumen voice", text=GUIDE, user=user).voice


@pytest.fixture
def sources(workspace, user):
    lumen = add_text(workspace, user, LUMEN, title="Lumen sheet", tags=["lumen"])
    orbit = add_text(workspace, user, ORBIT, title="Orbit sheet", tags=["orbit"])
    return lumen.source, orbit.source


def _generate(campaign, user):
    outcomes = generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    assert [o.problem for o in outcomes] == [""] * len(outcomes)
    return [o.generation for o in outcomes]


def test_every_deliverable_writes_in_the_campaigns_voice(campaign, headlines, email, voice, user):
    campaign.brand_voice = voice
    campaign.save()
    for generation in _generate(campaign, user):
        # The demo templates have no {{ brand_voice }}: the voice closes the system message.
        assert generation.messages[0]["content"].endswith(GUIDE)
        assert GUIDE not in generation.messages[-1]["content"]


def test_the_voice_fills_a_templates_placeholder_instead(campaign, workspace, voice, user):
    template = create_template(
        workspace=workspace,
        data={
            "name": "Voiced",
            "purpose": "ads",
            "system_prompt": "Style:\n{{ brand_voice }}\nEnd.",
            "user_prompt": "Write about {{ product }}.",
            "variables": [{"name": "product", "type": "text", "label": "Product"}],
        },
    )
    add_deliverable(campaign=campaign, template=template, channel="email", count=1, overrides={})
    campaign.brand_voice = voice
    campaign.save()
    (generation,) = _generate(campaign, user)
    assert generation.messages[0]["content"] == f"Style:\n{GUIDE}\nEnd."


def test_a_deliverable_may_write_without_the_voice(campaign, templates, voice, user):
    add_deliverable(
        campaign=campaign,
        template=templates["marketing-email"],
        channel="email",
        count=1,
        overrides={},
        use_voice=False,
    )
    campaign.brand_voice = voice
    campaign.save()
    (generation,) = _generate(campaign, user)
    assert GUIDE not in generation.messages[0]["content"]


def test_every_deliverable_is_grounded_in_the_picked_sources(
    campaign, headlines, email, sources, user
):
    lumen, _orbit = sources
    campaign.knowledge_sources.set([lumen])
    campaign.notes = "Battery life and charging over USB-C."
    campaign.save()
    for generation in _generate(campaign, user):
        assert generation.passages_given and generation.passages_given > 0
        titles = set(generation.grounding.values_list("source_title", flat=True))
        assert titles == {"Lumen sheet"}
        prompt = generation.messages[-1]["content"]
        assert "<sources>\n[1] Lumen sheet (v1)" in prompt and "Cite each fact" in prompt


def test_tags_pick_sources_too_and_the_brief_is_the_query(campaign, headlines, sources, user):
    campaign.knowledge_tags = ["orbit"]
    campaign.product, campaign.notes = "Orbit speaker", "Plays for 12 hours over Bluetooth."
    campaign.save()
    scope = grounding_scope(headlines)
    assert scope.tags == ("orbit",) and scope.sources == ()
    assert "Plays for 12 hours" in scope.query
    (generation,) = _generate(campaign, user)
    assert set(generation.grounding.values_list("source_title", flat=True)) == {"Orbit sheet"}


def test_nothing_picked_leaves_the_templates_own_grounding(campaign, headlines, sources, user):
    assert grounding_scope(headlines) is None
    (generation,) = _generate(campaign, user)
    assert generation.passages_given is None  # the demo template is not grounded
    assert "<sources>" not in generation.messages[-1]["content"]


def test_a_deliverable_may_opt_out_of_the_knowledge(campaign, templates, sources, user):
    add_deliverable(
        campaign=campaign,
        template=templates["ad-headlines"],
        channel="google_ads_headline",
        count=5,
        overrides={},
        use_knowledge=False,
    )
    campaign.knowledge_tags = ["lumen"]
    campaign.save()
    (generation,) = _generate(campaign, user)
    assert generation.passages_given is None and not GroundingPassage.objects.exists()


def test_the_campaigns_sources_replace_a_grounded_templates_own(campaign, workspace, sources, user):
    template = grounded_template(workspace, tags=["lumen"])
    add_deliverable(
        campaign=campaign,
        template=template,
        channel="email",
        count=1,
        overrides={"topic": "speaker"},
    )
    campaign.knowledge_sources.set([sources[1]])
    campaign.notes = "Bluetooth speaker for 12 hours."
    campaign.save()
    (generation,) = _generate(campaign, user)
    assert set(generation.grounding.values_list("source_title", flat=True)) == {"Orbit sheet"}


def test_forbidden_words_of_the_voice_are_violations(campaign, voice, written):
    campaign.brand_voice = voice
    campaign.save()
    deliverable = Campaign.objects.get(pk=campaign.pk).deliverables.get()
    report = deliverable.check_text("- A Cheap lamp\n- Cheapest light\n- 最便宜的台灯")
    found = [[v.params.get("word") for v in item.violations] for item in report.items]
    # Whole words for Latin script, case-insensitive; a substring in Chinese.
    assert found == [["cheap"], [], ["最便宜"]]
    deliverable.use_voice = False
    assert deliverable.check_text("- A Cheap lamp").items[0].ok


def test_the_board_shows_forbidden_words_in_words(client, user, campaign, voice, written):
    from drafts.actions import add_version

    campaign.brand_voice = voice
    campaign.save()
    add_version(
        draft_id=written.draft_id, text="- Revolutionary light", source="edited", author_id=user.pk
    )
    client.force_login(user)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert "Forbidden word: “revolutionary”." in page
    assert "Lumen voice" in page and "cheap, revolutionary, 最便宜" in page


def test_the_brief_form_picks_the_workspaces_voice_and_knowledge(
    client, user, workspace, voice, sources, other_user
):
    from prompts.knowledge.models import Source
    from studio.workspaces.actions import create_workspace

    elsewhere = create_workspace(name="Other", owner=other_user)
    theirs = add_text(elsewhere, other_user, ORBIT, title="Theirs", tags=["secret-tag"]).source
    client.force_login(user)
    page = client.get(f"/w/{workspace.pk}/campaigns/new/").content.decode()
    assert "Lumen voice" in page and "Lumen sheet" in page and "orbit" in page
    assert "Theirs" not in page and "secret-tag" not in page
    data = {"title": "Launch", "brand_voice": voice.pk, "knowledge_tags": ["lumen"]}
    response = client.post(
        f"/w/{workspace.pk}/campaigns/new/", data | {"knowledge_sources": [sources[0].pk]}
    )
    campaign = Campaign.objects.get(title="Launch")
    assert response.status_code == 302
    assert campaign.brand_voice == voice and campaign.knowledge_tags == ["lumen"]
    assert list(campaign.knowledge_sources.all()) == [sources[0]]
    # Another workspace's source or a tag no source carries is refused.
    refused = client.post(
        f"/w/{workspace.pk}/campaigns/new/",
        {"title": "Bad", "knowledge_sources": [theirs.pk], "knowledge_tags": ["secret-tag"]},
    )
    assert refused.status_code == 400 and not Campaign.objects.filter(title="Bad").exists()
    assert Source.objects.filter(pk=theirs.pk).exists()


def test_the_rules_and_the_voice_are_read_once_per_board(campaign, templates, voice, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from studio.campaigns.board import board_rows

    campaign.brand_voice = voice
    campaign.save()

    def queries(deliverables: int) -> int:
        for _ in range(deliverables - campaign.deliverables.count()):
            add_deliverable(
                campaign=campaign,
                template=templates["ad-headlines"],
                channel="google_ads_headline",
                count=3,
                overrides={},
            )
        _generate(campaign, user)
        Generation.objects.update(status="done")
        for deliverable in campaign.deliverables.all():
            add_version(draft_id=deliverable.draft_id, text="- Cheap", source="edited",
                        author_id=user.pk)  # fmt: skip
        fresh = Campaign.objects.get(pk=campaign.pk)
        with CaptureQueriesContext(connection) as captured:
            rows = board_rows(fresh)
        assert all(row.report.items[0].violations for row in rows)  # "cheap", each one
        return len(captured)

    # 3 for the rows, 1 for the open fits, 1 for the workspace's channel rules, 2 for the voice
    # and its version.
    assert queries(2) == queries(12) == 7


def test_the_add_form_opts_a_deliverable_out(client, user, campaign, templates):
    client.force_login(user)
    data = {"template": templates["marketing-email"].pk, "channel": "email", "count": 1}
    assert client.post(campaign.get_absolute_url(), data).status_code == 302
    out = data | {"without_voice": "on", "without_knowledge": "on"}
    assert client.post(campaign.get_absolute_url(), out).status_code == 302
    kept, opted_out = campaign.deliverables.order_by("pk")
    assert (kept.use_voice, kept.use_knowledge) == (True, True)  # absent: the campaign's
    assert (opted_out.use_voice, opted_out.use_knowledge) == (False, False)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert page.count("data-opted-out") == 1


def test_the_brief_form_leaves_out_what_there_is_nothing_to_pick_from(client, user, workspace):
    client.force_login(user)
    page = client.get(f"/w/{workspace.pk}/campaigns/new/").content.decode()
    assert 'name="brand_voice"' not in page and 'name="knowledge_sources"' not in page
    assert 'name="knowledge_tags"' not in page
    response = client.post(f"/w/{workspace.pk}/campaigns/new/", {"title": "Plain"})
    assert response.status_code == 302
    assert Campaign.objects.get(title="Plain").brand_voice is None
