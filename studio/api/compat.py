"""What OpenAI clients send that DeepSeek's chat models do not take: refused or normalised.

Tool calling is refused (the endpoint does not pass tools on, so a client relying on them
must be told, not handed plain text). Role ``developer`` and content given as a list of text
parts, which the ``openai`` SDK and many clients send, are rewritten to what DeepSeek
accepts (``system``; one string) before the prompt is checked, cached, sent and audited.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from .errors import ApiError
from .schemas import ChatCompletionIn

# A field and the values that ask for no tools (and so may pass).
TOOL_FIELDS: dict[str, tuple[Any, ...]] = {
    "tools": (None, []),
    "tool_choice": (None, "none"),
    "functions": (None, []),
    "function_call": (None, "none"),
}
# OpenAI joins nothing itself; the parts' texts are joined with a newline, so words of two
# parts never run together.
PART_SEPARATOR = "\n"


def refuse_unsupported(payload: ChatCompletionIn) -> None:
    """Raise a 400 naming the first tool-calling field that asks for tools."""
    for name, harmless in TOOL_FIELDS.items():
        if getattr(payload, name) not in harmless:
            raise ApiError(
                400,
                _(
                    "'%(param)s' is not supported: this endpoint does not do tool or function "
                    "calling. Send the request without it."
                )
                % {"param": name},
                code="unsupported_parameter",
                param=name,
            )


def _text(content: Any, index: int) -> Any:
    if not isinstance(content, list):
        return content
    texts = []
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind != "text" or not isinstance(part.get("text"), str):
            raise ApiError(
                400,
                _(
                    "DeepSeek's chat models take text only: content parts of type "
                    "'%(type)s' are not supported. Send text parts or a string."
                )
                % {"type": kind or type(part).__name__},
                code="unsupported_content",
                param=f"messages[{index}].content[{number}]",
            )
        texts.append(part["text"])
    return PART_SEPARATOR.join(texts)


def upstream_messages(payload: ChatCompletionIn) -> list[dict[str, Any]]:
    """The request's messages as DeepSeek takes them: ``developer`` becomes ``system`` and a
    list of text parts one string (their texts joined by a newline); other parts are a 400."""
    messages = []
    for index, message in enumerate(payload.messages):
        data = message.dict(exclude_none=True)
        if data["role"] == "developer":
            data["role"] = "system"
        if "content" in data:
            data["content"] = _text(data["content"], index)
        messages.append(data)
    return messages
