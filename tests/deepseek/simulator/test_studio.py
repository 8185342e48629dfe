"""Every demo template through the studio's own path: the generate action stores the
generation, the runner streams it from the simulator over a real socket, and the saved text
has the shape and language the template asks for."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.management import call_command

from drafts import generation as runner
from drafts.models import Generation
from prompts.models import PromptTemplate
from studio.deepseek.simulator import create_app
from studio.workspaces.models import Workspace
from tests.generating import start_generation
from tests.servers import run_asgi

from .citations import check_citations
from .demo import TEMPLATES, check_answer, inputs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def simulator(settings) -> Iterator[str]:
    app = create_app(tokens_per_second=0, first_token_delay=0, keepalive_interval=0.01)
    with run_asgi(app, lifespan="off") as url:
        settings.DEEPSEEK_BASE_URL = url
        yield url


def start(slug: str, workspace, user) -> Generation:
    version = PromptTemplate.objects.get(slug=slug).current_version()
    return start_generation(workspace=workspace, version=version, inputs=inputs(slug), user=user)


async def test_generate_with_every_demo_template(simulator, demo_templates, workspace, user):
    """One test for the eight (a transactional test's cost is mostly its own set-up)."""
    for slug in TEMPLATES:
        queued = await sync_to_async(start)(slug, workspace, user)

        await runner.launch(queued.pk)

        generation = await Generation.objects.aget(pk=queued.pk)
        assert generation.status == Generation.Status.DONE, (slug, generation.error)
        check_answer(slug, inputs(slug), generation.text)


DEMO_ASKS = {
    "doc-section": {
        "product_name": "Lumen CLI",
        "section_title": "Setting the brightness",
        "notes": "Use the dim command; --fade changes the level gradually.",
    },
    "doc-section-zh": {
        "product_name": "Lumen 命令行",
        "section_title": "设置亮度",
        "notes": "用 dim 命令设置亮度。",
    },
    "product-description": {
        "product_name": "Lumen desk lamp",
        "features": "Stepless dimming\nUSB-C battery\nWireless phone charging",
    },
    "product-description-zh": {
        "product_name": "Lumen 台灯",
        "features": "无级调光\nUSB-C 充电\n无线充电",
    },
}


def start_in_the_demo_workspace(slug: str) -> Generation:
    call_command("ensure_demo_user", stdout=StringIO())
    user = get_user_model().objects.get(username="demo")
    version = PromptTemplate.objects.get(slug=slug).current_version()
    return start_generation(
        workspace=Workspace.objects.for_user(user).get(),
        version=version,
        inputs=inputs(slug, **DEMO_ASKS[slug]),
        user=user,
    )


async def test_the_demo_grounds_its_drafts_and_the_simulator_cites_them(simulator, demo_templates):
    """``make run``'s demo end to end: the demo login's workspace holds the demo knowledge, the
    product and doc templates retrieve from it, and each stored draft cites the passages
    stored with its generation, in the template's shape and language."""
    for slug in DEMO_ASKS:
        queued = await sync_to_async(start_in_the_demo_workspace)(slug)

        await runner.launch(queued.pk)

        generation = await Generation.objects.aget(pk=queued.pk)
        assert generation.status == Generation.Status.DONE, (slug, generation.error)
        given = [(f"{g.source_title} (v1)", g.text) async for g in generation.grounding.all()]
        assert given, slug
        check_answer(slug, inputs(slug, **DEMO_ASKS[slug]), generation.text, zh_share=0.6)
        assert check_citations(generation.text, given), (slug, generation.text)
