"""A template version's variables as typed values: the one way code reads them.

``TemplateVersion.variables`` stays a JSON list (the storage and export format); everything
that reads it goes through :meth:`Variable.parse_all` (or ``version.variable_specs``), which
validates with the pydantic schema in :mod:`prompts.schema` and hands back frozen dataclasses,
so nobody reads ``var["choices"]`` by string key. :meth:`Variable.to_json` writes one back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from .schema import DEFAULT_PASSAGES, KNOWLEDGE, VariableSchema, usable_variables

# Built-in choice lists for the typed variables that need no author-provided choices.
TONES = ("friendly", "professional", "playful", "bold", "empathetic", "authoritative")
LANGUAGES = ("English", "简体中文")
# Suggestions only: an audience variable takes any text (a template's own choices replace them).
AUDIENCES = (
    "general readers",
    "existing customers",
    "new prospects",
    "developers",
    "designers",
    "decision-makers",
)
# What the editor and the template page call each type.
TYPE_LABELS = {
    "text": _("Short text"),
    "textarea": _("Long text"),
    "choice": _("Choice"),
    "number": _("Number"),
    "tone": _("Tone"),
    "language": _("Language"),
    "audience": _("Audience"),
    "knowledge": _("Knowledge (sources)"),
}
# The types whose answer is one of a list: the author's choices, else the built-in list.
PICKED_TYPES = frozenset({"choice", "tone", "language"})


@dataclass(frozen=True, slots=True)
class Variable:
    """One typed variable of a template version (what its generate form asks for)."""

    name: str
    type: str = "text"
    label: str = ""
    help: str = ""
    required: bool = True
    default: str | int | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    # A knowledge variable's (prompts.schema.KNOWLEDGE): what it draws from, how much.
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    passages: int | None = None

    @classmethod
    def from_schema(cls, var: VariableSchema) -> Variable:
        """The dataclass for a variable the schema has already validated."""
        lists = {key: tuple(getattr(var, key) or ()) for key in ("choices", "tags", "sources")}
        return cls(**{**var.model_dump(), **lists})

    @classmethod
    def parse_all(cls, raw: Any) -> list[Variable]:
        """A stored variable list as typed values, tolerant of versions saved before the
        schema: an invalid option is dropped, an entry without a usable name (or declared
        twice) is left out (see :func:`prompts.schema.usable_variables`)."""
        return [cls.from_schema(var) for var in usable_variables(raw)]

    def to_json(self) -> dict[str, Any]:
        """The stored form: name and type always, the other options only where set."""
        data: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.label:
            data["label"] = self.label
        if self.help:
            data["help"] = self.help
        data["required"] = self.required
        optional = {
            "default": self.default,
            "choices": list(self.choices) or None,
            "max_length": self.max_length,
            "min": self.min,
            "max": self.max,
            "tags": list(self.tags) if self.is_knowledge else None,
            "sources": list(self.sources) if self.is_knowledge else None,
            "passages": self.passages,
        }
        return data | {key: value for key, value in optional.items() if value is not None}

    def text_length(self) -> int:
        """How long an answer may be: its own ``max_length``, else the type's usual cap."""
        return self.max_length or (4000 if self.type == "textarea" else 300)

    def field_label(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def options(self) -> tuple[str, ...]:
        """What a picked or suggested answer may be: the author's choices, else the type's
        built-in list (empty for the free-text types)."""
        builtin = {"tone": TONES, "language": LANGUAGES, "audience": AUDIENCES}
        return self.choices or builtin.get(self.type, ())

    @property
    def is_picked(self) -> bool:
        """Whether the answer is one of :meth:`options` (a select, not free text)."""
        return self.type in PICKED_TYPES

    @property
    def is_knowledge(self) -> bool:
        """Whether it is filled with passages of the workspace's knowledge, not by the form."""
        return self.type == KNOWLEDGE

    def passage_count(self) -> int:
        """How many passages a knowledge variable asks for at most."""
        return self.passages or DEFAULT_PASSAGES

    @property
    def type_label(self) -> str:
        return str(TYPE_LABELS.get(self.type, self.type))

    @property
    def has_default(self) -> bool:
        return self.default not in (None, "")


def to_json(variables: list[Variable]) -> list[dict[str, Any]]:
    """A variable list in its stored form."""
    return [var.to_json() for var in variables]
