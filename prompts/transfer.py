"""Templates as portable JSON or YAML: what export writes, import reads back.

One entry per template: its current version's prompts, variables and presets, the labels that
point at that version, and the name of the brand voice it includes (matched by name on import).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import yaml
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .actions import InvalidTemplate, LabelImport, import_template
from .models import PromptTemplate

FORMATS = ("json", "yaml")
# An export nests list > template > variables > variable > choices > value: six levels. 20
# leaves room for hand-written files and stops a deeply nested document long before Python's
# recursion limit (the JSON decoder and PyYAML's composer both recurse per level).
MAX_DEPTH = 20
# The ten-template demo library is 13 KB; 2 MB holds a hundred such libraries, or a dozen
# templates whose prompts are at PROMPT_MAX_CHARS (100,000 characters).
MAX_BYTES = 2 * 1024 * 1024
# Values (strings, numbers, lists, mappings) in a YAML file: a demo template has about 85, so
# this is some 500 templates. It bounds the parse time of many tiny values (2 MB of them
# would take seconds to build), which the size cap alone does not.
MAX_NODES = 50_000
MAX_TEMPLATES = 500
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


def too_large() -> InvalidTemplate:
    return InvalidTemplate(
        _("The file is too large (at most %(max)s KB).") % {"max": MAX_BYTES // 1024}
    )


def too_many_values() -> InvalidTemplate:
    return InvalidTemplate(_("Too many values (at most %(max)s).") % {"max": MAX_NODES})


def too_deep() -> InvalidTemplate:
    return InvalidTemplate(_("Nested too deeply (at most %(max)s levels).") % {"max": MAX_DEPTH})


# libyaml (in PyYAML's wheels) when present: the pure-Python parser takes seconds per MB.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_yaml_events(text: str) -> None:
    """Refuse anchors and aliases, nesting over MAX_DEPTH and over MAX_NODES values, from the
    parser's events, before anything is composed or built (stopping at the first one).

    ``safe_load`` shares an alias's node, so a 434-byte "billion laughs" loads small and
    explodes when the data is copied or turned into text; an export never has them.
    """
    depth = nodes = 0
    for event in yaml.parse(text, Loader=YAML_LOADER):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise InvalidTemplate(
                _("Aliases and anchors are not supported in YAML imports (line %(line)s).")
                % {"line": event.start_mark.line + 1}
            )
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise too_many_values()
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise too_deep()
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


# A JSON string, or an unterminated one to the end: always a match, so ``sub`` is linear.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+\\?(?:"|\Z)', re.DOTALL)
# Per byte: +1 opens a level, -1 closes one (UTF-8 never uses these bytes inside a character).
_STEPS = np.zeros(256, dtype=np.int8)
_STEPS[[ord("["), ord("{")]], _STEPS[[ord("]"), ord("}")]] = 1, -1


def check_json_depth(text: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH before the (recursive) decoder sees it.

    Strings removed, the brackets' running sum: linear, in C and numpy, no recursion.
    """
    code = _JSON_STRING.sub("", text).encode("utf-8", "surrogatepass")
    steps = _STEPS[np.frombuffer(code, dtype=np.uint8)]
    if steps.size and np.cumsum(steps, dtype=np.int32).max() > MAX_DEPTH:
        raise too_deep()


def parse(text: str, fmt: str = "json") -> Any:
    """The document in ``text``; refused over MAX_BYTES or MAX_DEPTH, and (YAML) with
    aliases or over MAX_NODES values, before the document is built."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise too_large()
    try:
        if fmt == "yaml":
            check_yaml_events(text)
            return yaml.load(text, Loader=YAML_LOADER)
        check_json_depth(text)
        return json.loads(text)
    except InvalidTemplate:
        raise
    except (ValueError, yaml.YAMLError) as error:
        if getattr(error, "problem", None) == "exceeded maximum nesting depth":
            raise too_deep() from error  # libyaml's own bound (1,000), met while scanning ahead
        raise InvalidTemplate(f"Not valid {fmt.upper()}: {error}") from error


def loads(text: str, fmt: str = "json") -> list[dict[str, Any]]:
    """Parse an export; a clear InvalidTemplate for anything that is not a list of templates."""
    items = parse(text, fmt)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidTemplate("Expected a list of templates.")
    if len(items) > MAX_TEMPLATES:  # one import is one transaction: keep it short
        raise InvalidTemplate(
            _("Too many templates in one file (at most %(max)s).") % {"max": MAX_TEMPLATES}
        )
    required = {"slug", "name", "purpose", "system_prompt", "user_prompt"}
    for item in items:
        if missing := sorted(required - item.keys()):
            raise InvalidTemplate(f"{item.get('slug', '?')}: missing {', '.join(missing)}.")
        if item["purpose"] not in PromptTemplate.Purpose.values:
            raise InvalidTemplate(f"{item['slug']}: unknown purpose {item['purpose']!r}.")
    return items


def guess_format(filename: str) -> str:
    return "yaml" if filename.lower().endswith((".yaml", ".yml")) else "json"


class ImportSummary(NamedTuple):
    templates: int
    versions: int  # new versions added
    labels: list[LabelImport]

    def message(self) -> str:
        """What the import did, each label named in the file included, in the user's language."""
        count = ngettext(
            "Imported %(count)s template", "Imported %(count)s templates", self.templates
        ) % {"count": self.templates}
        versions = ngettext("%(count)s new version", "%(count)s new versions", self.versions) % {
            "count": self.versions
        }
        parts = [_("%(templates)s (%(versions)s).") % {"templates": count, "versions": versions}]
        Outcome = LabelImport.Outcome
        if added := self._listed(Outcome.ADDED, _("%(name)s on v%(after)s")):
            parts.append(_("Labels added: %(labels)s.") % {"labels": added})
        if moved := self._listed(Outcome.MOVED, _("%(name)s moved v%(before)s → v%(after)s")):
            parts.append(_("Labels moved: %(labels)s.") % {"labels": moved})
        if kept := self._listed(Outcome.KEPT, _("%(name)s stays on v%(before)s")):
            tick = _("Labels not moved: %(labels)s — tick “%(box)s” to move them.")
            parts.append(tick % {"labels": kept, "box": _("Move labels named in the file")})
        return " ".join(parts)

    def _listed(self, outcome: LabelImport.Outcome, each: str) -> str:
        """The labels with this outcome, each as ``each`` says (with its template's name when
        the file had several), comma-separated."""
        return ", ".join(
            each
            % {
                "name": f"{label.template}: {label.name}" if self.templates > 1 else label.name,
                "before": label.before,
                "after": label.imported,
            }
            for label in self.labels
            if label.outcome == outcome
        )


def import_text(
    text: str, fmt: str = "json", *, workspace=None, user=None, move_labels: bool = False
) -> ImportSummary:
    """Import every template in an export (labels as in ``import_template``).

    All or nothing: one invalid template rolls the whole file back (see import_all).
    """
    items = loads(text, fmt)
    return import_all(items, workspace=workspace, user=user, move_labels=move_labels)


def import_all(
    items: list[dict[str, Any]], *, workspace=None, user=None, move_labels: bool = False
) -> ImportSummary:
    with transaction.atomic():
        done = [
            import_template(data=item, workspace=workspace, user=user, move_labels=move_labels)
            for item in items
        ]
    labels = [label for one in done for label in one.labels]
    return ImportSummary(len(done), sum(one.created for one in done), labels)
