"""prometheus_client's multiprocess directory (PROMETHEUS_MULTIPROC_DIR), emptied before the
web workers start, so that no file an earlier run's processes left is summed into /metrics.

``python -m studio.audit.multiproc`` runs in the Docker image's entry command, right before
uvicorn starts its workers; ``manage.py serve`` calls :func:`reset` too. Standard library
only: nothing here may import prometheus_client (which would open files of its own).
"""

from __future__ import annotations

import os
from pathlib import Path


def reset(path: str | None = None, *, keep_pid: int | None = None) -> Path | None:
    """Create the directory if needed and delete the metrics files in it, except those of
    ``keep_pid`` (a process that already writes there and goes on serving). Returns the
    directory, or None when PROMETHEUS_MULTIPROC_DIR is not set (one process: nothing to do).
    """
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "") if path is None else path
    if not path:
        return None
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    own = f"_{keep_pid}.db" if keep_pid else None
    for file in directory.glob("*.db"):
        if own is None or not file.name.endswith(own):
            file.unlink(missing_ok=True)
    return directory


if __name__ == "__main__":
    emptied = reset()
    print(  # noqa: T201 — the entry command's log line
        f"Prometheus multiprocess directory {emptied} is empty."
        if emptied
        else "PROMETHEUS_MULTIPROC_DIR is not set: metrics are per process."
    )
