"""Prompt checks before anything is sent to the model: length caps and blocked patterns.

Blocked patterns come from PROMPT_BLOCKED_PATTERNS, a mapping from a name people understand
("an API secret key (sk-…)") to a regular expression; the error names what was found and where,
never echoing the secret itself.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@cache
def _compiled(patterns: tuple[tuple[str, str], ...]) -> list[tuple[str, re.Pattern[str]]]:
    return [(name, re.compile(regex, re.IGNORECASE)) for name, regex in patterns]


def blocked_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return _compiled(tuple(settings.PROMPT_BLOCKED_PATTERNS.items()))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts: [{"type": "text", "text": ...}]
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def validate_prompt(messages: list[dict[str, Any]]) -> None:
    """Raise ``django.core.exceptions.ValidationError`` when the prompt may not be sent.

    Checks the total length against PROMPT_MAX_CHARS and every message against the blocked
    patterns. The error's ``code`` is ``prompt_too_long`` or ``prompt_blocked`` (with
    ``params["name"]`` naming the pattern); its message says what to change.
    """
    texts = [_text(m.get("content")) for m in messages]
    length, cap = sum(len(t) for t in texts), settings.PROMPT_MAX_CHARS
    if cap and length > cap:
        raise ValidationError(
            _("The prompt is %(length)s characters long; the limit is %(cap)s. Shorten it.")
            % {"length": f"{length:,}", "cap": f"{cap:,}"},
            code="prompt_too_long",
            params={"length": length, "cap": cap},
        )
    for index, text in enumerate(texts, start=1):
        for name, pattern in blocked_patterns():
            if pattern.search(text):
                role = messages[index - 1].get("role", "")
                raise ValidationError(
                    _(
                        "The prompt was blocked: it contains %(name)s (in the %(role)s message). "
                        "Remove it and try again."
                    )
                    % {"name": name, "role": role or index},
                    code="prompt_blocked",
                    params={"name": name, "message": index},
                )
