"""The template editor's variables builder: one row of inputs per variable, or the JSON.

The rows post as ordinary fields (``var-count``, ``var-0-name``, ``var-0-type`` …), so the
builder works without JavaScript; its buttons (add, remove, move, switch to JSON and back)
post the form with ``builder=<action>`` and the server answers with the builder again (the
whole page, or with htmx only ``#variables-builder``). The JSON ("Advanced") and the rows
are converted into each other on the server, so both always say the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext_lazy as _

from .schema import MAX_VARIABLES, VARIABLE_TYPES
from .variables import TYPE_LABELS

FORM, JSON = "form", "json"
PREFIX = "var"
# The options each type uses (the others are left out of its row and of the JSON).
CHOICE_TYPES = frozenset({"choice", "tone", "language", "audience"})
LENGTH_TYPES = frozenset({"text", "textarea", "audience"})
TEXT_OPTIONS = ("name", "type", "label", "help", "default", "choices", "min", "max", "max_length")


class NotRows(ValueError):
    """JSON the rows cannot show without losing something: it stays in the JSON view."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise NotRows(value)
    return str(value)


def _number(text: str) -> int | str:
    """A whole number where the text is one; else the text, for the schema to refuse."""
    try:
        return int(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Row:
    """One variable as the builder shows it: every option as the text of its input."""

    name: str = ""
    type: str = "text"
    label: str = ""
    help: str = ""
    required: bool = True
    default: str = ""
    choices: str = ""  # one per line
    min: str = ""
    max: str = ""
    max_length: str = ""
    problems: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, entry: Any) -> Row:
        """The row for one stored entry; :class:`NotRows` if it holds what a row cannot."""
        if not isinstance(entry, Mapping) or not set(entry) <= {*TEXT_OPTIONS, "required"}:
            raise NotRows(entry)
        choices = entry.get("choices") or []
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise NotRows(entry)
        required = entry.get("required", True)
        if not isinstance(required, bool) or any("\n" in c for c in choices):
            raise NotRows(entry)
        options = {key: _text(entry.get(key)) for key in TEXT_OPTIONS if key != "choices"}
        row = cls(**options | {"type": options["type"] or "text"}, required=required)
        row = replace(row, choices="\n".join(choices))
        # What this type's row has no input for would be lost on the next save.
        unused = (
            (choices and not row.uses_choices)
            or ((row.min or row.max) and row.type != "number")
            or (row.max_length and not row.uses_length)
        )
        if row.type not in VARIABLE_TYPES or unused:
            raise NotRows(entry)
        return row

    @classmethod
    def from_data(cls, data: Mapping[str, Any], index: int) -> Row:
        """The row posted as ``var-<index>-<option>`` fields."""

        def posted(key: str) -> str:
            return str(data.get(f"{PREFIX}-{index}-{key}", ""))

        options = {key: posted(key) for key in TEXT_OPTIONS}
        options["type"] = options["type"] or "text"
        return cls(**options, required=bool(data.get(f"{PREFIX}-{index}-required")))

    def to_json(self) -> dict[str, Any]:
        """The stored entry: the options this type uses, the texts as the schema expects
        them (numbers as numbers where they are whole numbers)."""
        entry: dict[str, Any] = {"name": self.name.strip(), "type": self.type}
        if self.label.strip():
            entry["label"] = self.label.strip()
        if self.help.strip():
            entry["help"] = self.help.strip()
        entry["required"] = self.required
        if self.default.strip():
            default = self.default.strip()
            entry["default"] = _number(default) if self.type == "number" else default
        if self.uses_choices and (choices := self.choice_list()):
            entry["choices"] = choices
        if self.type == "number":
            bounds = {"min": self.min.strip(), "max": self.max.strip()}
            entry |= {key: _number(value) for key, value in bounds.items() if value}
        if self.uses_length and self.max_length.strip():
            entry["max_length"] = _number(self.max_length.strip())
        return entry

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    @property
    def uses_choices(self) -> bool:
        return self.type in CHOICE_TYPES

    @property
    def uses_length(self) -> bool:
        return self.type in LENGTH_TYPES


@dataclass
class Builder:
    """The builder's state for one request: the mode, the rows or the JSON text, and what
    went wrong converting between them."""

    mode: str = FORM
    rows: list[Row] = field(default_factory=list)
    json_text: str = "[]"
    error: str = ""
    action: str = ""  # the button that posted (no save then)
    focus: int | None = None  # the row whose name input takes the focus (a new one)

    @classmethod
    def from_json(cls, variables: Any) -> Builder:
        """The builder for a stored list: the rows, or the JSON when rows cannot show it."""
        text = json.dumps(variables or [], ensure_ascii=False, indent=2)
        try:
            rows = _rows(variables or [])
        except NotRows:
            return cls(mode=JSON, json_text=text)
        return cls(mode=FORM, rows=rows, json_text=text)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Builder:
        """The builder as posted, with its button's action applied. A post without
        ``variables_mode`` (an older page, a script) is the JSON."""
        mode = FORM if data.get("variables_mode") == FORM else JSON
        if mode == FORM:
            count = _count(data.get(f"{PREFIX}-count"))
            rows = [Row.from_data(data, index) for index in range(count)]
            builder = cls(mode=FORM, rows=rows)
            builder.json_text = json.dumps(builder.variables(), ensure_ascii=False, indent=2)
        else:
            builder = cls(mode=JSON, json_text=str(data.get("variables", "")))
        builder.apply(str(data.get("builder", "")))
        return builder

    def variables(self) -> list[dict[str, Any]]:
        """The rows as the stored JSON list (form mode only)."""
        return [row.to_json() for row in self.rows]

    def apply(self, action: str) -> None:
        """Carry out one button: ``add``, ``remove-N``, ``up-N``, ``down-N``, ``json``,
        ``form`` or ``refresh`` (a type changed: show its options)."""
        self.action = action
        verb, _dash, number = action.partition("-")
        index = int(number) if number.isdigit() and len(number) < 4 else -1
        if verb == JSON and self.mode == FORM:
            self.mode = JSON
        elif verb == FORM and self.mode == JSON:
            self._to_rows()
        elif self.mode != FORM:
            return
        elif verb == "add" and len(self.rows) < MAX_VARIABLES:
            self.rows.append(Row(name=""))
            self.focus = len(self.rows) - 1
        elif verb == "remove" and 0 <= index < len(self.rows):
            del self.rows[index]
        elif verb in {"up", "down"}:
            other = index - 1 if verb == "up" else index + 1
            if 0 <= other < len(self.rows) and 0 <= index < len(self.rows):
                self.rows[index], self.rows[other] = self.rows[other], self.rows[index]
        if self.mode == FORM:
            self.json_text = json.dumps(self.variables(), ensure_ascii=False, indent=2)

    def _to_rows(self) -> None:
        try:
            parsed = json.loads(self.json_text.strip() or "[]")
            if not isinstance(parsed, list):
                raise NotRows(parsed)
            self.rows, self.mode = _rows(parsed), FORM
        except (ValueError, NotRows):
            self.error = str(
                _(
                    "The form can show only a valid JSON list of variables with the options "
                    "it knows: fix the JSON first (or keep editing it here)."
                )
            )

    def show_problems(self, problems: Mapping[int, list[str]]) -> None:
        """Put each row's problems next to it."""
        self.rows = [
            replace(row, problems=tuple(problems.get(i, ()))) for i, row in enumerate(self.rows)
        ]

    def types(self) -> list[tuple[str, str]]:
        return [(kind, str(TYPE_LABELS.get(kind, kind))) for kind in VARIABLE_TYPES]


def _rows(variables: list[Any]) -> list[Row]:
    if not isinstance(variables, list) or len(variables) > MAX_VARIABLES:
        raise NotRows(variables)
    return [Row.from_json(entry) for entry in variables]


def _count(value: Any) -> int:
    """A posted count: a small whole number, else 0."""
    text = str(value or "")
    return min(int(text), MAX_VARIABLES) if text.isdigit() and len(text) < 4 else 0
