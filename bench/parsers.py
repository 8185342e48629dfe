"""How fast, and in how much memory, hostile import documents are refused.

``python -m bench.parsers`` (no network, no database: ``loads()``, the import's parsing and
checks, which refuse before the import writes anything). Prints one line per document: its
size, what ``loads()`` said, the time it took and the process's peak RSS after it (Django
loaded), so the review's "a clear error within a second, under 300 MB" has a figure.
"""

from __future__ import annotations

import os
import resource
import time


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _long_export() -> str:
    import yaml

    prompt = {"system_prompt": "Write well. " * 8000, "user_prompt": "Hello {{ x }}\n" * 2000}
    items = [
        {"slug": f"t{i}", "name": "T", "purpose": "copy", **prompt, "variables": [{"name": "x"}]}
        for i in range(15)
    ]
    return yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from prompts.actions import InvalidTemplate
    from prompts.transfer import MAX_BYTES, loads
    from tests.prompts.hostile_documents import billion_laughs, nested_json, nested_yaml

    cases = [
        ("billion laughs (YAML, 9 levels of 9 aliases)", billion_laughs(), "yaml"),
        ("JSON nested 100,000 deep", nested_json(100_000), "json"),
        ("YAML nested 5,000 deep", nested_yaml(5_000), "yaml"),
        ("JSON, 2 MB of [] pairs (refused: not templates)", "[" + "[]," * 699_000 + "[]]", "json"),
        ("JSON, 2 MB of short strings", "[" + '"",' * 699_000 + "1]", "json"),
        ("YAML, 2 MB of tiny values", "[" + "1," * 1_000_000 + "1]", "yaml"),
        ("YAML, a 2 MB export of 15 long templates", _long_export(), "yaml"),
        ("JSON over the size cap", "[" + " " * MAX_BYTES + "]", "json"),
    ]
    print(f"baseline peak RSS (Django loaded): {_peak_rss_mb():.0f} MB")  # noqa: T201
    for name, text, fmt in cases:
        started = time.perf_counter()
        try:
            outcome = f"parsed: {len(loads(text, fmt))} template(s)"
        except InvalidTemplate as error:
            outcome = str(error)
        elapsed = time.perf_counter() - started
        size = len(text.encode())
        figures = f"{size:,} bytes -> {outcome!r} in {elapsed:.3f} s"
        print(f"{name}: {figures}, peak RSS {_peak_rss_mb():.0f} MB")  # noqa: T201


if __name__ == "__main__":
    main()
