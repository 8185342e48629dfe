"""Files a worker writes for the benchmark to read while it runs."""

from __future__ import annotations

from pathlib import Path


def replace_whole(target: Path, text: str) -> Path:
    """``text`` to ``target``, replaced whole: a reader never sees it half written. The
    temporary file is named after the target, so two writers of one folder never share one."""
    temporary = target.with_name(f"{target.name}.tmp")
    temporary.write_text(text)
    temporary.replace(target)
    return target
