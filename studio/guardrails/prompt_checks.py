"""Prompt checks before anything is sent to the model: length caps and blocked patterns.

Blocked patterns come from PROMPT_BLOCKED_PATTERNS, a mapping from a name people understand
("an API secret key (sk-…)") to a regular expression; the error names what was found and where,
never echoing the secret itself.

Two levels, used by every path that sends text to DeepSeek:

- ``validate_text``: one piece of text a user typed (a question, an instruction, a selection),
  through ``studio.guardrails.prompt_fields.PromptField``, so the error is the field's own
  and the text stays in the field;
- ``validate_prompt``: the whole prompt as it will be sent (with the draft, the conversation),
  right before the call is queued.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

TOO_LONG = "prompt_too_long"
BLOCKED = "prompt_blocked"
CODES = {TOO_LONG, BLOCKED}


@cache
def _compiled(patterns: tuple[tuple[str, str], ...]) -> list[tuple[str, re.Pattern[str]]]:
    return [(name, re.compile(regex, re.IGNORECASE)) for name, regex in patterns]


def blocked_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return _compiled(tuple(settings.PROMPT_BLOCKED_PATTERNS.items()))


def blocked_in(text: str) -> str | None:
    """The name of the first blocked pattern found in ``text``, or None."""
    return next((name for name, pattern in blocked_patterns() if pattern.search(text)), None)


def length_cap(own: int = 0) -> int:
    """The smaller of a field's own cap and PROMPT_MAX_CHARS (0 for either: no cap)."""
    caps = [cap for cap in (own, settings.PROMPT_MAX_CHARS) if cap]
    return min(caps) if caps else 0


def validate_text(text: str, *, max_chars: int = 0) -> None:
    """Raise ``ValidationError`` when one piece of user text may not be sent.

    ``max_chars`` is the field's own cap (PROMPT_MAX_CHARS caps it further). The codes are
    those of :func:`validate_prompt`; the message speaks of "this text", for a field.
    """
    cap = length_cap(max_chars)
    if cap and len(text) > cap:
        raise ValidationError(
            _("This text is %(length)s characters long; the limit is %(cap)s. Shorten it.")
            % {"length": f"{len(text):,}", "cap": f"{cap:,}"},
            code=TOO_LONG,
            params={"length": len(text), "cap": cap},
        )
    if name := blocked_in(text):
        raise ValidationError(
            _("This was not sent: it contains %(name)s. Remove it and try again.") % {"name": name},
            code=BLOCKED,
            params={"name": name},
        )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts: [{"type": "text", "text": ...}]
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def validate_prompt(
    messages: list[dict[str, Any]], *, sources: Sequence[str] | None = None
) -> None:
    """Raise ``django.core.exceptions.ValidationError`` when the prompt may not be sent.

    Checks the total length against PROMPT_MAX_CHARS and every message against the blocked
    patterns. The error's ``code`` is ``prompt_too_long`` or ``prompt_blocked`` (with
    ``params["name"]`` naming the pattern); its message says what to change.

    ``sources`` names, per message, where its text came from as the user knows it ("the
    draft", "an earlier answer"); without it the message's role is named.
    """
    texts = [_text(m.get("content")) for m in messages]
    length, cap = sum(len(t) for t in texts), settings.PROMPT_MAX_CHARS
    if cap and length > cap:
        raise ValidationError(
            _("The prompt is %(length)s characters long; the limit is %(cap)s. Shorten it.")
            % {"length": f"{length:,}", "cap": f"{cap:,}"},
            code=TOO_LONG,
            params={"length": length, "cap": cap},
        )
    for index, text in enumerate(texts, start=1):
        name = blocked_in(text)
        if name is None:
            continue
        if sources is not None and index <= len(sources):
            where = sources[index - 1]
        else:
            role = messages[index - 1].get("role", "")
            where = _("the %(role)s message") % {"role": role or index}
        raise ValidationError(
            _(
                "The prompt was blocked: it contains %(name)s (in %(where)s). "
                "Remove it and try again."
            )
            % {"name": name, "where": where},
            code=BLOCKED,
            params={"name": name, "message": index},
        )
