"""API errors in OpenAI's envelope, and DeepSeek failures mapped to honest status codes."""

from __future__ import annotations

import math
import re
from typing import Any

from django.utils.translation import gettext as _

from studio.deepseek import (
    AuthenticationFailed,
    BadRequest,
    CircuitOpen,
    DeepSeekError,
    InsufficientBalance,
    Overloaded,
    RateLimited,
    UnknownModel,
    UpstreamTimeout,
)
from studio.deepseek import errors as deepseek_errors
from studio.guardrails.budgets import seconds_until_budget_reset


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
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        # Every problem of an invalid request, field by field: ``{"param", "message"}`` each.
        self.errors = errors
        self.status, self.message, self.type, self.code, self.param = (
            status,
            message,
            type,
            code,
            param,
        )
        self.headers: dict[str, str] = {}


def error_body(error: ApiError) -> dict[str, Any]:
    body = {
        "message": error.message,
        "type": error.type,
        "code": error.code,
        "param": error.param,
    }
    if error.errors is not None:
        body["errors"] = error.errors
    return {"error": body}


def upstream_error(exc: DeepSeekError) -> ApiError:
    """What the API answers when DeepSeek failed (docs/api.md, "Errors").

    The studio's key and account are not the caller's, so an upstream 401/402 is never a
    401/402-as-if-yours, and never a status that clients retry (the ``openai`` SDK retries
    408, 409, 429 and 5xx): nothing changes until the studio's operators act. Failures that
    pass (429, 5xx, timeouts) stay retryable, with a ``Retry-After`` where it is known.
    """
    if isinstance(exc, UnknownModel):
        return _unknown_model(exc)
    return _upstream_answer(type(exc), exc.user_message, exc.retry_after)


def _upstream_answer(kind: type[DeepSeekError], advice: str, retry_after: float | None) -> ApiError:
    """The answer for a failure of class ``kind`` whose editor advice is ``advice``."""
    if issubclass(kind, BadRequest):
        status, type_ = 400, "invalid_request_error"
    elif issubclass(kind, RateLimited):
        status, type_ = 429, "rate_limit_error"
    elif issubclass(kind, UpstreamTimeout):
        status, type_ = 504, "upstream_timeout"
    elif issubclass(kind, InsufficientBalance):
        message = _(
            "The studio's model provider account has run out of credit. Retrying will "
            "not help until the studio's operators top it up."
        )
        return ApiError(402, message, type="insufficient_quota", code="insufficient_quota")
    elif issubclass(kind, AuthenticationFailed):
        message = _(
            "The model provider rejected the studio's own API key (not yours). Retrying "
            "will not help; tell the studio's operators."
        )
        return ApiError(424, message, type="upstream_error", code="upstream_auth_failed")
    elif issubclass(kind, Overloaded):
        status, type_ = 503, "upstream_unavailable"
    else:
        status = 503 if retry_after or issubclass(kind, CircuitOpen) else 502
        type_ = "upstream_error"
    message = advice
    if "DEEPSEEK_" in message:  # advice for the studio's operators names its settings
        message = _(
            "The studio could not use its model provider. Try again later; if it keeps "
            "happening, tell the studio's operators."
        )
    error = ApiError(status, message, type=type_, code=kind.__name__)
    if retry_after is not None or status in (429, 503):
        error.headers["Retry-After"] = str(max(1, math.ceil(retry_after or 5)))
    return error


# "Try again in 2 seconds." (RateLimited), "… again in about 30 seconds;" (CircuitOpen)
_STORED_WAIT = re.compile(r"again in (?:about )?(\d+) seconds?\b")


def failed_generation(generation: Any) -> ApiError | None:
    """Why a generation the caller waited for (``"wait": true``) has no answer, answered as
    the same failure is when a call raises it (``upstream_error``), naming the generation.

    The generation keeps its failure's class name (``error_code``) and advice
    (``error_message``); ``None`` when it finished, or was stopped on purpose (its text is
    the answer so far).
    """
    if generation.status == "interrupted":  # the studio restarted under it: passes
        error = ApiError(
            503, generation.error_message, type="service_unavailable", code="interrupted"
        )
        error.headers["Retry-After"] = "5"
    elif generation.status != "failed":
        return None
    elif generation.error_code == "UnknownModel":
        return unknown_template_model(generation)
    elif isinstance(kind := getattr(deepseek_errors, generation.error_code, None), type) and (
        issubclass(kind, DeepSeekError)
    ):
        wait = _STORED_WAIT.search(generation.error_message)
        error = _upstream_answer(kind, generation.error_message, wait and float(wait[1]))
    elif generation.error_code == "daily_budget_exceeded":
        error = ApiError(
            429, generation.error_message, type="insufficient_quota", code="daily_budget_exceeded"
        )
        error.headers["Retry-After"] = str(seconds_until_budget_reset())
    else:  # the studio's own fault (InternalError)
        error = ApiError(
            500, generation.error_message, type="server_error", code=generation.error_code
        )
    error.message += " " + _(
        "Generation %(generation)s did not finish; its draft %(draft)s keeps any text "
        "written so far."
    ) % {"generation": generation.pk, "draft": generation.draft_id}
    return error


def _unknown_model(exc: UnknownModel) -> ApiError:
    """A model name the provider refuses: the caller's or the studio's, never worth a retry."""
    message = _("The model “%(model)s” does not exist at the model provider.") % {
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
        "The template's model “%(model)s” does not exist at the model provider: "
        "change the template's model. Generation %(generation)s failed; its draft is kept."
    ) % {"model": generation.model, "generation": generation.pk}
    return ApiError(404, message, code="model_not_found", param="template")
