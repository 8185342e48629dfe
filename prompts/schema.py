"""One typed schema for template data: the editor, import and the forms built from stored
versions all check it the same way.

Validation is strict (JSON and YAML already carry types: ``"8"`` is not a number, ``true``
is not 1), and pydantic's errors are turned into short sentences naming the field, so an
author reads "Variable 'words': min must be a whole number.", never a pydantic dump.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .constants import BRAND_VOICE, PRODUCTION, Purpose
from .placeholders import placeholders

# A brand voice is not a variable: the template includes one, and it fills {{ brand_voice }}.
VARIABLE_TYPES = (
    "text", "textarea", "choice", "number", "tone", "language", "audience", "knowledge",
)  # fmt: skip
# The variable a version grounds its drafts with: no input, filled with numbered passages
# of the workspace's knowledge at generation time (drafts.grounding). One per version.
KNOWLEDGE = "knowledge"
KNOWLEDGE_OPTIONS = ("tags", "sources", "passages")
DEFAULT_PASSAGES = 5
MAX_PASSAGES = 20
# The labels the template page can move; an import may point only these at its version.
LABEL_NAMES = (PRODUCTION, "staging")
# The editor's bound on a version's answer length (DeepSeek's largest output).
MAX_TOKENS = 65_536
# A form's inputs are refused over 20,000 characters in all (TemplateForm.clean).
MAX_INPUT_LENGTH = 20_000
MAX_VARIABLES = 50
MAX_CHOICES = 100
# Far beyond any count a prompt asks for, small enough to stay an ordinary integer.
NUMBER_LIMIT = 1_000_000_000
SLUG = re.compile(r"[-a-zA-Z0-9_]+")
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")


class InvalidTemplate(ValueError):
    """A template definition whose prompts and variables do not fit together."""


def _refuse(message: str) -> PydanticCustomError:
    # The text goes through the context: a message holding "{{ name }}" is not a format string.
    return PydanticCustomError("studio", "{message}", {"message": message})


def _identifier(name: str) -> str:
    if not name.isidentifier():
        raise _refuse(_("Variable name %(name)r is not a valid identifier.") % {"name": name})
    return name


def _slug(slug: str) -> str:
    if not SLUG.fullmatch(slug):
        raise _refuse(
            _("The slug %(slug)r may hold only letters, digits, hyphens and underscores.")
            % {"slug": slug}
        )
    return slug


def _purpose(purpose: str) -> str:
    if purpose not in Purpose.values:
        raise _refuse(_("Unknown purpose %(purpose)r.") % {"purpose": purpose})
    return purpose


def _label(name: str) -> str:
    if name not in LABEL_NAMES:
        raise _refuse(
            _("Unknown label %(name)r (labels: %(known)s).")
            % {"name": name, "known": ", ".join(LABEL_NAMES)}
        )
    return name


def _model_name(model: str | None) -> str:
    if model and not MODEL_NAME.fullmatch(model):
        raise _refuse(
            _("The model name %(model)r may hold only letters, digits and . _ : / -.")
            % {"model": model}
        )
    return model or ""


Number = Annotated[int, Field(ge=-NUMBER_LIMIT, le=NUMBER_LIMIT)]
Choice = Annotated[str, Field(max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=200)]


class VariableSchema(BaseModel):
    """What one stored variable may hold (``TemplateVersion.variables``); code reads the
    validated result as a :class:`prompts.variables.Variable`."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_identifier)]
    type: str = Field("text", max_length=32)
    label: str = Field("", max_length=120)
    help: str = Field("", max_length=300)
    required: bool = True
    default: Any = None
    choices: list[Choice] | None = Field(None, max_length=MAX_CHOICES)
    max_length: int | None = Field(None, ge=1, le=MAX_INPUT_LENGTH)
    min: Number | None = None
    max: Number | None = None
    # A knowledge variable's: the tags or source titles it draws from, how many passages.
    tags: list[Tag] | None = Field(None, max_length=MAX_CHOICES)
    sources: list[Tag] | None = Field(None, max_length=MAX_CHOICES)
    passages: int | None = Field(None, ge=1, le=MAX_PASSAGES)

    @field_validator("type")
    @classmethod
    def _known_type(cls, kind: str, info: ValidationInfo) -> str:
        if kind == BRAND_VOICE:  # a variable type once; exports from then still say it
            message = _(
                "Variable %(name)r: a brand voice is not a variable. Write {{ brand_voice }} "
                "in the prompt and pick the template's brand voice."
            )
            raise _refuse(message % {"name": info.data.get("name")})
        if kind not in VARIABLE_TYPES:
            message = _("Variable %(name)r has unknown type %(type)r.")
            raise _refuse(message % {"name": info.data.get("name"), "type": kind})
        return kind

    @model_validator(mode="after")
    def _options_fit(self) -> VariableSchema:
        name = {"name": self.name}
        if self.type == "choice" and not self.choices:
            raise _refuse(_("Choice variable %(name)r needs choices.") % name)
        knowledge_options = [o for o in KNOWLEDGE_OPTIONS if getattr(self, o) is not None]
        if self.type != KNOWLEDGE and knowledge_options:
            message = _("Variable %(name)r: %(option)s is only for a knowledge variable.")
            raise _refuse(message % {**name, "option": knowledge_options[0]})
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _refuse(_("Variable %(name)r: min must not be more than max.") % name)
        if self.default is not None and not self._default_fits():
            if self.type == "number":
                message = _(
                    "Variable %(name)r: default must be a whole number between min and max."
                )
            else:
                message = _(
                    "Variable %(name)r: default must be a text of at most %(n)s characters."
                )
            raise _refuse(message % {**name, "n": self.text_length()})
        return self

    def _default_fits(self) -> bool:
        value = self.default
        if self.type == "number":
            low = -NUMBER_LIMIT if self.min is None else self.min
            high = NUMBER_LIMIT if self.max is None else self.max
            return type(value) is int and low <= value <= high
        return isinstance(value, str) and len(value) <= self.text_length()

    def text_length(self) -> int:
        """How long an answer may be: its own ``max_length``, else the type's usual cap."""
        return self.max_length or (4000 if self.type == "textarea" else 300)


class VersionData(BaseModel):
    """The versioned part of a template: prompts, variables and model presets."""

    model_config = ConfigDict(strict=True, extra="ignore")

    system_prompt: str
    user_prompt: str
    variables: list[VariableSchema] | None = Field(None, max_length=MAX_VARIABLES)
    model: Annotated[str | None, Field(max_length=64), AfterValidator(_model_name)] = ""
    thinking: bool | None = False
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS)


class TemplateData(VersionData):
    """One template as export writes it and import reads it (unknown keys are refused)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    slug: Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_slug)]
    name: str = Field(min_length=1, max_length=120)
    purpose: Annotated[str, Field(max_length=16), AfterValidator(_purpose)]
    description: str = Field("", max_length=300)
    labels: list[Annotated[str, Field(max_length=32), AfterValidator(_label)]] = Field(
        [], max_length=len(LABEL_NAMES)
    )
    brand_voice: str | None = Field(None, max_length=120)


# --- Human messages ------------------------------------------------------------------------


def _translated(kind: str) -> str:
    """The message for a pydantic error type, in the active language."""
    messages = {
        "missing": _("%(field)s is required."),
        "extra_forbidden": _("%(field)s is not a known option."),
        "string_type": _("%(field)s must be a text."),
        "int_type": _("%(field)s must be a whole number."),
        "float_type": _("%(field)s must be a number."),
        "bool_type": _("%(field)s must be true or false."),
        "list_type": _("%(field)s must be a list."),
        "model_type": _("%(field)s must be an object."),
        "string_too_short": _("%(field)s must not be empty."),
        "string_too_long": _("%(field)s is too long (%(max_length)s characters at most)."),
        "too_long": _("%(field)s has too many entries (%(max_length)s at most)."),
        "greater_than_equal": _("%(field)s must be at least %(ge)s."),
        "less_than_equal": _("%(field)s must be at most %(le)s."),
    }
    return messages.get(kind) or _("%(field)s is not valid.")


def _variable_name(raw: Any, index: int) -> str:
    variables = raw.get("variables") if isinstance(raw, Mapping) else None
    var = variables[index] if isinstance(variables, list) and index < len(variables) else None
    name = var.get("name") if isinstance(var, Mapping) else None
    return repr(name) if isinstance(name, str) and len(name) <= 64 else f"#{index + 1}"


def _message(error: Mapping[str, Any], raw: Any) -> tuple[str, str]:
    """(top-level field, sentence) for one pydantic error."""
    loc, kind, ctx = error["loc"], error["type"], error.get("ctx") or {}
    field = str(loc[0]) if loc else ""
    if kind == "studio":
        return field, ctx["message"]
    path = list(loc)
    prefix = ""
    if field == "variables" and len(path) > 1 and isinstance(path[1], int):
        name = _variable_name(raw, path[1])
        path = path[2:]
        if not path:  # the entry itself
            return field, _("Variable %(name)s must be an object.") % {"name": name}
        prefix = _("Variable %(name)s: ") % {"name": name}
        if path and path[0] == "choices" and kind in {"string_type", "list_type"}:
            return field, prefix + _("choices must be a list of texts.")
    name = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    params = {"field": name or field or _("The template"), **ctx}
    return field, prefix + _translated(kind) % params


def _problems(schema: type[BaseModel], data: Any) -> list[tuple[str, str]]:
    try:
        schema.model_validate(data)
    except ValidationError as error:
        return [_message(e, data) for e in error.errors(include_url=False)]
    return []


def variable_problems(variables: Any, *texts: Any) -> list[str]:
    """Problems across a variable list and the prompts using it: unique names, the reserved
    ``brand_voice``, every ``{{ name }}`` declared. Tolerant of malformed entries (those get
    their own messages from the schema)."""
    entries = variables if isinstance(variables, list) else []
    names = [v.get("name") for v in entries if isinstance(v, Mapping)]
    names = [n for n in names if isinstance(n, str)]
    problems: list[str] = []
    if len(set(names)) != len(names):
        problems.append(_("Variable names must be unique."))
    if BRAND_VOICE in names:
        problems.append(
            _("%(name)r is reserved: it is filled from the brand voice.") % {"name": BRAND_VOICE}
        )
    kinds = [v.get("type") for v in entries if isinstance(v, Mapping)]
    if kinds.count(KNOWLEDGE) > 1:
        problems.append(_("A template may have one knowledge variable at most."))
    for text in texts:
        if not isinstance(text, str):
            continue
        for name in sorted(placeholders(text) - set(names) - {BRAND_VOICE}):
            problems.append(
                _("The prompt uses {{ %(name)s }} but no such variable is declared.")
                % {"name": name}
            )
    return problems


def problems_by_variable(variables: list[Any]) -> dict[int, list[str]]:
    """The problems of each entry of a variable list on its own, by position (the builder
    shows them next to the variable): its options, a name declared twice, the reserved
    ``brand_voice``. Problems across the prompts are :func:`variable_problems`'."""
    names = [v.get("name") if isinstance(v, Mapping) else None for v in variables]
    found: dict[int, list[str]] = {}
    for index, entry in enumerate(variables):
        problems = [message for _field, message in _problems(VariableSchema, entry)]
        if isinstance(names[index], str) and names.count(names[index]) > 1:
            problems.append(_("Variable names must be unique."))
        if names[index] == BRAND_VOICE:
            problems.append(
                _("%(name)r is reserved: it is filled from the brand voice.")
                % {"name": BRAND_VOICE}
            )
        if problems:
            found[index] = problems
    return found


class _Variables(BaseModel):
    model_config = ConfigDict(strict=True)

    variables: list[VariableSchema] = Field(max_length=MAX_VARIABLES)


def variables_problems(variables: Any, *texts: Any) -> list[str]:
    """Every problem with a variable list and the prompt texts using it (empty when valid)."""
    problems = _problems(_Variables, {"variables": variables})
    return [message for _field, message in problems] + variable_problems(variables, *texts)


def version_problems(data: Any, schema: type[VersionData] = VersionData) -> list[tuple[str, str]]:
    """Every problem with a version's (or with ``schema=TemplateData``, a whole template's)
    data, as (field, sentence) pairs; empty when it is valid."""
    if not isinstance(data, Mapping):
        return [("", _("A template must be an object."))]
    problems = _problems(schema, data)
    texts = (data.get("system_prompt"), data.get("user_prompt"))
    problems += [("variables", p) for p in variable_problems(data.get("variables"), *texts)]
    return problems


def check_template(data: Any, schema: type[VersionData] = TemplateData) -> VersionData:
    """``data`` validated, or :class:`InvalidTemplate` naming the template and each problem."""
    problems = version_problems(data, schema)
    if problems:
        slug = data.get("slug") if isinstance(data, Mapping) else None
        if not (isinstance(slug, str) and SLUG.fullmatch(slug)):
            slug = None  # a slug that is itself the problem does not name the template
        name = slug or (data.get("name") if isinstance(data, Mapping) else None)
        where = name if isinstance(name, str) and len(name) <= 120 else _("Template")
        raise InvalidTemplate(f"{where}: " + " ".join(message for _f, message in problems))
    return schema.model_validate(data)


# --- Stored data ---------------------------------------------------------------------------

# A rule across options failed (min above max, a default that does not fit, a choice list
# missing): drop these in turn until the variable is usable.
_CROSS_OPTIONS: tuple[frozenset[str], ...] = (
    frozenset(KNOWLEDGE_OPTIONS),
    frozenset({"min", "max", "default"}),
    frozenset({"type"}),
)


def _usable(var: Mapping[str, Any]) -> VariableSchema | None:
    options, cross = dict(var), iter(_CROSS_OPTIONS)
    for _attempt in range(len(var) + len(_CROSS_OPTIONS) + 1):
        try:
            return VariableSchema.model_validate(options)
        except ValidationError as error:
            bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            if "name" in bad:
                return None
            bad = bad or next(cross, frozenset({"name"}))
            options = {k: v for k, v in options.items() if k not in bad}
    return None


def usable_variables(raw: Any) -> list[VariableSchema]:
    """A stored version's variables as the form can use them, even when saved before this
    schema: an invalid option is dropped (a ``max_length`` of ``"abc"`` means the default
    length), a variable without a usable name or declared twice is left out."""
    usable: dict[str, VariableSchema] = {}
    for var in raw if isinstance(raw, list) else []:
        parsed = _usable(var) if isinstance(var, Mapping) else None
        if parsed is not None:
            usable.setdefault(parsed.name, parsed)
    return list(usable.values())
