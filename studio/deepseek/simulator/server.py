"""The simulator's server: DeepSeek's wire format and the fault directives.

A pure ASGI app (no framework) that reproduces the wire format described in the API notes:
``: keep-alive`` comments while "queued", a role-only first chunk, a thinking phase
(``reasoning_content``) unless the request sends ``"thinking": {"type": "disabled"}``, one
token per chunk paced at ``tokens_per_second``, a terminal chunk with ``finish_reason`` and
``usage``, then ``data: [DONE]``. Non-streaming requests get blank lines first, then the JSON.

Run it: ``python -m studio.deepseek.simulator --host 127.0.0.1 --port 8001 --tps 50``.

Endpoints (``/v1`` prefix accepted): ``POST /chat/completions``, ``GET /models``,
``GET /user/balance``. All need ``Authorization: Bearer <key>``; a missing key, ``bad`` or
``sk-bad`` gets the real 401 envelope. One more, no key needed, is the tests' control and not
DeepSeek's: ``POST /sim/release`` lets held streams go on (``[[sim:hold_after=N]]``).
Models: ``deepseek-flash``, ``deepseek-v4-flash``, ``deepseek-v4-pro`` and any ``sim-*``
name; the retired ``deepseek-chat`` and ``deepseek-reasoner`` and anything else get 400
``Model Not Exist``.

Fault directives, written anywhere in the last user message (they are removed before the
answer is generated, so they never appear in it):

``[[sim:error=CODE]]``
    Fail before streaming. 400 (context-length message), 401, 402 (``Insufficient Balance``),
    422 (plain-text body, as in 2024-25), 429 (with ``Retry-After: 2``), 500, 503. The 400,
    401, 402 and 422 texts are real captured messages; the 429/500/503 texts are stand-ins.
``[[sim:content_risk]]``
    400 ``Content Exists Risk`` (content-safety refusal of the input).
``[[sim:cut_after=N]]``
    End the body after N tokens (reasoning or answer): no finish chunk, no ``[DONE]``.
``[[sim:stall_after=N]]``
    After N tokens send nothing while keeping the connection open; give up (end the body,
    still without a finish) after 60 s or when the client disconnects.
``[[sim:hold_after=N]]``
    After N tokens send nothing until ``POST /sim/release``, then stream the rest as usual: a
    test acts while a stream is surely live, then lets it end, without a long answer paced for
    the slowest machine. A release lets on every stream that began before it, held yet or not
    (so releasing early is no race); a stream begun after it waits for the next. It gives up
    waiting (and streams on) when the client disconnects or after 60 s.
``[[sim:keepalive_midstream]]``
    Send ``: keep-alive`` comments between answer chunks.
``[[sim:usage=separate]]``
    With ``include_usage``, put usage in a separate ``choices: []`` chunk (as the Aug 2026
    docs describe) instead of on the final chunk (as all real captures show).
``[[sim:tokens=N]]``
    Make the answer exactly N tokens long (default: as long as the request asks for; a
    general article is 150-250 tokens), more paragraphs added or the end cut off.
``[[sim:whitespace_body]]``
    Non-streaming only: a 200 whose body is only whitespace (an overloaded gateway).
``[[sim:retry_after=S]]``
    The ``Retry-After`` seconds sent with ``error=429`` (default 2).
``[[sim:fail_first=N]]``
    Apply ``error``/``content_risk`` only to the first N requests carrying this exact last user
    message (counted per app instance), then answer normally: a transient failure, for
    retry tests.
``[[sim:first_token_delay=S]]``
    A slow first token: stay in the queue phase (keep-alives only) for S seconds.
``[[sim:malformed_after=N]]``
    After N tokens send a chunk that is not valid JSON, then end the body.
``[[sim:reasoning=N]]``
    A reasoning-model stream: a thinking phase of exactly N tokens before the answer, even
    when the request disabled thinking (a model that thinks regardless).

The same directives can be switched on for every request with ``create_app(faults=...)`` or
``--fault '[[sim:error=503]]'`` on the command line; directives in the message take precedence.

What the answer says is decided in ``brief.py`` (what the request asks for) and
``writing.py`` (the builders); this module only reads the request and speaks the protocol.
Tokens are word-ish pieces (a word plus the spaces after it) and single CJK characters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .brief import CJK_RE, read_brief
from .pen import tokenize
from .writing import write

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CHAT_MODELS = ("deepseek-flash", "deepseek-v4-flash", "deepseek-v4-pro")
LISTED_MODELS = ("deepseek-flash", "deepseek-v4-pro")
FINGERPRINT = "fp_sim_prod1125"
MAX_TOKENS_LIMIT = 393216
STALL_LIMIT_S = 60.0
KEEPALIVE = b": keep-alive\n\n"

_ERRORS: dict[int, tuple[str, str]] = {
    400: (
        "This model's maximum context length is 131072 tokens. However, you requested 131134 "
        "tokens (122942 in the messages, 8192 in the completion). Please reduce the length of "
        "the messages or completion.",
        "invalid_request_error",
    ),
    402: ("Insufficient Balance", "unknown_error"),
    429: ("Rate Limit Reached", "rate_limit_error"),
    500: ("Internal Server Error", "internal_error"),
    503: ("Service Unavailable: the server is overloaded, please try again later", "server_error"),
}
_PLAIN_422 = (
    "Failed to deserialize the JSON body into the target type: messages[0]: invalid type: "
    "sequence, expected a string at line 1 column 42"
)
_DIRECTIVE_RE = re.compile(r"\[\[sim:([a-z_]+)(?:=([^\]]*))?\]\]")


def _estimate_tokens(text: str) -> int:
    # The docs' rule of thumb: ~0.3 token per English character, ~0.6 per Chinese one.
    cjk = len(CJK_RE.findall(text))
    return math.ceil(cjk * 0.6 + (len(text) - cjk) * 0.3)


def _compose(
    body: dict[str, Any],
    seed: int | None,
    thinking: bool,
    forced_reasoning: int | None,
    directives: dict[str, str],
) -> tuple[list[str], list[str]]:
    """The answer's and the reasoning's tokens: shaped by what the messages ask for
    (``brief.py``, ``writing.py``), the same for the same messages, temperature and seed."""
    messages = [
        {"role": m["role"], "content": _DIRECTIVE_RE.sub("", m.get("content") or "").strip()}
        for m in body["messages"]
    ]
    temperature = body.get("temperature")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        temperature = float(temperature)  # 1 and 1.0 are the same temperature (a proxy's JSON)
    rng = random.Random(f"{seed}|{temperature}|{_compact(messages).decode()}")
    exact = _int_directive(directives, "tokens")
    reasoning_target = forced_reasoning or rng.randint(40, 80)
    written = write(
        read_brief(messages, body),
        rng,
        reasoning_tokens=reasoning_target if thinking else 0,
        answer_tokens=exact,
    )
    answer = tokenize(written.text)[: exact or None]
    return answer, tokenize(written.reasoning)[:reasoning_target]


def _error_body(message: str, type_: str) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": type_, "param": None, "code": "invalid_request_error"}
    }


def _type_name(value: Any) -> str:
    """How serde describes an unexpected JSON value ("invalid type: sequence, ...")."""
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    return "null"


def _validate(body: Any) -> str | None:
    """Return a 400 message for a malformed chat request, or None when it is acceptable."""
    prefix = "Failed to deserialize the JSON body into the target type: "
    if not isinstance(body, dict):
        return prefix + f"invalid type: {_type_name(body)}, expected struct ChatCompletionRequest"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return prefix + "missing field `messages`"
    for n, msg in enumerate(messages):
        if not isinstance(msg, dict):
            return prefix + f"messages[{n}]: invalid type: {_type_name(msg)}, expected a message"
        role = msg.get("role")
        if role not in ("system", "user", "assistant", "tool"):
            return prefix + (
                f"messages[{n}]: unknown variant `{role}`, expected one of `system`, `user`, "
                "`assistant`, `tool`, `latest_reminder`"
            )
        content = msg.get("content")
        if not isinstance(content, str) and not (content is None and role == "assistant"):
            return prefix + f"messages[{n}]: invalid type: {_type_name(content)}, expected a string"
    model = body.get("model")
    if not isinstance(model, str) or not (model in CHAT_MODELS or model.startswith("sim-")):
        return "Model Not Exist"  # also the retired deepseek-chat / deepseek-reasoner aliases
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or not 1 <= max_tokens <= MAX_TOKENS_LIMIT
    ):
        return f"Invalid max_tokens value, the valid range of max_tokens is [1, {MAX_TOKENS_LIMIT}]"
    return None


def _int_directive(directives: dict[str, str], name: str) -> int | None:
    value = directives.get(name)
    # ASCII digits only: isdigit() alone also takes "²", which int() refuses.
    digits = value.strip() if value is not None else ""
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 18 else None


def create_app(
    *,
    tokens_per_second: float = 50.0,
    first_token_delay: float = 0.3,
    keepalive_interval: float = 0.1,
    seed: int | None = None,
    faults: str = "",
) -> ASGIApp:
    """Build the simulator ASGI app; see the module docstring for behaviour and directives.

    ``faults``: directives (``"[[sim:error=503]]"``) applied to every chat request.
    """
    token_interval = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0
    default_directives = {m[0]: m[1] or "" for m in _DIRECTIVE_RE.findall(faults)}
    # fail_first: how many requests with a given last user message have failed so far.
    failures: dict[str, int] = {}
    # hold_after: a stream waits on the release that was next when it began (set by
    # POST /sim/release, which puts a new one in its place).
    next_release = [asyncio.Event()]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        # Watch for the client going away so a stream stops instead of talking to nobody.
        disconnected = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected.set()

        watcher = asyncio.create_task(watch())
        try:
            await _handle(scope, raw, send, disconnected)
        finally:
            watcher.cancel()

    async def _handle(scope: Scope, raw: bytes, send: Send, disconnected: asyncio.Event) -> None:
        path = scope["path"].removeprefix("/v1")
        method = scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        routes = {
            "/chat/completions": "POST",
            "/models": "GET",
            "/user/balance": "GET",
            "/sim/release": "POST",
        }
        if path not in routes:
            return await _json(send, 404, _error_body("Not Found", "invalid_request_error"))
        if method != routes[path]:
            return await _json(
                send, 405, _error_body("Method Not Allowed", "invalid_request_error")
            )
        if path == "/sim/release":
            next_release[0].set()
            next_release[0] = asyncio.Event()
            return await _json(send, 200, {"released": True})
        auth = headers.get("authorization", "")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not key or key in ("bad", "sk-bad"):
            return await _unauthorized(send, key)
        if path == "/models":
            data = [{"id": m, "object": "model", "owned_by": "deepseek"} for m in LISTED_MODELS]
            return await _json(send, 200, {"object": "list", "data": data})
        if path == "/user/balance":
            info = {
                "currency": "USD",
                "total_balance": "110.00",
                "granted_balance": "10.00",
                "topped_up_balance": "100.00",
            }
            return await _json(send, 200, {"is_available": True, "balance_infos": [info]})
        try:
            body = json.loads(raw)
        except ValueError as exc:
            msg = f"Failed to parse the request body as JSON: {exc}"
            return await _json(send, 400, _error_body(msg, "invalid_request_error"))
        problem = _validate(body)
        if problem:
            return await _json(send, 400, _error_body(problem, "invalid_request_error"))
        await _chat(body, send, disconnected)

    async def _chat(body: dict[str, Any], send: Send, disconnected: asyncio.Event) -> None:
        release = next_release[0]
        messages = body["messages"]
        last_user = next((m for m in reversed(messages) if m["role"] == "user"), messages[-1])
        directives = {
            **default_directives,
            **{m[0]: m[1] or "" for m in _DIRECTIVE_RE.findall(last_user["content"] or "")},
        }

        fail_first = _int_directive(directives, "fail_first")
        if fail_first is not None:
            key = last_user["content"] or ""
            failures[key] = failures.get(key, 0) + 1
            if failures[key] > fail_first:
                directives.pop("error", None)
                directives.pop("content_risk", None)
        if "error" in directives:
            retry_after = directives.get("retry_after", "2").strip() or "2"
            return await _fault(send, directives["error"].strip(), retry_after)
        if "content_risk" in directives:
            return await _json(
                send, 400, _error_body("Content Exists Risk", "invalid_request_error")
            )

        stream = body.get("stream") is True
        thinking = (body.get("thinking") or {}).get("type") != "disabled"
        include_usage = stream and (body.get("stream_options") or {}).get("include_usage") is True
        forced_reasoning = _int_directive(directives, "reasoning")
        if forced_reasoning is not None:
            thinking = True
        answer, reasoning = _compose(body, seed, thinking, forced_reasoning, directives)
        budget = body.get("max_tokens") or MAX_TOKENS_LIMIT
        finish = "length" if len(reasoning) + len(answer) > budget else "stop"
        reasoning = reasoning[:budget]
        answer = answer[: budget - len(reasoning)]

        texts = [m.get("content") or "" for m in messages]
        prompt_tokens = sum(_estimate_tokens(t) + 3 for t in texts)
        # Cache hits come in 64-token units; pretend everything before the last turn is cached.
        cached = (sum(_estimate_tokens(t) + 3 for t in texts[:-1]) // 64) * 64
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(reasoning) + len(answer),
            "total_tokens": prompt_tokens + len(reasoning) + len(answer),
            "prompt_tokens_details": {"cached_tokens": cached},
            "prompt_cache_hit_tokens": cached,
            "prompt_cache_miss_tokens": prompt_tokens - cached,
        }
        if thinking:
            usage["completion_tokens_details"] = {"reasoning_tokens": len(reasoning)}
        envelope = {
            "id": str(uuid.uuid4()),
            "object": "chat.completion.chunk" if stream else "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
        }

        slow = directives.get("first_token_delay", "")
        queue_for = float(slow) if _is_number(slow) else first_token_delay
        if not stream:
            await _start(send, 200, "application/json")
            await _queue(send, b"\n", disconnected, queue_for)
            if "whitespace_body" in directives:
                return await _end(send, b"   \n")
            await asyncio.sleep(usage["completion_tokens"] * token_interval)
            message = {"role": "assistant", "content": "".join(answer)}
            if thinking:
                message["reasoning_content"] = "".join(reasoning)
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            result = {
                **envelope,
                "choices": [choice],
                "usage": usage,
                "system_fingerprint": FINGERPRINT,
            }
            return await _end(send, _compact(result))

        def chunk(delta: dict[str, Any] | None, reason: str | None = None, **extra: Any) -> bytes:
            obj = {**envelope, "system_fingerprint": FINGERPRINT}
            obj["choices"] = (
                []
                if delta is None
                else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}]
            )
            if include_usage:
                obj["usage"] = None  # real traffic: null on every chunk but the one with usage
            obj.update(extra)
            return b"data: " + _compact(obj) + b"\n\n"

        await _start(
            send, 200, "text/event-stream; charset=utf-8", [(b"cache-control", b"no-cache")]
        )
        await _queue(send, KEEPALIVE, disconnected, queue_for)
        role = (
            {"role": "assistant", "content": None, "reasoning_content": ""}
            if thinking
            else {"role": "assistant", "content": ""}
        )
        await _body(send, chunk(role))
        cut_after = _int_directive(directives, "cut_after")
        stall_after = _int_directive(directives, "stall_after")
        malformed_after = _int_directive(directives, "malformed_after")
        hold_after = _int_directive(directives, "hold_after")
        pieces = [("reasoning_content", t) for t in reasoning] + [("content", t) for t in answer]
        for n, (field, token) in enumerate(pieces):
            if n == cut_after:
                return await _end(send)
            if n == malformed_after:
                return await _end(send, b'data: {"id":"' + envelope["id"].encode() + b'","choi\n\n')
            if n == stall_after:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(disconnected.wait(), STALL_LIMIT_S)
                return await _end(send)
            if n == hold_after:
                await _first_of(release.wait(), disconnected.wait(), limit=STALL_LIMIT_S)
            await asyncio.sleep(token_interval)
            if disconnected.is_set():
                return
            if field == "content" and n > len(reasoning) and "keepalive_midstream" in directives:
                await _body(send, KEEPALIVE)
            if not thinking:
                delta = {"content": token}
            elif field == "content":
                delta = {"content": token, "reasoning_content": None}
            else:
                delta = {"content": None, "reasoning_content": token}
            await _body(send, chunk(delta))
        final = {"content": "", "reasoning_content": None} if thinking else {"content": ""}
        if directives.get("usage") == "separate":
            await _body(send, chunk(final, finish))
            if include_usage:
                await _body(send, chunk(None, usage=usage))
        else:
            await _body(send, chunk(final, finish, usage=usage))
        await _end(send, b"data: [DONE]\n\n")

    async def _queue(
        send: Send, payload: bytes, disconnected: asyncio.Event, delay: float | None = None
    ) -> None:
        """Pretend to wait for scheduling, sending keep-alives (or blank lines) meanwhile."""
        delay = first_token_delay if delay is None else delay
        waited = 0.0
        while waited < delay and not disconnected.is_set():
            await _body(send, payload)
            step = min(keepalive_interval, delay - waited)
            if step <= 0:
                step = delay - waited
            await asyncio.sleep(step)
            waited += step

    return app


def _compact(obj: Any) -> bytes:
    # DeepSeek sends compact JSON with raw (unescaped) UTF-8, e.g. {"content":"我"}.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


async def _start(send: Send, status: int, content_type: str, extra: list | None = None) -> None:
    headers = [(b"content-type", content_type.encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _body(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _end(send: Send, data: bytes = b"") -> None:
    await send({"type": "http.response.body", "body": data, "more_body": False})


async def _json(send: Send, status: int, obj: Any, extra: list | None = None) -> None:
    await _start(send, status, "application/json", extra)
    await _end(send, _compact(obj))


async def _unauthorized(send: Send, key: str) -> None:
    shown = f"****{key[-4:]}" if key else "****"
    message = f"Authentication Fails, Your api key: {shown} is invalid"
    body = {
        "error": {
            "message": message,
            "type": "authentication_error",
            "param": None,
            "code": "invalid_request_error",
        }
    }
    await _json(send, 401, body)


async def _first_of(*waits: Awaitable[Any], limit: float) -> None:
    """Wait until the first of ``waits`` is done, or ``limit`` seconds."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _is_number(value: str) -> bool:
    try:
        return float(value) >= 0
    except ValueError:
        return False


async def _fault(send: Send, code: str, retry_after: str = "2") -> None:
    """Answer with one of the error responses the real API sends before streaming."""
    if code == "401":
        return await _unauthorized(send, "sk-simulated-bad-key")
    if code == "422":
        await _start(send, 422, "text/plain; charset=utf-8")
        return await _end(send, _PLAIN_422.encode())
    status = int(code) if code.isascii() and code.isdigit() and int(code) in _ERRORS else 500
    message, type_ = _ERRORS[status]
    extra = [(b"retry-after", retry_after.encode("latin-1"))] if status == 429 else None
    await _json(send, status, _error_body(message, type_), extra)
