"""What the sweeper does shows in /metrics: sweeps run, generations it settled, and the age of
the oldest generation still active, for alerts on generations stuck or a sweeper gone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from drafts import generation as runner
from drafts import sweeper
from drafts.actions import mark_running
from drafts.models import Generation
from studio.audit.metrics import sample
from tests.generating import start_generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(workspace, product_template, product_inputs, user):
    """A generation marked running, started ``age`` seconds ago, that no process runs."""

    def started(age: float) -> Generation:
        version = product_template.current_version()
        generation = start_generation(
            workspace=workspace, version=version, inputs=product_inputs, user=user
        )
        created = timezone.now() - timedelta(seconds=age)
        Generation.objects.filter(pk=generation.pk).update(status="running", created=created)
        return generation

    return started


def scrape(client, name: str) -> float:
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    match = re.search(rf"^{name} (\S+)$", response.content.decode(), re.MULTILINE)
    assert match, f"{name} is not in /metrics"
    return float(match.group(1))


def test_a_sweep_that_settles_an_orphan_shows_in_metrics(client, settings, start):
    settings.METRICS_TOKEN = "scrape-me"
    swept, sweeps = sample("generation_swept_total"), sample("generation_sweeps_total")
    lost = start(age=120)
    start(age=1)  # too fresh to judge: still active after the sweep

    assert sweeper.sweep() == [lost.pk]

    assert scrape(client, "generation_swept_total") == swept + 1
    assert scrape(client, "generation_sweeps_total") == sweeps + 1
    assert 0 < scrape(client, "generation_oldest_active_age_seconds") < 60


def test_with_nothing_active_the_oldest_age_is_zero(client, settings, start):
    settings.METRICS_TOKEN = "scrape-me"
    start(age=120)
    sweeper.sweep()  # settles it: nothing active is left

    assert scrape(client, "generation_oldest_active_age_seconds") == 0


def test_time_in_line_is_not_running_time(client, settings, start):
    """A busy queue is not a stuck generation: the age counts from the request going out."""
    settings.METRICS_TOKEN = "scrape-me"
    long_in_line = start(age=1200)  # created 20 minutes ago…
    Generation.objects.filter(pk=long_in_line.pk).update(
        started=timezone.now() - timedelta(seconds=5)  # …and running for 5 s
    )
    waiting = start(age=1800)
    Generation.objects.filter(pk=waiting.pk).update(status="queued")
    runner.GENERATIONS.mark_alive(long_in_line.pk, ttl=60)  # both alive: nothing to settle
    runner.GENERATIONS.mark_alive(waiting.pk, ttl=60)

    assert sweeper.sweep() == []

    assert 0 < scrape(client, "generation_oldest_active_age_seconds") < 60


def test_marked_running_when_its_request_goes_out(start):
    generation = start(age=30)
    Generation.objects.filter(pk=generation.pk).update(status="queued")

    assert mark_running(generation_id=generation.pk)

    generation.refresh_from_db()
    assert generation.status == "running"
    assert 0 <= (timezone.now() - generation.started).total_seconds() < 10
