"""Shared by the batch tests: an experiment with two variants, CSV bytes, DeepSeek's
non-streaming reply, and the django-tasks-db worker run in this process."""

from __future__ import annotations

import signal

import httpx
import pytest
from django.core.management import call_command

from prompts.actions import duplicate_template, save_version
from prompts.experiments.actions import create_experiment
from prompts.experiments.batch_actions import create_batch
from prompts.experiments.batch_inputs import parse_inputs

CSV = (
    b"product_name,features,tone\n"
    b"Aurora desk lamp,Warm light,friendly\n"
    b'Beacon torch,"Bright, waterproof",bold\n'
)


@pytest.fixture
def experiment(workspace, product_template, user):
    """Two variants of the workspace's copy of the product template (v1, and v2 that ends
    with a question)."""
    template = duplicate_template(template=product_template, workspace=workspace, user=user)
    v1 = template.current_version()
    data = {f: getattr(v1, f) for f in ("system_prompt", "variables", "model", "thinking")}
    data |= {"user_prompt": v1.user_prompt + "\nEnd with a question.", "temperature": None}
    save_version(template=template, data=data, user=user, note="Ends with a question")
    v1, v2 = template.versions.order_by("number")
    return create_experiment(
        workspace=workspace,
        name="Questions sell?",
        user=user,
        variants=[{"name": "Plain", "version": v1}, {"name": "Question", "version": v2}],
    )


def make_batch(experiment, user, data: bytes = CSV):
    parsed = parse_inputs(data, experiment.form_version())
    assert not parsed.errors, parsed.errors
    return create_batch(experiment=experiment, name="Lamps", rows=parsed.rows, user=user)


INSUFFICIENT_BALANCE = httpx.Response(
    402,
    content=(
        b'{"error":{"message":"Insufficient Balance","type":"unknown_error",'
        b'"param":null,"code":"invalid_request_error"}}'
    ),
)


def run_worker() -> None:
    """Run every queued task with the real worker command, then give the signals back
    (db_worker installs its own SIGINT/SIGTERM handlers)."""
    kept = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


def finished_batch(experiment, user, products: int = 3):
    """A batch whose every row ran and finished (no API call): ``products`` rows."""
    from drafts.models import Generation
    from prompts.experiments.batch_progress import start_row
    from prompts.experiments.models import Batch, BatchRow

    lines = [b"product_name,features"] + [f"Lamp {i},Light {i}".encode() for i in range(products)]
    batch = make_batch(experiment, user, b"\n".join(lines) + b"\n")
    for row in batch.rows.all():
        run = start_row(row=row)
        for column in run.columns.all():
            Generation.objects.filter(pk=column.generation_id).update(
                status="done", text=f"{column.variant.name} for row {row.line}"
            )
    batch.rows.update(status=BatchRow.Status.DONE)
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.DONE, done_count=batch.total)
    batch.refresh_from_db()
    return batch
