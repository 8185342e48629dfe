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
    UnknownModel,
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
    """What the API answers when DeepSeek failed (docs/api.md, "Errors").

    The studio's key and account are not the caller's, so an upstream 401/402 is never a
    401/402-as-if-yours, and never a status that clients retry (the ``openai`` SDK retries
    408, 409, 429 and 5xx): nothing changes until the studio's operators act. Failures that
    pass (429, 5xx, timeouts) stay retryable, with a ``Retry-After`` where it is known.
    """
    match exc:
        case UnknownModel():
            return _unknown_model(exc)
        case BadRequest():
            status, kind = 400, "invalid_request_error"
        case RateLimited():
            status, kind = 429, "rate_limit_error"
        case UpstreamTimeout():
            status, kind = 504, "upstream_timeout"
        case InsufficientBalance():
            message = _(
                "The studio's model provider account has run out of credit. Retrying will "
                "not help until the studio's operators top it up."
            )
            return ApiError(402, message, type="insufficient_quota", code="insufficient_quota")
        case AuthenticationFailed():
            message = _(
                "The model provider rejected the studio's own API key (not yours). Retrying "
                "will not help; tell the studio's operators."
            )
            return ApiError(424, message, type="upstream_error", code="upstream_auth_failed")
        case Overloaded():
            status, kind = 503, "upstream_unavailable"
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


def _unknown_model(exc: UnknownModel) -> ApiError:
    """A model name the provider refuses: the caller's or the studio's, never worth a retry."""
    message = _("The model \u201c%(model)s\u201d does not exist at the model provider.") % {
        "model": exc.model
    }
    if exc.available:
        message += " " + _("Models you can name: %(models)s.") % {
            "models": ", ".join(exc.available)
        }
    return ApiError(404, message, code="model_not_found", param="model")


def unknown_template_model(generation: Any) -> ApiError:
    """A template's model the provider refused (the generation failed; its draft is kept)."""
    message = _(
        "The template's model \u201c%(model)s\u201d does not exist at the model provider: "
        "change the template's model. Generation %(generation)s failed; its draft is kept."
    ) % {"model": generation.model, "generation": generation.pk}
    return ApiError(404, message, code="model_not_found", param="template")
