"""The sweeper (``drafts.sweeper``): generations whose runner is gone end as interrupted, their
text kept, without any page having to write; the serving process sweeps periodically."""

import asyncio
import threading
from datetime import timedelta

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from drafts import generation as runner
from drafts import sweeper
from drafts.models import Generation
from tests.generating import start_generation
from tests.prompts import batch_helpers

pytestmark = pytest.mark.django_db
experiment = batch_helpers.experiment  # a fixture


@pytest.fixture
def start(workspace, product_template, product_inputs, user):
    """A generation marked running with text so far, started ``age`` seconds ago, that no
    process runs (unless a test gives it a heartbeat)."""

    def started(age: float = runner.HEARTBEAT_TTL + 5, text: str = "So far") -> Generation:
        version = product_template.current_version()
        generation = start_generation(
            workspace=workspace, version=version, inputs=product_inputs, user=user
        )
        created = timezone.now() - timedelta(seconds=age)
        Generation.objects.filter(pk=generation.pk).update(
            status="running", text=text, created=created
        )
        return Generation.objects.get(pk=generation.pk)

    return started


def test_a_generation_no_process_runs_ends_interrupted_with_its_text_kept(start):
    lost = start()

    assert sweeper.sweep() == [lost.pk]

    lost = Generation.objects.select_related("version").get(pk=lost.pk)
    assert lost.status == Generation.Status.INTERRUPTED and lost.finished is not None
    assert lost.version.text == "So far"
    assert sweeper.sweep() == []  # once


def test_running_and_fresh_generations_are_left_alone(start):
    elsewhere = start()
    cache.set(runner.alive_key(elsewhere.pk), 1, runner.HEARTBEAT_TTL)  # another worker's
    fresh = start(age=1)  # committed, perhaps not launched yet: no heartbeat so far

    assert sweeper.sweep() == []

    assert Generation.objects.get(pk=elsewhere.pk).status == "running"
    assert Generation.objects.get(pk=fresh.pk).status == "running"


def test_a_page_shows_a_lost_generation_being_recovered_until_the_sweep(client, user, start):
    """Reads only read: the page shows the text so far and writes nothing; after the sweep
    it shows the interrupted generation's kept text."""
    lost = start(text="Half a sentence")
    client.force_login(user)
    url = reverse("drafts:detail", args=[lost.draft_id])

    page = client.get(url).content.decode()

    assert "data-recovering" in page and "Half a sentence" in page and "sse-connect" not in page
    assert Generation.objects.get(pk=lost.pk).status == "running"
    sweeper.sweep()
    page = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "data-recovering" not in page and 'data-status="interrupted"' in page
    assert "Half a sentence" in page


def test_the_command_sweeps_only_with_a_shared_cache(start, monkeypatch):
    lost = start()
    monkeypatch.setattr(sweeper, "shared_heartbeats", lambda: False)  # local-memory cache
    with pytest.raises(CommandError, match="REDIS_URL"):  # it would not see the server's runs
        call_command("sweep_generations")
    assert Generation.objects.get(pk=lost.pk).status == "running"

    monkeypatch.setattr(sweeper, "shared_heartbeats", lambda: True)
    call_command("sweep_generations")

    assert Generation.objects.get(pk=lost.pk).status == "interrupted"


@pytest.mark.django_db(transaction=True)
async def test_the_serving_process_sweeps_from_startup_to_shutdown(monkeypatch, settings):
    """``manage.py serve`` runs uvicorn with the ASGI lifespan: it starts the sweeper."""
    from studio.asgi import application

    settings.GENERATION_SWEEP_INTERVAL = 0.01
    swept = threading.Event()
    monkeypatch.setattr(sweeper, "sweep", lambda **options: swept.set())
    lifespan = ApplicationCommunicator(application, {"type": "lifespan"})

    await lifespan.send_input({"type": "lifespan.startup"})
    assert (await lifespan.receive_output(5))["type"] == "lifespan.startup.complete"
    assert await asyncio.to_thread(swept.wait, 5)
    await lifespan.send_input({"type": "lifespan.shutdown"})
    assert (await lifespan.receive_output(10))["type"] == "lifespan.shutdown.complete"


def test_only_a_local_memory_cache_keeps_heartbeats_per_process(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert not sweeper.shared_heartbeats()  # the default without REDIS_URL
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert sweeper.shared_heartbeats()


def test_no_sweeps_when_the_interval_is_zero(settings):
    settings.GENERATION_SWEEP_INTERVAL = 0
    assert sweeper.start() is None


def test_without_a_shared_cache_batch_generations_are_the_worker_s(experiment, user, monkeypatch):
    """``manage.py db_worker`` runs batch experiments; its heartbeats live in its own memory
    unless REDIS_URL is set, so only then may the serving process judge them lost."""
    from prompts.experiments.batch_progress import start_row
    from tests.prompts.batch_helpers import CSV, make_batch

    row = make_batch(experiment, user, CSV).rows.order_by("line").first()
    ids = list(start_row(row=row).columns.values_list("generation_id", flat=True))
    long_ago = timezone.now() - timedelta(seconds=runner.HEARTBEAT_TTL + 5)
    Generation.objects.filter(pk__in=ids).update(status="running", created=long_ago)

    monkeypatch.setattr(sweeper, "shared_heartbeats", lambda: False)  # local-memory cache
    assert sweeper.sweep() == []  # the worker's, whatever this process sees
    monkeypatch.setattr(sweeper, "shared_heartbeats", lambda: True)
    assert sweeper.sweep() == sorted(ids)
