"""Typed DeepSeek errors with plain-English messages and retry hints.

Every failure the client can raise is a :class:`DeepSeekError`. ``message`` is what the API (or
the network) said, for logs; ``user_message`` is what an editor should read, including what to
do next; ``retryable`` tells the resilience layer whether sending the same request again can
help; ``upstream_failure`` tells the circuit breaker whether the error says something about
DeepSeek's health (a 5xx, a timeout, a dropped connection) rather than about this request or
this account.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal

TimeoutKind = Literal["connect", "first_token", "idle", "total"]


class DeepSeekError(Exception):
    """Base class for everything the DeepSeek client raises."""

    retryable: ClassVar[bool] = False
    upstream_failure: ClassVar[bool] = False
    default_user_message: ClassVar[str] = (
        "DeepSeek returned an unexpected error. Try again; if it keeps happening, report it."
    )

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        user_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message or self.default_user_message)
        self.message = message
        self.status = status
        self.user_message = user_message or self.default_user_message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class BadRequest(DeepSeekError):
    """400/422: the request itself is wrong; sending it again will fail again."""

    def __init__(self, message: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("user_message", _bad_request_advice(message))
        super().__init__(message, **kwargs)


class AuthenticationFailed(DeepSeekError):
    """401: the API key is missing, wrong or revoked."""

    default_user_message = "The DeepSeek API key was rejected. Check DEEPSEEK_API_KEY."


class InsufficientBalance(DeepSeekError):
    """402: the account has no credit left."""

    default_user_message = (
        "The DeepSeek account has run out of credit. Top up the balance on "
        "platform.deepseek.com, then try again."
    )


class RateLimited(DeepSeekError):
    """429: over the account's concurrency limit; ``retry_after`` when DeepSeek said when."""

    retryable = True
    default_user_message = (
        "DeepSeek is receiving too many requests from this account right now. "
        "Wait a moment and try again."
    )

    def __init__(self, message: str = "", **kwargs: Any) -> None:
        if kwargs.get("retry_after") is not None:
            seconds = max(1, math.ceil(kwargs["retry_after"]))
            unit = "second" if seconds == 1 else "seconds"
            kwargs.setdefault(
                "user_message",
                "DeepSeek is receiving too many requests from this account right now. "
                f"Try again in {seconds} {unit}.",
            )
        super().__init__(message, **kwargs)


class Overloaded(DeepSeekError):
    """500/502/503/504: a server-side failure that usually passes."""

    upstream_failure = True

    retryable = True
    default_user_message = "DeepSeek is overloaded or had a server error. Try again in a minute."


class UpstreamTimeout(DeepSeekError):
    """DeepSeek did not answer within one of the client's deadlines (see ``kind``)."""

    upstream_failure = True

    retryable = True
    _advice: ClassVar[dict[str, str]] = {
        "connect": "Could not reach DeepSeek in time. Check the network connection and try again.",
        "first_token": (
            "DeepSeek took too long to start answering (it may be queueing requests). "
            "Try again in a minute."
        ),
        "idle": "DeepSeek stopped sending text in the middle of the answer. Try again.",
        "total": (
            "The answer took longer than the allowed time and was stopped. "
            "Try again, or ask for a shorter answer."
        ),
    }

    def __init__(self, kind: TimeoutKind, seconds: float | None = None, **kwargs: Any) -> None:
        self.kind = kind
        self.seconds = seconds
        after = f" after {seconds:g} s" if seconds is not None else ""
        kwargs.setdefault("user_message", self._advice[kind])
        super().__init__(f"{kind} timeout{after}", **kwargs)


class ConnectionFailed(DeepSeekError):
    """The connection could not be made or broke before a response arrived."""

    upstream_failure = True

    retryable = True
    default_user_message = (
        "Could not connect to DeepSeek. Check the network connection and DEEPSEEK_BASE_URL, "
        "then try again."
    )


class ProtocolError(DeepSeekError):
    """The server sent something that is not the DeepSeek wire format."""

    upstream_failure = True

    default_user_message = (
        "DeepSeek sent a response that could not be read. Try again; "
        "if it keeps happening, report it."
    )


class StreamTruncated(DeepSeekError):
    """The stream ended without ``[DONE]`` and without a finish reason: never a success."""

    upstream_failure = True

    # Cuts come from dropped connections and gateway limits, which a new attempt usually avoids.
    retryable = True
    default_user_message = (
        "The answer was cut off because the connection to DeepSeek dropped before it "
        "finished. Try again."
    )


class CircuitOpen(DeepSeekError):
    """The circuit breaker is open: recent requests to DeepSeek kept failing, so this one is
    refused at once instead of waiting for another timeout. ``retry_after`` is the number of
    seconds until the breaker lets a trial request through."""

    def __init__(self, upstream: str, retry_after: float, **kwargs: Any) -> None:
        self.upstream = upstream
        seconds = max(1, math.ceil(retry_after))
        when = "in about 1 second" if seconds == 1 else f"in about {seconds} seconds"
        kwargs.setdefault(
            "user_message",
            "DeepSeek is unavailable right now: several requests in a row failed. The studio "
            f"will try it again {when}; nothing was sent and nothing was lost.",
        )
        super().__init__(
            f"circuit open for {upstream}; next trial in {retry_after:.1f} s",
            retry_after=retry_after,
            **kwargs,
        )


class ContextTooLong(BadRequest):
    """The pre-flight estimate says the prompt cannot fit the model's context window.

    Raised before anything is sent; ``estimated_tokens`` counts the prompt (by DeepSeek's
    characters-per-token rule of thumb) plus the requested answer length.
    """

    def __init__(
        self, *, model: str, estimated_tokens: int, prompt_tokens: int, limit: int
    ) -> None:
        self.model = model
        self.estimated_tokens = estimated_tokens
        self.prompt_tokens = prompt_tokens
        self.limit = limit
        if prompt_tokens > limit:
            advice = (
                f"The prompt is about {prompt_tokens:,} tokens, more than the {limit:,} tokens "
                f"{model} can read. Shorten the inputs and try again."
            )
        else:
            advice = (
                f"The prompt (about {prompt_tokens:,} tokens) plus the answer length "
                f"({estimated_tokens - prompt_tokens:,} tokens) exceeds the {limit:,}-token "
                f"context of {model}. Shorten the inputs or lower the answer length."
            )
        super().__init__(
            f"estimated {estimated_tokens} tokens > context {limit} for {model}",
            user_message=advice,
        )


class JsonPromptRequired(BadRequest):
    """JSON output mode was asked for, but no message mentions "json".

    DeepSeek requires the word in the prompt; without it the model may emit whitespace until
    it hits ``max_tokens``. Raised before anything is sent.
    """

    default_user_message = (
        "JSON output needs the word \u201cjson\u201d in the system or user message (for example "
        "\u201cAnswer in JSON with the keys title and summary\u201d). Add it to the prompt "
        "and try again."
    )

    def __init__(self, message: str = "JSON mode without 'json' in any message") -> None:
        super().__init__(message, user_message=self.default_user_message)


class UnknownModel(BadRequest):
    """DeepSeek refused the model name; ``available`` lists the other models the key can use.

    ``available`` never names the refused model: DeepSeek's list can include a name its chat
    endpoint refuses (a model being retired, or one this key or endpoint may not use), and
    advising the very model that failed sends the editor round in a circle.
    """

    def __init__(self, model: str, available: list[str], **kwargs: Any) -> None:
        self.model = model
        self.listed = model in available
        self.available = [name for name in available if name != model]
        names = ", ".join(self.available) if self.available else "none could be listed"
        refused = (
            f"DeepSeek refused the model \u201c{model}\u201d for this API key, though it lists it."
            if self.listed
            else f"DeepSeek has no model called \u201c{model}\u201d."
        )
        kwargs.setdefault(
            "user_message",
            f"{refused} Other models this API key can use: {names}. "
            "Change the template's model or DEEPSEEK_MODEL.",
        )
        super().__init__(f"Model Not Exist: {model}", **kwargs)


def _bad_request_advice(message: str) -> str:
    """Turn a 400/422 message into advice; unknown messages are shown as they are."""
    lowered = message.lower()
    if "content exists risk" in lowered:
        return (
            "DeepSeek refused this prompt on content-safety grounds. Rephrase the prompt; "
            "sending it unchanged will fail again."
        )
    if "model not exist" in lowered:
        return "DeepSeek does not know the configured model name. Check DEEPSEEK_MODEL."
    if "maximum context length" in lowered:
        return "The prompt is too long for the model. Shorten it or lower the answer length."
    if "max_tokens" in lowered:
        return f"The answer length setting is out of range: {message}"
    return (
        f"DeepSeek rejected the request: {message}"
        if message
        else ("DeepSeek rejected the request as invalid.")
    )


def _parse_retry_after(value: str | None) -> float | None:
    """Read a Retry-After header: delay in seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup that works for httpx.Headers and plain dicts."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _error_message(body: bytes) -> str:
    """Extract the message from any of the error body shapes DeepSeek has used."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        return text  # 2024-era 422s are plain text
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if data.get("detail"):  # the 2024 {"detail": "Content Exists Risk"} shape
            return str(data["detail"])
        if data.get("message"):
            return str(data["message"])
    return text


def error_from_response(
    status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> DeepSeekError:
    """Map an HTTP error response to the matching :class:`DeepSeekError` subclass.

    Understands the ``{"error": {"message", "type", "param", "code"}}`` envelope, the older
    ``{"detail": "..."}`` shape and plain-text bodies.
    """
    message = _error_message(body)
    retry_after = _parse_retry_after(_header(headers, "retry-after"))
    kwargs: dict[str, Any] = {"status": status, "retry_after": retry_after}
    if status in (400, 422):
        return BadRequest(message, **kwargs)
    if status == 401:
        return AuthenticationFailed(message, **kwargs)
    if status == 402:
        return InsufficientBalance(message, **kwargs)
    if status == 429:
        return RateLimited(message, **kwargs)
    if status >= 500:
        return Overloaded(message, **kwargs)
    if status == 404:
        return DeepSeekError(
            message,
            user_message="The DeepSeek API address was not found. Check DEEPSEEK_BASE_URL.",
            **kwargs,
        )
    return DeepSeekError(message, **kwargs)
