"""Background work for prompts (django.tasks; the worker is ``manage.py db_worker``).

Tasks take ids (their arguments make a JSON round trip) and delegate to
``prompts.batch_runner``, which is async: the worker runs it on an event loop of its own.
"""

from __future__ import annotations

from django.tasks import task

from . import batch_runner


@task
async def run_batch(batch_id: int) -> dict[str, int]:
    """Generate every pending row × variant of a batch experiment."""
    return await batch_runner.run_batch(batch_id)


@task
async def judge_batch(batch_id: int) -> dict[str, int]:
    """Score a batch's outputs against its rubric (LLM-as-judge)."""
    return await batch_runner.judge_batch(batch_id)
