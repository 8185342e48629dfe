"""What changed between two template versions, line by line (the standard library's difflib)."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import TemplateVersion


@dataclass(frozen=True)
class Line:
    kind: str  # "same", "removed", "added"
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True)
class FieldDiff:
    label: str  # translated lazily
    lines: list[Line]

    @property
    def changed(self) -> bool:
        return any(line.kind != "same" for line in self.lines)


def _presets(version: TemplateVersion) -> str:
    voice = version.brand_voice.name if version.brand_voice_id else "—"
    if version.brand_voice_version_id:
        voice += f" (pinned to v{version.brand_voice_version.number})"
    return "\n".join(
        [
            f"model: {version.model or '(default)'}",
            f"thinking: {'on' if version.thinking else 'off'}",
            f"temperature: {'(default)' if version.temperature is None else version.temperature}",
            f"max_tokens: {version.max_tokens or '(default)'}",
            f"brand voice: {voice}",
        ]
    )


def line_diff(old: str, new: str) -> list[Line]:
    """Every line of both texts, marked same / removed / added, with its line numbers."""
    a, b = old.splitlines(), new.splitlines()
    lines: list[Line] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [Line("same", i1 + k + 1, j1 + k + 1, a[i1 + k]) for k in range(i2 - i1)]
            continue
        lines += [Line("removed", i + 1, None, a[i]) for i in range(i1, i2)]
        lines += [Line("added", None, j + 1, b[j]) for j in range(j1, j2)]
    return lines


def version_diff(old: TemplateVersion, new: TemplateVersion) -> list[FieldDiff]:
    """System and user messages, variables (as indented JSON) and presets, compared."""

    def variables(v: TemplateVersion) -> str:
        return json.dumps(v.variables, ensure_ascii=False, indent=2)

    return [
        FieldDiff(_("System message"), line_diff(old.system_prompt, new.system_prompt)),
        FieldDiff(_("User message"), line_diff(old.user_prompt, new.user_prompt)),
        FieldDiff(_("Variables"), line_diff(variables(old), variables(new))),
        FieldDiff(_("Model and parameters"), line_diff(_presets(old), _presets(new))),
    ]
