"""Safe prompt rendering: a deliberately small variable syntax.

Only ``{{ name }}`` placeholders are replaced, by the plain string value of a form field.
There are no attribute lookups, filters or tags, so a template author can never reach
settings, the database or another user's data (Django's template language could).
"""

import re

PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


class UnknownVariable(KeyError):
    """A placeholder names a variable the template does not declare."""


def placeholders(text: str) -> set[str]:
    """The variable names a prompt text refers to."""
    return set(PLACEHOLDER.findall(text))


def render_prompt(text: str, values: dict[str, object]) -> str:
    """Replace each ``{{ name }}`` with ``values[name]``; unknown names raise UnknownVariable."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise UnknownVariable(name)
        value = values[name]
        return "" if value is None else str(value).strip()

    return PLACEHOLDER.sub(substitute, text)
