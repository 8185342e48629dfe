"""An async DeepSeek chat client built on one pooled ``httpx.AsyncClient``.

No retries and no circuit breaker live here (the resilience layer adds them); this module's
job is to speak the wire format exactly, enforce deadlines, and turn every failure into a
typed :class:`~studio.deepseek.errors.DeepSeekError` with an accurate ``retryable`` flag.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack

import httpx

from .errors import (
    BadRequest,
    ConnectionFailed,
    DeepSeekError,
    JsonPromptRequired,
    ProtocolError,
    StreamTruncated,
    TimeoutKind,
    UpstreamTimeout,
    error_from_response,
)
from .events import Balance, ChatResult, ContentDelta, Event, Finish, ReasoningDelta, Usage
from .network import AsyncioTransport
from .sse import iter_sse_data

CHAT_PATH = "/chat/completions"


@dataclass(frozen=True)
class Timeouts:
    """Deadlines in seconds.

    ``connect``: opening the TCP/TLS connection. ``first_token``: from sending the request to
    the first reasoning or answer text (thinking models can queue and think for minutes).
    ``idle``: the longest wait for the next data event once text has started. ``total``: the
    whole request; the only guard against a stream that stalls while keep-alives continue.
    """

    connect: float = 10.0
    first_token: float = 120.0
    idle: float = 60.0
    total: float = 600.0


ResponseFormat = Literal["text", "json_object"] | dict[str, Any]

# Sampling parameters that thinking mode ignores (temperature, top_p, penalties) or rejects
# (logprobs, top_logprobs in the R1 era): never sent unless thinking is explicitly off.
SAMPLING_KEYS = frozenset(
    {"temperature", "top_p", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs"}
)
MAX_STOP_SEQUENCES = 16


class ChatOptions(TypedDict, total=False):
    """The keyword arguments of ``stream_chat``/``chat``: the fields of :class:`ChatParams`."""

    max_tokens: int | None
    temperature: float | None
    thinking: bool | None
    top_p: float | None
    frequency_penalty: float | None
    presence_penalty: float | None
    stop: str | list[str] | None
    response_format: ResponseFormat | None
    reasoning_effort: str | None
    extra: dict[str, Any] | None


@dataclass(frozen=True)
class ChatParams:
    """Everything about a chat request except the messages and the model.

    ``thinking``: ``True`` sends ``thinking: enabled`` (plus ``reasoning_effort`` when given),
    ``False`` sends ``thinking: disabled``; ``None`` sends nothing, and V4+ models then think
    by default. Sampling parameters (``temperature``, ``top_p``, the penalties, and
    ``logprobs`` given through ``extra``) are sent only when ``thinking`` is ``False``:
    thinking mode ignores or rejects them, and sending them would make logs lie.

    ``response_format``: ``"json_object"`` (or ``{"type": "json_object"}``) turns on JSON
    output; DeepSeek then needs the word "json" in a message, so its absence raises
    :class:`JsonPromptRequired` before any request. ``stop``: a string or up to 16 strings.
    """

    max_tokens: int | None = None
    temperature: float | None = None
    thinking: bool | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: str | list[str] | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: str | None = None
    extra: dict[str, Any] | None = None

    def to_body(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The request-body fields for these parameters; validates before anything is sent."""
        body: dict[str, Any] = {}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        sampling = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
        }
        body.update({k: v for k, v in sampling.items() if v is not None})
        if self.stop is not None:
            stops = [self.stop] if isinstance(self.stop, str) else list(self.stop)
            if len(stops) > MAX_STOP_SEQUENCES:
                raise BadRequest(
                    f"stop has {len(stops)} sequences",
                    user_message=f"At most {MAX_STOP_SEQUENCES} stop sequences are allowed.",
                )
            body["stop"] = self.stop
        if self.response_format is not None:
            fmt = (
                {"type": self.response_format}
                if isinstance(self.response_format, str)
                else dict(self.response_format)
            )
            if fmt.get("type") == "json_object" and not _mentions_json(messages):
                raise JsonPromptRequired()
            body["response_format"] = fmt
        if self.thinking is not None:
            body["thinking"] = {"type": "enabled" if self.thinking else "disabled"}
        if self.reasoning_effort and self.thinking is not False:
            body["reasoning_effort"] = self.reasoning_effort
        if self.extra:
            body.update(self.extra)
        if self.thinking is not False:
            for key in SAMPLING_KEYS:
                body.pop(key, None)
        return body


def _mentions_json(messages: list[dict[str, Any]]) -> bool:
    return any(
        isinstance(m.get("content"), str) and "json" in m["content"].lower() for m in messages
    )


@contextlib.contextmanager
def _transport_errors() -> Iterator[None]:
    """Translate httpx's network exceptions into DeepSeek errors (outside a stream body)."""
    try:
        yield
    except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise UpstreamTimeout("connect") from exc
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout("idle") from exc
    except httpx.TransportError as exc:
        raise ConnectionFailed(str(exc) or type(exc).__name__) from exc


class DeepSeekClient:
    """Talks to a DeepSeek-compatible ``/chat/completions`` API.

    Create one per process and share it: it owns a connection pool. Call :meth:`aclose` on
    shutdown.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeouts: Timeouts = Timeouts(),  # noqa: B008 - frozen dataclass, safe to share
        max_connections: int = 200,
        transport: httpx.AsyncBaseTransport | None = None,
        on_request: Callable[[httpx.Request], Awaitable[None]] | None = None,
    ) -> None:
        """``on_request`` is awaited with each request before it is sent (httpx's request
        event hook): before the connection pool, so it also runs while a connection is being
        opened or waited for."""
        self.timeouts = timeouts
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
        )
        self._http = httpx.AsyncClient(
            # httpx appends relative paths to the base path, so ".../beta" and ".../v1" work,
            # with or without a trailing slash.
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": "deepseek-studio",
                "Accept": "application/json, text/event-stream",
            },
            # Reads have no httpx timeout: keep-alives would reset it anyway, so the streaming
            # deadlines are enforced below with asyncio and the rest with the total deadline.
            timeout=httpx.Timeout(
                connect=timeouts.connect, read=None, write=timeouts.connect, pool=None
            ),
            limits=limits,
            # asyncio's own sockets under httpx's pool (studio/deepseek/network.py).
            transport=transport or AsyncioTransport(limits=limits),
            event_hooks={"request": [on_request] if on_request else []},
        )
        # The chat URL merged with the base once, by httpx itself: merging a relative path
        # parses two URLs on every request, most of the time httpx takes to build one.
        self._chat_url = self._http.build_request("POST", CHAT_PATH).url

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> DeepSeekClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @staticmethod
    def _chat_body(
        *, messages: list[dict[str, Any]], model: str, stream: bool, params: ChatParams
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        body.update(params.to_body(messages))
        return body

    async def stream_chat(
        self,
        *,
        messages: list[dict[str, Any]],
        model: str,
        **options: Unpack[ChatOptions],
    ) -> AsyncIterator[Event]:
        """Stream a chat completion as typed events.

        Yields ``ReasoningDelta``/``ContentDelta`` as text arrives, then ``Usage`` (if the
        server sent it) and ``Finish``. Raises a ``DeepSeekError`` for HTTP errors, deadlines
        (``UpstreamTimeout``), malformed chunks (``ProtocolError``) and streams that end
        without a finish reason (``StreamTruncated``). Stopping iteration (``aclose()`` on
        the generator, or cancelling the task) closes the upstream response at once; wrap it
        in ``contextlib.aclosing`` to make that deterministic after a ``break``.

        Parameters are described on :class:`ChatParams`; invalid combinations (JSON mode
        without "json" in the prompt) raise before anything is sent.
        """
        params = ChatParams(**options)
        # aclosing: closing this generator must close the inner one (and the response) now.
        stream = self.stream_with(messages=messages, model=model, params=params)
        async with contextlib.aclosing(stream) as events:
            async for event in events:
                yield event

    async def stream_with(
        self, *, messages: list[dict[str, Any]], model: str, params: ChatParams
    ) -> AsyncIterator[Event]:
        """:meth:`stream_chat` with the parameters already bundled (used by the resilience
        layer, which passes the same request to every attempt)."""
        body = self._chat_body(messages=messages, model=model, stream=True, params=params)
        t = self.timeouts
        loop = asyncio.get_running_loop()
        started = loop.time()
        total_deadline = started + t.total
        first_token_deadline = min(total_deadline, started + t.first_token)
        first_kind: TimeoutKind = "first_token" if t.first_token <= t.total else "total"

        async with contextlib.AsyncExitStack() as stack:
            # The deadline covers only opening the response; a timeout context must never
            # stay open across a `yield`, or it would cancel the consumer's own code.
            try:
                async with asyncio.timeout_at(first_token_deadline):
                    with _transport_errors():
                        response = await stack.enter_async_context(
                            self._http.stream("POST", self._chat_url, json=body)
                        )
                        if not response.is_success:
                            raise error_from_response(
                                response.status_code, await response.aread(), response.headers
                            )
            except TimeoutError:
                raise UpstreamTimeout(first_kind, _limit(first_kind, t)) from None

            # DeepSeek sends its stream uncompressed: an identity body is read as it comes,
            # without httpx's decoder (one generator less for every token); a compressed one
            # is decoded as httpx decodes it.
            encoding = response.headers.get("content-encoding", "").strip().lower()
            raw = encoding in ("", "identity")
            data_events = iter_sse_data(response.aiter_raw() if raw else response.aiter_bytes())
            stack.push_async_callback(data_events.aclose)
            waits = _Waits(loop)
            stack.callback(waits.close)
            got_text = False
            finish_reason: str | None = None
            usage: Usage | None = None

            while True:
                if not got_text:
                    deadline, kind = first_token_deadline, first_kind
                else:
                    # Measured from when we start waiting, so a slow consumer is not blamed
                    # on the server.
                    deadline, kind = loop.time() + t.idle, "idle"
                    if deadline >= total_deadline:
                        deadline, kind = total_deadline, "total"
                try:
                    with waits.until(deadline):
                        data = await anext(data_events)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    if finish_reason is not None:
                        break  # only a trailing usage chunk or [DONE] was still missing
                    raise UpstreamTimeout(kind, _limit(kind, t)) from None
                except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
                    if finish_reason is not None:
                        break
                    raise StreamTruncated(f"connection lost mid-stream: {exc}") from exc
                except httpx.TransportError as exc:
                    if finish_reason is not None:
                        break
                    raise ConnectionFailed(str(exc) or type(exc).__name__) from exc

                if data == "[DONE]":
                    break
                chunk = _parse_chunk(data)
                if chunk.get("usage"):
                    usage = Usage.from_api(chunk["usage"])
                for event, reason in _chunk_events(chunk):
                    if reason is not None:
                        finish_reason = reason
                    if event is not None:
                        got_text = True
                        yield event

            if finish_reason is None:
                raise StreamTruncated("stream ended without [DONE] or a finish_reason")
            if usage is not None:
                yield usage
            yield Finish(finish_reason)

    async def chat(
        self,
        *,
        messages: list[dict[str, Any]],
        model: str,
        **options: Unpack[ChatOptions],
    ) -> ChatResult:
        """Run a non-streaming chat completion and return the whole answer.

        Blank lines the server sends while the request is queued are skipped; a 200 whose
        body is only whitespace (an overloaded gateway cutting the request) is a
        ``ProtocolError``.
        """
        params = ChatParams(**options)
        return await self.chat_with(messages=messages, model=model, params=params)

    async def chat_with(
        self, *, messages: list[dict[str, Any]], model: str, params: ChatParams
    ) -> ChatResult:
        """:meth:`chat` with the parameters already bundled."""
        body = self._chat_body(messages=messages, model=model, stream=False, params=params)
        data = await self._request_json("POST", self._chat_url, json=body)
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ProtocolError("chat.completion without choices")
        message = choices[0].get("message") or {}
        return ChatResult(
            content=_text(message.get("content")),
            reasoning=_text(message.get("reasoning_content")),
            finish_reason=str(choices[0].get("finish_reason") or ""),
            usage=Usage.from_api(data.get("usage")),
            model=str(data.get("model") or model),
        )

    async def list_models(self) -> list[str]:
        """Return the model ids the account can use (``GET /models``)."""
        data = await self._request_json("GET", "/models")
        return [str(m["id"]) for m in data.get("data") or [] if isinstance(m, dict) and "id" in m]

    async def balance(self) -> Balance:
        """Return the account balance (``GET /user/balance``)."""
        return Balance.from_api(await self._request_json("GET", "/user/balance"))

    async def _request_json(
        self, method: str, path: str | httpx.URL, **kwargs: Any
    ) -> dict[str, Any]:
        """Send a request under the total deadline and return its JSON object body."""
        try:
            async with asyncio.timeout(self.timeouts.total):
                with _transport_errors():
                    response = await self._http.request(method, path, **kwargs)
        except TimeoutError:
            raise UpstreamTimeout("total", self.timeouts.total) from None
        if not response.is_success:
            raise error_from_response(response.status_code, response.content, response.headers)
        # json.loads skips leading whitespace, so the queue-phase blank lines need no special
        # case; a body that is nothing but whitespace means the gateway gave up.
        text = response.content.decode("utf-8", errors="replace")
        if not text.strip():
            raise ProtocolError("empty (whitespace-only) response body", status=200)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ProtocolError(f"response is not JSON: {exc}", status=200) from exc
        if not isinstance(data, dict):
            raise ProtocolError("response JSON is not an object", status=200)
        return data


class _Waits:
    """The deadline of each wait for the stream's next event, on one timer for the stream.

    ``asyncio.timeout_at`` around every read schedules and cancels a timer per token (under
    uvloop a libuv timer each): a fifth of the client's CPU per stream. Here the timer is
    moved only when a deadline comes earlier than the one it is set for; when it fires
    before the wait's deadline (which moves later with every event) it is set again. A wait
    that outlives its deadline is cancelled and raises ``TimeoutError``, as
    ``asyncio.timeout_at`` does; outside a wait (while the consumer runs) nothing is ever
    cancelled. Each wait cancels the task that waits: a stream may be read by one task and
    then another (a generation's early request, ``drafts.generation.EarlyRequest``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.task: asyncio.Task[Any] | None = None
        self.deadline: float | None = None  # the wait in progress's
        self.timer: asyncio.TimerHandle | None = None
        self.expired = False
        self.cancelling = 0

    def until(self, deadline: float) -> _Waits:
        """``with waits.until(deadline): await ...``: one wait, until ``deadline``."""
        self.deadline, self.expired = deadline, False
        self.task = asyncio.current_task()
        if self.task is not None:
            self.cancelling = self.task.cancelling()
        timer = self.timer
        if timer is None or timer.when() > deadline:
            self._set(deadline)
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: object, tb: object) -> None:
        self.deadline = None
        if not self.expired or self.task is None:
            return
        self.expired = False
        cancelled = kind is not None and issubclass(kind, asyncio.CancelledError)
        if self.task.uncancel() <= self.cancelling and cancelled:
            raise TimeoutError from None  # ours alone: the deadline passed

    def _set(self, when: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_at(when, self._check)

    def _check(self) -> None:
        self.timer = None
        if self.deadline is None or self.task is None:
            return  # no wait in progress: the next one sets the timer again
        if self.loop.time() < self.deadline:
            self._set(self.deadline)  # the deadline moved on meanwhile
            return
        self.expired = True
        self.task.cancel()

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def _limit(kind: TimeoutKind, t: Timeouts) -> float:
    return {"connect": t.connect, "first_token": t.first_token, "idle": t.idle, "total": t.total}[
        kind
    ]


def _text(value: Any) -> str:
    # null means "no text" in this API; never let it become the string "None"/"null".
    return value if isinstance(value, str) else ""


def _parse_chunk(data: str) -> dict[str, Any]:
    """Decode one ``data:`` payload; raise on anything that is not a chunk object."""
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise ProtocolError(f"malformed stream chunk: {data[:200]!r}") from exc
    if not isinstance(chunk, dict):
        raise ProtocolError(f"stream chunk is not an object: {data[:200]!r}")
    error = chunk.get("error")
    if error and not chunk.get("choices"):
        # Some gateways report failures in-band after the 200 status was sent.
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise DeepSeekError(str(message or "error reported mid-stream"))
    return chunk


def _chunk_events(chunk: dict[str, Any]) -> list[tuple[Event | None, str | None]]:
    """``(event, finish_reason)`` pairs for one chunk's choices (a list: a chunk has one or
    two, and a list costs a token less than a generator)."""
    pairs: list[tuple[Event | None, str | None]] = []
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict):
            raise ProtocolError("stream choice is not an object")
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content")
        if reasoning and isinstance(reasoning, str):
            pairs.append((ReasoningDelta(reasoning), None))
        content = delta.get("content")
        if content and isinstance(content, str):
            pairs.append((ContentDelta(content), None))
        if reason := choice.get("finish_reason"):
            pairs.append((None, str(reason)))
    return pairs
