"""Per-workspace channel rules: owners change a channel's limits or go back to the built-in
ones; the check, the board's counters, the prompt's stated limit and the add form follow the
workspace's effective rules; every member reads them; nothing leaks between workspaces."""

from __future__ import annotations

import pytest

from studio.audit.origin import Origin
from studio.campaigns.actions import generate_campaign, inputs_for
from studio.campaigns.channels import BUILT_IN, CTA, LINK
from studio.campaigns.models import Campaign, ChannelRule

HTMX = {"HX-Request": "true"}


def _url(workspace, channel="", end=""):
    return f"/w/{workspace.pk}/channels/{channel + '/' if channel else ''}{end}"


def _save(client, workspace, channel, headers=None, **values):
    data = {f"{channel}-{name}": value for name, value in values.items()}
    return client.post(_url(workspace, channel), data, headers=headers or {})


def test_the_page_lists_every_channel_with_its_built_in_rules(client, user, workspace):
    client.force_login(user)
    page = client.get(_url(workspace)).content.decode()
    assert page.count("data-channel=") == len(BUILT_IN)
    assert "30 characters · up to 15 items · no emoji" in page  # Google Ads headline
    assert "one message (160, or 70) · link required" in page  # SMS
    assert "data-overridden" not in page and "data-channel-form" in page


def test_an_owner_changes_a_channels_limits(client, user, workspace):
    client.force_login(user)
    response = _save(
        client, workspace, "x_post", limit="200", max_items="3", requires_link="on", emoji="on"
    )
    assert response.status_code == 302
    assert response["Location"] == f"/w/{workspace.pk}/channels/#channel-x_post"
    rules = ChannelRule.objects.effective(workspace.pk)["x_post"]
    assert (rules.limit, rules.max_items, rules.requires, rules.emoji) == (200, 3, (LINK,), True)
    assert rules.counter == BUILT_IN["x_post"].counter  # how X counts is not edited
    page = client.get(_url(workspace)).content.decode()
    assert "200 characters · up to 3 items · link required" in page
    assert "Built-in: 280 characters · up to 10 items" in page


def test_htmx_swaps_the_row_alone(client, user, workspace):
    client.force_login(user)
    response = _save(client, workspace, "sms", HTMX, limit="140", requires_cta="on")
    row = response.content.decode()
    assert response.status_code == 200 and "<html" not in row
    assert row.strip().startswith('<li id="channel-sms"') and "data-overridden" in row
    assert "140 characters · call to action required" in row and "data-reset" in row
    rules = ChannelRule.objects.effective(workspace.pk)["sms"]
    assert rules.requires == (CTA,) and rules.max_items == 1  # one piece stays one piece


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"limit": "0", "max_items": "10"}, "limit", "greater than or equal to 1"),
        ({"limit": "20000", "max_items": "10"}, "limit", "less than or equal to 10000"),
        ({"limit": "abc", "max_items": "10"}, "limit", "Enter a whole number"),
        ({"limit": "30", "max_items": "1"}, "max_items", "This channel is a list: it takes 2"),
        ({"limit": "30", "max_items": ""}, "max_items", "Say how many items"),
        ({"limit": "30", "max_items": "51"}, "max_items", "less than or equal to 50"),
    ],
)
def test_refused_values_say_why_and_change_nothing(client, user, workspace, values, field, message):
    client.force_login(user)
    page = _save(client, workspace, "google_ads_headline", **values)
    assert page.status_code == 400 and message in page.content.decode()
    row = _save(client, workspace, "google_ads_headline", HTMX, **values)
    html = row.content.decode()
    assert row.status_code == 200 and message in html and "<html" not in html
    assert f'id="id_google_ads_headline-{field}-error"' in html and 'aria-invalid="true"' in html
    assert not ChannelRule.objects.exists()


def test_reset_goes_back_to_the_built_in_rules(client, user, workspace):
    client.force_login(user)
    _save(client, workspace, "meta_headline", limit="25", max_items="3")
    row = client.post(_url(workspace, "meta_headline", "reset/"), headers=HTMX).content.decode()
    assert "data-overridden" not in row and "40 characters · up to 5 items" in row
    assert ChannelRule.objects.effective(workspace.pk)["meta_headline"] == BUILT_IN["meta_headline"]
    assert client.post(_url(workspace, "meta_headline", "reset/")).status_code == 302


def test_an_unknown_channel_is_404(client, user, workspace):
    client.force_login(user)
    assert _save(client, workspace, "fax", limit="10").status_code == 404
    assert client.post(_url(workspace, "fax", "reset/")).status_code == 404


def test_editors_and_reviewers_read_but_only_owners_change(client, workspace, team):
    for member in team:
        client.force_login(member)
        page = client.get(_url(workspace)).content.decode()
        assert "data-channel-form" not in page and "Only the workspace's owners" in page
        refused = _save(client, workspace, "x_post", limit="100", max_items="2")
        assert refused.status_code == 403
        assert client.post(_url(workspace, "x_post", "reset/")).status_code == 403
    assert not ChannelRule.objects.exists()


def test_another_workspaces_rules_are_its_own(client, user, workspace, other_user):
    from studio.workspaces.actions import create_workspace

    theirs = create_workspace(name="Other", owner=other_user)
    client.force_login(user)
    _save(client, workspace, "x_post", limit="100", max_items="2")
    assert ChannelRule.objects.effective(theirs.pk)["x_post"] == BUILT_IN["x_post"]
    client.force_login(other_user)
    assert _save(client, workspace, "x_post", limit="5", max_items="2").status_code == 404
    assert client.get(_url(workspace)).status_code == 404
    assert ChannelRule.objects.get().limit == 100


def test_checks_counters_and_the_prompt_follow_the_workspaces_rules(
    client, user, workspace, campaign, written
):
    ChannelRule.objects.create(
        workspace=workspace, channel="google_ads_headline", limit=20, max_items=15, emoji=False
    )
    campaign = Campaign.objects.get(pk=campaign.pk)  # its rules are read once per object
    deliverable = campaign.deliverables.get()
    report = deliverable.check_text("- Light that follows you\n- Read all night, warmly")
    assert [(item.length, item.limit) for item in report.items] == [(22, 20), (22, 20)]
    assert [v.code for v in report.items[0].violations] == ["too_long"]
    assert inputs_for(deliverable, deliverable.template_version)["max_chars"] == 20
    client.force_login(user)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert "22/20" in page and "22 of 20: 2 too long." in page
    # The simulator's request states the workspace's limit (the prompt says it).
    (outcome,) = generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    prompt = " ".join(m["content"] for m in outcome.generation.messages)
    assert "at most 20 characters" in prompt and "at most 30" not in prompt


def test_the_add_form_takes_the_workspaces_item_limit(client, user, workspace, campaign, templates):
    ChannelRule.objects.create(workspace=workspace, channel="x_post", limit=280, max_items=3)
    client.force_login(user)
    data = {"template": templates["ad-headlines"].pk, "channel": "x_post", "count": 5}
    response = client.post(campaign.get_absolute_url(), data)
    assert response.status_code == 400
    assert "This channel takes at most 3." in response.content.decode()


def test_the_page_in_chinese(client, user, workspace):
    client.force_login(user)
    zh = {"Accept-Language": "zh-hans"}
    html = client.get(_url(workspace), headers=zh).content.decode()
    assert "渠道规则" in html and "内置规则" in html
    assert "30 个字符 · 最多 15 条 · 不允许表情符号" in html
    row = _save(client, workspace, "x_post", HTMX | zh, limit="30", max_items="1").content.decode()
    assert "这是列表渠道：可有 2 到 50 条。" in row


def test_the_export_checks_with_the_workspaces_rules_and_the_voice(
    monkeypatch, user, workspace, campaign, templates
):
    import csv
    import io
    import zipfile

    from drafts import generation as runner
    from drafts.actions import add_version
    from drafts.models import Generation
    from prompts.actions import save_brand_voice
    from studio.campaigns.actions import add_deliverable
    from studio.campaigns.exports import export_campaign

    monkeypatch.setattr(runner, "launch", lambda generation_id: None)
    posts = add_deliverable(
        campaign=campaign, template=templates["ad-headlines"], channel="x_post", count=3,
        overrides={"max_chars": 120},
    )  # fmt: skip
    ChannelRule.objects.create(workspace=workspace, channel="x_post", limit=4, max_items=5)
    voice = save_brand_voice(workspace=workspace, name="V", text="Never use: two", user=user)
    campaign.brand_voice = voice.voice
    campaign.save()
    outcomes = generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    assert [o.problem for o in outcomes] == [""]
    Generation.objects.update(status="done")
    posts.refresh_from_db()
    text = "- One\n- Two two\n- Six"
    add_version(draft_id=posts.draft_id, text=text, source="edited", author_id=user.pk)
    export = export_campaign(Campaign.objects.get(pk=campaign.pk))
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        social = archive.read("social-posts.csv").decode("utf-8-sig")
        brief = archive.read("brief.html").decode()
    assert list(csv.reader(io.StringIO(social)))[1:] == [
        ["X post", "1", "One", "3", "4"],
        ["X post", "2", "Two two", "7", "4"],
        ["X post", "3", "Six", "3", "4"],
    ]
    assert "7 of 4: 3 too long." in brief and "Forbidden word: “two”." in brief
