"""A deliverable's template inputs, filled from its campaign's brief by name. Pure Python.

Each brief field fills the template variables named like it (``product`` fills ``product`` and
``product_name``…); the deliverable itself fills ``count``, ``channel`` and ``max_chars``; the
deliverable's own overrides win over all of that; a variable nothing fills keeps its default
(or stays out, and the template's form says it is required). Only the template's own
variables are returned, so nothing the template does not ask for reaches its prompt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

# Brief field → the variable names it fills (the demo templates' names included).
BRIEF_NAMES: dict[str, tuple[str, ...]] = {
    "product": ("product", "product_name"),
    "audience": ("audience",),
    "offer": ("offer",),
    "key_message": ("key_message", "message", "benefit", "goal"),
    "dates": ("dates", "timing"),
    "notes": ("notes", "brief", "context", "features"),
}


def from_brief(brief: Mapping[str, str]) -> dict[str, str]:
    """The values the brief gives, by variable name (blank fields give nothing)."""
    values: dict[str, str] = {}
    for field, names in BRIEF_NAMES.items():
        value = str(brief.get(field) or "").strip()
        if value:
            values |= dict.fromkeys(names, value)
    return values


def fill_inputs(
    variables: Iterable[str],
    *,
    brief: Mapping[str, str],
    deliverable: Mapping[str, object] | None = None,
    overrides: Mapping[str, object] | None = None,
    defaults: Mapping[str, object] | None = None,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, object]:
    """The inputs for a template whose variables are ``variables`` (names, in order).

    Precedence, lowest first: the variable's default, the brief, the deliverable's own facts
    (``count``, ``channel``, ``max_chars``), the deliverable's overrides (a blank override
    counts as not given). A variable answered from a list (``choices``) takes the brief's or
    the deliverable's value only if it is one of them; an override is kept as given, for the
    template's form to accept or refuse.
    """
    choices = choices or {}
    given = {
        name: value
        for name, value in (from_brief(brief) | dict(deliverable or {})).items()
        if name not in choices or str(value) in choices[name]
    }
    given |= {k: v for k, v in (overrides or {}).items() if str(v).strip() != ""}
    defaults = defaults or {}
    inputs: dict[str, object] = {}
    for name in variables:
        if name in given:
            inputs[name] = given[name]
        elif defaults.get(name) not in (None, ""):
            inputs[name] = defaults[name]
    return inputs
