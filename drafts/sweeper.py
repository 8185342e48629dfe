"""The sweeper: settles generations whose runner is gone, so that no page has to.

Reads only read: a page (or an SSE watcher) that finds a generation marked active with no
process running it (``generation.is_orphan``: no local task, no heartbeat in the shared cache)
shows its text so far as being recovered, and writes nothing. This module ends such a
generation as interrupted, its saved text kept as a draft version (``settle_orphan``, as the
Stop button on a lost generation does), at most ``GENERATION_SWEEP_INTERVAL`` seconds later.

It runs in the serving process, started by the ASGI lifespan (``studio.asgi``: ``manage.py
serve`` runs uvicorn with it): without REDIS_URL the heartbeats live in that process's memory,
where a separate worker could not see them. For the same reason, with a process-local cache
it leaves alone the generations of batch experiments, which ``manage.py db_worker`` runs
(a dead worker's batch is recovered by its page's Resume, ``prompts.experiments.batch_actions``).
``sweep()`` is also what tests and ``manage.py sweep_generations`` call.

A heartbeat gap is not a crash: while Redis is away no heartbeat is renewed, and for a moment
after it is back a runner's key may be missing still. A heartbeat that cannot be read counts
as alive (``Registry.is_alive``), and the periodic sweeper settles only a generation it has
seen orphaned for at least HEARTBEAT_TTL (on two sweeps that far apart, alive on none in
between): a runner that still holds it has beaten again by then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db.models import Min, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from studio import background
from studio.audit import metrics

from . import generation as runner
from .models import Generation

logger = logging.getLogger(__name__)


def shared_heartbeats() -> bool:
    """Whether every process's heartbeats are in one cache (Redis), not each its own."""
    return not isinstance(caches["default"], LocMemCache)


def candidates(*, now=None) -> QuerySet[Generation]:
    """Generations marked active for longer than a heartbeat's life: a fresh one may not have
    reached its runner yet (committed, not launched)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=runner.HEARTBEAT_TTL)
    active = Generation.objects.filter(status__in=Generation.ACTIVE, created__lt=cutoff)
    if not shared_heartbeats():
        active = active.filter(variant_run__run__batch_row__isnull=True)
    return active.order_by("pk")


# Generations seen orphaned, and when first (time.monotonic()): the periodic sweeper's memory.
_suspects: dict[int, float] = {}


def sweep(*, confirm: float = 0) -> list[int]:
    """Settle every generation whose runner is gone as interrupted, its text kept; returns
    their ids (sync). With ``confirm``, only one seen orphaned that many seconds ago already
    (on an earlier sweep of this process) and on every sweep since."""
    settled, now = [], time.monotonic()
    orphans = [generation for generation in candidates() if runner.is_orphan(generation)]
    seen = {generation.pk for generation in orphans}
    for pk in set(_suspects) - seen:  # alive again, or ended
        del _suspects[pk]
    for generation in orphans:
        if now - _suspects.setdefault(generation.pk, now) < confirm:
            continue
        runner.settle_orphan(generation)
        _suspects.pop(generation.pk, None)
        settled.append(generation.pk)
    if settled:
        logger.warning("Settled %s generations no process ran: %s", len(settled), settled)
    metrics.observe_sweep(settled=len(settled), oldest_active_age=_oldest_running_age())
    return settled


def _oldest_running_age() -> float | None:
    """Seconds since the longest-running generation's request went out (None: none runs).
    Time in line is not running time (``generation_admission_wait_seconds`` counts it): a
    busy queue must not look like a stuck generation. A row marked running before
    ``started`` existed counts from its creation."""
    running = Generation.objects.filter(status=Generation.Status.RUNNING)
    oldest = running.aggregate(oldest=Min(Coalesce("started", "created")))["oldest"]
    return (timezone.now() - oldest).total_seconds() if oldest else None


async def sweep_periodically(interval: float) -> None:
    """``sweep()`` every ``interval`` seconds until cancelled (the serving process's life),
    settling only generations orphaned for a heartbeat's life (``confirm``); one that fails
    is logged and the next runs on time."""
    while True:
        try:
            # Healing: a connection the database dropped is replaced and the sweep runs again
            # (settling is idempotent), rather than every sweep failing on it until a runner's
            # write happens to heal the thread's connection.
            await background.aheal(sweep)(confirm=runner.HEARTBEAT_TTL)
        except Exception:
            logger.exception("The generation sweep failed")
        await asyncio.sleep(interval)


def start() -> asyncio.Task[None] | None:
    """Start sweeping in the background of this process (None: GENERATION_SWEEP_INTERVAL 0)."""
    interval = settings.GENERATION_SWEEP_INTERVAL
    if interval <= 0:
        return None
    return background.start(
        sweep_periodically(interval), name="generation-sweeper", keep_request_id=False
    )
