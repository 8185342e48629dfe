"""The demo campaigns: loaded with the demo login, idempotently; Generate all through the
studio's own path (the generate action, the runner, the offline simulator over a socket)
gives every deliverable copy that passes its channel's check, in the campaign's language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from drafts import generation as runner
from drafts.models import Generation
from prompts.models import PromptTemplate
from studio.audit.origin import Origin
from studio.campaigns.actions import generate_campaign
from studio.campaigns.demo import demo_data
from studio.campaigns.models import Campaign
from studio.deepseek.simulator import create_app
from tests.deepseek.simulator.conftest import chinese_share, is_english_prose
from tests.servers import run_asgi

TITLES = ["Lumen lamp launch", "Lumen 台灯上市"]


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_demo_login_comes_with_a_campaign_in_english_and_one_in_chinese(demo_templates):
    assert "Demo campaigns ready (2 added)." in run("ensure_demo_user")
    campaigns = Campaign.objects.order_by("pk")
    assert [c.title for c in campaigns] == TITLES
    channels = {"email", "google_ads_headline", "google_ads_description", "x_post", "sms"}
    for campaign in campaigns:
        assert campaign.owner.username == "demo" and campaign.product and campaign.offer
        assert channels <= {d.channel for d in campaign.deliverables.all()}
        assert all(d.template_version is not None for d in campaign.deliverables.all())
    own = PromptTemplate.objects.filter(workspace=campaigns[0].workspace)
    assert sorted(own.values_list("slug", flat=True)) == ["channel-copy", "channel-copy-zh"]


@pytest.mark.django_db
def test_loading_again_adds_nothing_and_leaves_an_edited_campaign_alone(demo_templates):
    run("ensure_demo_user")
    Campaign.objects.filter(title=TITLES[0]).update(offer="15% off")
    assert "Demo campaigns ready (0 added)." in run("ensure_demo_user")
    assert "Demo campaigns ready (0 added)." in run("load_demo_campaigns")
    assert Campaign.objects.count() == 2
    assert Campaign.objects.get(title=TITLES[0]).offer == "15% off"
    assert PromptTemplate.objects.get(slug="channel-copy").versions.count() == 1
    deliverables = sum(len(c["deliverables"]) for c in demo_data()["campaigns"])
    assert sum(c.deliverables.count() for c in Campaign.objects.all()) == deliverables


@pytest.mark.django_db
def test_without_the_demo_templates_there_are_no_demo_campaigns():
    assert "Demo campaigns" not in run("ensure_demo_user")  # the knowledge still loads
    with pytest.raises(CommandError, match="load_demo_templates"):
        run("load_demo_campaigns")
    assert not Campaign.objects.exists()


@pytest.fixture
def simulator(settings) -> Iterator[str]:
    app = create_app(tokens_per_second=0, first_token_delay=0, keepalive_interval=0.01)
    with run_asgi(app, lifespan="off") as url:
        settings.DEEPSEEK_BASE_URL = url
        yield url


def _generate_all(title: str) -> list[Generation]:
    campaign = Campaign.objects.get(title=title)
    outcomes = generate_campaign(campaign=campaign, user=campaign.owner, origin=Origin(), loop=None)
    assert [o.problem for o in outcomes] == [""] * len(outcomes)
    return [o.generation for o in outcomes]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("title", TITLES)
async def test_generate_all_on_a_demo_campaign_passes_every_channel_check(
    simulator, demo_templates, title
):
    await sync_to_async(call_command)("ensure_demo_user", stdout=StringIO())
    for queued in await sync_to_async(_generate_all)(title):
        await runner.launch(queued.pk)
    campaign = await Campaign.objects.aget(title=title)
    async for deliverable in campaign.deliverables.select_related("draft"):
        generation = await Generation.objects.filter(draft=deliverable.draft).alatest("pk")
        assert generation.status == Generation.Status.DONE, generation.error
        # The workspace's effective rules and the brand voice are read from the database.
        report = await sync_to_async(deliverable.check_text)(generation.text)
        assert report.ok, (deliverable.channel, generation.text, report)
        if report.channel.is_list:
            assert len(report.items) == deliverable.count
        prose = re.sub(r"https://\S+", "", generation.text)  # the link is in Latin letters
        if title.endswith("上市"):
            assert chinese_share(prose) > 0.5, generation.text
        else:
            assert is_english_prose(prose), generation.text
