"""Every demo template through the studio's own path: the generate action stores the
generation, the runner streams it from the simulator over a real socket, and the saved text
has the shape and language the template asks for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async

from drafts import generation as runner
from drafts.models import Generation
from prompts.models import PromptTemplate
from studio.deepseek.simulator import create_app
from tests.generating import start_generation
from tests.servers import run_asgi

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
