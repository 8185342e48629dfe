"""Background work for prompts (django.tasks; the worker is ``manage.py db_worker``).

Tasks take ids (their arguments make a JSON round trip) and delegate to
``prompts.experiments.batch_runner``, which is async: the worker runs it on an event loop of
its own.
Each also takes the id of the request that enqueued it, so that every line the worker logs
for it carries that ``request_id`` (``studio.observability``), as a streamed generation's do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.tasks import task

from studio.observability import request_id_var

from . import batch_runner


@contextmanager
def _logged_as(request_id: str) -> Iterator[None]:
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


@task
async def run_batch(
    batch_id: int, attempt: int | None = None, request_id: str = ""
) -> dict[str, int]:
    """Generate every pending row × variant of a batch experiment."""
    with _logged_as(request_id):
        return await batch_runner.run_batch(batch_id, attempt=attempt)


@task
async def judge_batch(batch_id: int, request_id: str = "") -> dict[str, int]:
    """Score a batch's outputs against its rubric (LLM-as-judge)."""
    with _logged_as(request_id):
        return await batch_runner.judge_batch(batch_id)
