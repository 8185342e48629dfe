"""The OpenAI-compatible chat completions endpoint: limits, cache, upstream, audit, metrics.

DeepSeek's typed events are re-emitted as OpenAI ``chat.completion.chunk`` objects (with
DeepSeek's ``reasoning_content`` in the delta, which OpenAI clients ignore or expose), so the
official SDKs work unchanged against ``/api/ai/v1``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone

from studio.ai import generation_cost, get_client, route_for
from studio.audit.metrics import observe_ai_call, open_stream
from studio.audit.models import AuditLog
from studio.audit.recording import arecord_ai_call
from studio.deepseek import (
    ContentDelta,
    DeepSeekError,
    Finish,
    ReasoningDelta,
    Usage,
    estimated_usage,
)
from studio.deepseek.pricing import estimate_prompt_tokens
from studio.guardrails import response_cache
from studio.guardrails.budgets import Reservation, acheck_token_budget, areserve_tokens
from studio.guardrails.prompt_checks import validate_prompt
from studio.streams import GrowingText

from .compat import refuse_unsupported, upstream_messages
from .errors import error_body, upstream_error
from .schemas import ChatCompletionIn


def models_list() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": settings.DEEPSEEK_MODEL, "object": "model", "owned_by": "deepseek"}],
    }


def _thinking(payload: ChatCompletionIn) -> bool | None:
    return payload.thinking.type == "enabled" if payload.thinking else None


AUTO_MODELS = {None, "", "default", "auto"}


def routed(payload: ChatCompletionIn) -> tuple[str, dict[str, Any]]:
    """The studio's routing for a chat: the model and parameters to send upstream.

    No model (or ``default``/``auto``) takes the ``chat`` route's model; a named model is
    pinned. Thinking and temperature the caller set win over the route's.
    """
    route = route_for(
        "chat",
        model="" if payload.model in AUTO_MODELS else payload.model,
        thinking=_thinking(payload),
        temperature=payload.temperature,
    )
    params = route.params()
    model = params.pop("model")
    params |= upstream_params(payload)
    if params.get("thinking"):
        params.pop("temperature", None)  # thinking mode ignores it; don't pretend it applies
    return model, params


def upstream_params(payload: ChatCompletionIn) -> dict[str, Any]:
    """The request's own parameters as client keyword arguments (unset ones left out)."""
    params = {
        "max_tokens": payload.max_completion_tokens or payload.max_tokens,
        "top_p": payload.top_p,
        "frequency_penalty": payload.frequency_penalty,
        "presence_penalty": payload.presence_penalty,
        "stop": payload.stop,
        "response_format": payload.response_format,
        "reasoning_effort": payload.reasoning_effort,
    }
    return {name: value for name, value in params.items() if value is not None}


def _usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
        "prompt_cache_hit_tokens": usage.prompt_cache_hit_tokens,
        "prompt_cache_miss_tokens": usage.prompt_cache_miss_tokens,
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


@dataclass
class Call:
    """One chat completion as it happens: what was asked, what came back, how it went."""

    request: HttpRequest
    model: str
    messages: list[dict[str, Any]]
    cache_key: str
    cache_mode: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))
    started: float = field(default_factory=time.monotonic)
    at: Any = field(default_factory=timezone.now)
    content: GrowingText = field(default_factory=GrowingText)
    reasoning: GrowingText = field(default_factory=GrowingText)
    ttft: float | None = None
    usage: Usage | None = None
    finish_reason: str = ""
    cached: bool = False
    include_usage: bool = False
    reservation: Reservation = field(default_factory=Reservation)
    shortened: bool = False  # max_tokens lowered to fit the budget: not the answer asked for

    def apply(self, event: object) -> dict[str, Any] | None:
        """Record one event; the OpenAI delta to send for it, if any."""
        match event:
            case ContentDelta(text=text) | ReasoningDelta(text=text):
                if self.ttft is None:
                    self.ttft = time.monotonic() - self.started
                if isinstance(event, ContentDelta):
                    self.content.append(text)
                    return {"content": text}
                self.reasoning.append(text)
                return {"reasoning_content": text}
            case Usage():
                self.usage = event
            case Finish(reason=reason):
                self.finish_reason = reason
        return None

    def chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            **extra,
        }
        if self.include_usage:
            body["usage"] = None  # OpenAI: only the last (usage) chunk carries a value
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    def usage_chunk(self) -> bytes:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": _usage_json(self.usage or Usage()),
        }
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    def completion(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": str(self.content)}
        if self.reasoning:
            message["reasoning_content"] = str(self.reasoning)
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": _usage_json(self.usage or Usage()),
        }

    def answer(self) -> dict[str, Any]:
        """What the response cache keeps."""
        return response_cache.answer(
            content=str(self.content),
            reasoning=str(self.reasoning),
            finish_reason=self.finish_reason,
            usage=self.usage,
        )

    def replay(self, answer: dict[str, Any]) -> None:
        self.cached, self.ttft = True, 0.0
        self.content = GrowingText(answer["content"])
        self.reasoning = GrowingText(answer["reasoning"])
        self.finish_reason = answer["finish_reason"]
        self.usage = Usage(**answer["usage"])

    def billed_usage(self, status: str) -> Usage | None:
        """The tokens this call used (None for a cached answer).

        DeepSeek's count, or for a stream that ended before its usage chunk (a hang-up, a cut)
        an estimate of the prompt and the text that came, which DeepSeek bills too: without
        it, hanging up just before the last chunk would leave calls out of the daily budget.
        A hang-up before any text counts at least the prompt.
        """
        if self.cached:
            return None
        cancelled = status == AuditLog.Status.CANCELLED
        if self.usage is None and (self.ttft is not None or cancelled):
            output = str(self.reasoning) + str(self.content)
            self.usage = estimated_usage(self.messages, output)
        return self.usage

    def abandoned(self, max_tokens: int | None) -> None:
        """A non-streaming call whose client hung up: DeepSeek goes on to write (and bill) the
        whole answer, so it counts as its estimate, the prompt plus ``max_tokens``."""
        prompt = estimate_prompt_tokens(self.messages)
        completion = max_tokens or settings.DEEPSEEK_MAX_TOKENS
        self.usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            prompt_cache_miss_tokens=prompt,
        )

    def cost(self) -> Decimal | None:
        if self.usage is None or self.cached:
            return None
        return generation_cost(self.model, self.usage, self.at)

    async def finish(self, status: str, error: Exception | None = None) -> None:
        """Audit and count the call, then release its budget reservation (the audit row counts
        it from then on); keep a complete deterministic answer in the cache."""
        try:
            await self._finish(status, error)
        finally:
            await self.reservation.arelease()

    async def _finish(self, status: str, error: Exception | None) -> None:
        latency = time.monotonic() - self.started
        # A cached answer used no tokens: it is neither billed nor counted in the budget.
        usage = self.billed_usage(status)
        cost = self.cost()
        error_code = type(error).__name__ if error else ""
        if status == AuditLog.Status.OK and not self.cached and not self.shortened:
            await sync_to_async(response_cache.store)(
                self.cache_key, self.cache_mode, self.answer()
            )
        await arecord_ai_call(
            request=self.request,
            channel=AuditLog.Channel.OPENAI,
            user=self.request.auth.user,
            status=status,
            prompt=self.messages,
            response=str(self.content),
            model=self.model,
            prompt_tokens=usage.prompt_tokens if usage else (0 if self.cached else None),
            completion_tokens=usage.completion_tokens if usage else (0 if self.cached else None),
            cost=cost,
            latency_ms=round(latency * 1000),
            ttft_ms=round(self.ttft * 1000) if self.ttft is not None else None,
            error_code=error_code,
            cached=self.cached,
        )
        observe_ai_call(
            model=self.model,
            status=status,
            latency_s=latency,
            ttft_s=self.ttft,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            cost=cost,
            error_kind=error_code,
        )


async def complete(request: HttpRequest, payload: ChatCompletionIn) -> HttpResponse:
    refuse_unsupported(payload)
    messages = upstream_messages(payload)
    model, params = routed(payload)
    try:
        validate_prompt(messages)
    except ValidationError as exc:
        await arecord_ai_call(
            request=request,
            channel=AuditLog.Channel.OPENAI,
            user=request.auth.user,
            status=AuditLog.Status.BLOCKED,
            prompt="(blocked; not kept)",
            model=model,
            error_code=exc.code or "invalid_prompt",
        )
        raise
    await acheck_token_budget(request.auth.user, request=request)
    # Thinking mode ignores temperature: temperature 0 there is not deterministic.
    temperature = None if params.get("thinking") else payload.temperature
    mode = response_cache.cache_mode(request, temperature=temperature)
    key = response_cache.cache_key(model=model, messages=messages, params=params)
    call = Call(request=request, model=model, messages=messages, cache_key=key, cache_mode=mode)
    found = await sync_to_async(response_cache.lookup)(key, mode)
    if found is not None:
        call.replay(found)
    else:
        asked = params.get("max_tokens")
        call.reservation = await areserve_tokens(
            request.auth.user, messages, max_tokens=asked, request=request
        )
        params["max_tokens"] = call.reservation.max_tokens
        wanted = asked or settings.DEEPSEEK_MAX_TOKENS
        call.shortened = (call.reservation.max_tokens or wanted) < wanted
    include_usage = bool(payload.stream_options and payload.stream_options.include_usage)
    if payload.stream:
        call.include_usage = include_usage
        response = await _stream_response(call, params, include_usage=include_usage)
    else:
        response = await _json_response(call, params)
    response["X-Studio-Cache"] = "hit" if call.cached else {"use": "miss"}.get(mode, mode)
    return response


async def _json_response(call: Call, params: dict[str, Any]) -> HttpResponse:
    if not call.cached:
        try:
            result = await get_client().chat(messages=call.messages, model=call.model, **params)
        except DeepSeekError as exc:
            await call.finish(AuditLog.Status.FAILED, exc)
            raise
        except asyncio.CancelledError:  # the client left before the answer
            call.abandoned(params.get("max_tokens"))
            await call.finish(AuditLog.Status.CANCELLED)
            raise
        call.content, call.reasoning = GrowingText(result.content), GrowingText(result.reasoning)
        call.finish_reason, call.usage = result.finish_reason, result.usage
        call.model = result.model or call.model
    await call.finish(AuditLog.Status.OK)
    return JsonResponse(call.completion())


async def _stream_response(
    call: Call, params: dict[str, Any], *, include_usage: bool
) -> HttpResponse:
    """Open the upstream stream first, so an upstream refusal is an HTTP error, not a 200."""
    if call.cached:
        events, first = response_cache.replay(call.answer()), None
    else:
        events = get_client().stream_chat(messages=call.messages, model=call.model, **params)
        try:
            first = await anext(events)
        except StopAsyncIteration:
            first = None
        except DeepSeekError as exc:
            await call.finish(AuditLog.Status.FAILED, exc)
            raise
        except asyncio.CancelledError:  # the client left while DeepSeek had not answered yet
            await events.aclose()
            await call.finish(AuditLog.Status.CANCELLED)
            raise
    stream = _sse(call, events, first, include_usage=include_usage)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


async def _sse(
    call: Call, events: AsyncIterator[object], first: object | None, *, include_usage: bool
) -> AsyncIterator[bytes]:
    status, error = AuditLog.Status.OK, None
    if call.cached:
        call.content, call.reasoning = GrowingText(), GrowingText()  # replayed from the cache
    with open_stream():
        try:
            yield call.chunk({"role": "assistant", "content": ""})
            if first is not None and (delta := call.apply(first)):
                yield call.chunk(delta)
            async for event in events:
                if delta := call.apply(event):
                    yield call.chunk(delta)
            yield call.chunk({}, finish=call.finish_reason or "stop")
            if include_usage:
                yield call.usage_chunk()
            yield b"data: [DONE]\n\n"
        except DeepSeekError as exc:
            status, error = AuditLog.Status.FAILED, exc
            # OpenAI's SDKs raise an APIError for an "error" event in the stream.
            yield b"data: " + json.dumps(error_body(upstream_error(exc))).encode() + b"\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            status = AuditLog.Status.CANCELLED  # the client went away
            raise
        except Exception as exc:  # a bug: never audit half an answer as a success
            status, error = AuditLog.Status.FAILED, exc
            raise
        finally:
            await events.aclose()
            await call.finish(status, error)
