"""What the sweeper does shows in /metrics: sweeps run, generations it settled, and the age of
the oldest generation still active, for alerts on generations stuck or a sweeper gone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from drafts import sweeper
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
