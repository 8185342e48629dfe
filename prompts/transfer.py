"""Templates as portable JSON or YAML: what export writes, import reads back.

One entry per template: its current version's prompts, variables and presets, the labels that
point at that version, and the name of the brand voice it includes (matched by name on import).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import yaml

from .actions import InvalidTemplate, import_template
from .models import PromptTemplate

FORMATS = ("json", "yaml")
FIELDS = ("slug", "name", "purpose", "description")
VERSION_FIELDS = (
    "system_prompt",
    "user_prompt",
    "variables",
    "model",
    "thinking",
    "temperature",
    "max_tokens",
)


def export_data(template: PromptTemplate) -> dict[str, Any]:
    """One template as plain data (its current version)."""
    version = template.current_version()
    if version is None:
        raise InvalidTemplate(f"{template.slug}: it has no version to export.")
    data: dict[str, Any] = {f: getattr(template, f) for f in FIELDS}
    data |= {f: getattr(version, f) for f in VERSION_FIELDS}
    labels = sorted(template.labels.filter(version=version).values_list("name", flat=True))
    if labels:
        data["labels"] = labels
    if version.brand_voice_id:
        data["brand_voice"] = version.brand_voice.name
    return data


def dumps(templates: Iterable[PromptTemplate], fmt: str = "json") -> str:
    """Serialise templates as a JSON or YAML list."""
    items = [export_data(t) for t in templates]
    if fmt == "yaml":
        return yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"Unknown format {fmt!r}: use json or yaml.")


def loads(text: str, fmt: str = "json") -> list[dict[str, Any]]:
    """Parse an export; a clear InvalidTemplate for anything that is not a list of templates."""
    try:
        items = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidTemplate(f"Not valid {fmt.upper()}: {error}") from error
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidTemplate("Expected a list of templates.")
    required = {"slug", "name", "purpose", "system_prompt", "user_prompt"}
    for item in items:
        if missing := sorted(required - item.keys()):
            raise InvalidTemplate(f"{item.get('slug', '?')}: missing {', '.join(missing)}.")
        if item["purpose"] not in PromptTemplate.Purpose.values:
            raise InvalidTemplate(f"{item['slug']}: unknown purpose {item['purpose']!r}.")
    return items


def guess_format(filename: str) -> str:
    return "yaml" if filename.lower().endswith((".yaml", ".yml")) else "json"


def import_text(text: str, fmt: str = "json", *, workspace=None, user=None) -> tuple[int, int]:
    """Import every template in an export. Returns (templates, new versions).

    All or nothing: one invalid template rolls the whole file back (see import_all).
    """
    return import_all(loads(text, fmt), workspace=workspace, user=user)


def import_all(items: list[dict[str, Any]], *, workspace=None, user=None) -> tuple[int, int]:
    from django.db import transaction

    with transaction.atomic():
        created = sum(
            import_template(data=item, workspace=workspace, user=user)[1] for item in items
        )
    return len(items), created
