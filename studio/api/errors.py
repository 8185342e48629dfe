"""API errors in OpenAI's envelope, and DeepSeek failures mapped to honest status codes."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from studio.deepseek import (
    AuthenticationFailed,
    BadRequest,
    DeepSeekError,
    InsufficientBalance,
    Overloaded,
    RateLimited,
    UpstreamTimeout,
)


class ApiError(Exception):
    """An error answer: HTTP status, a message a developer can act on, a stable code."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - OpenAI's field name
        code: str = "error",
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = (
            status,
            message,
            type,
            code,
            param,
        )
        self.headers: dict[str, str] = {}


def error_body(error: ApiError) -> dict[str, Any]:
    return {
        "error": {
            "message": error.message,
            "type": error.type,
            "code": error.code,
            "param": error.param,
        }
    }


def upstream_error(exc: DeepSeekError) -> ApiError:
    """What the API answers when DeepSeek failed (the studio's key and account, not the
    caller's, so authentication and billing problems upstream are 502/503, not 401/402)."""
    match exc:
        case BadRequest():
            status, kind = 400, "invalid_request_error"
        case RateLimited():
            status, kind = 429, "rate_limit_error"
        case UpstreamTimeout():
            status, kind = 504, "upstream_timeout"
        case InsufficientBalance() | Overloaded():
            status, kind = 503, "upstream_unavailable"
        case AuthenticationFailed():
            status, kind = 502, "upstream_error"
        case _:
            status = 503 if getattr(exc, "retry_after", None) else 502
            kind = "upstream_error"
    message = exc.user_message
    if "DEEPSEEK_" in message:  # advice for the studio's operators names its settings
        message = _(
            "The studio could not use its model provider. Try again later; if it keeps "
            "happening, tell the studio's operators."
        )
    error = ApiError(status, message, type=kind, code=type(exc).__name__)
    if exc.retry_after is not None or status in (429, 503):
        error.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after or 5)))
    return error
