"""ASGI entry point (uvicorn): Django plus the lifespan events Django itself ignores, and a
shutdown that fits the platform's stop timeout.

Shutdown (SIGTERM, or the lifespan shutdown when the server got another signal): from then on
every new HTTP request is answered 503 with ``Retry-After`` (the API's JSON envelope under
``/api/``), so that a client or load balancer tries again elsewhere instead of waiting on a
process that is going away. Meanwhile the running generations (and assistant answers) all end
at once as interrupted, their text kept, which ends the SSE streams watching them; the other
in-flight responses finish. At ``SHUTDOWN_TIMEOUT`` seconds less a reserve for the server's
own closing, whatever is still in flight is cut off, and the server is told to exit.

uvicorn closes its listening socket as soon as it is told to exit; with ``--workers`` the
supervisor keeps the socket open, so a request arriving then would wait unanswered. That is
why SIGTERM is caught here first (chained in front of the server's own handler at lifespan
startup, main thread only) and handed on once the drain is over. Each worker process drains
by itself, so all of them drain in parallel.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import gc
import io
import json
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIRequest
from django.template import TemplateSyntaxError, engines
from django.template.utils import get_app_template_dirs
from django.urls import get_resolver
from django.utils import translation
from django.utils.translation import gettext as _

from studio import event_loop
from studio.body_limit import body_limit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

_django = get_asgi_application()
# Late on purpose: it imports Django's middleware, which needs the apps set up.
from studio.tuning import (  # noqa: E402
    REQUEST_THREADS,
    one_view_trip,
    request_threads,
    security_on_the_loop,
    started_in_the_chain,
)

# Bodies over REQUEST_BODY_MAX_SIZE are refused before Django spools them. A request's
# synchronous parts run on a reused thread, its process_view hooks in one trip to it, the
# security middleware's on the loop (studio.tuning, when on).
django_application = request_threads(body_limit(security_on_the_loop(one_view_trip(_django))))
# Django's request_started receivers in the middleware chain's trip, not one of their own.
started_in_the_chain()
# A worker whose request threads are all busy accepts new connections one at a time.
event_loop.busy = REQUEST_THREADS.busy

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again: by then another worker or a new
# container answers.
RETRY_AFTER = 5
# Seconds of SHUTDOWN_TIMEOUT kept for the server after the drain: closing connections, the
# lifespan shutdown (settling what is left, closing the DeepSeek client).
CLOSING_RESERVE = 1.5


class Drain:
    """This process's shutdown: since when it drains, the HTTP requests in flight."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.since: float | None = None  # time.monotonic() when the drain began
        self.requests: set[asyncio.Task[Any]] = set()
        self.task: asyncio.Task[None] | None = None

    @property
    def draining(self) -> bool:
        return self.since is not None

    def begin(self) -> None:
        if self.since is None:
            self.since = time.monotonic()
            logger.info("Shutting down: new requests get 503 from now on.")

    def remaining(self, *, reserve: float = 0.0) -> float:
        """Seconds left of SHUTDOWN_TIMEOUT (less ``reserve``, keeping at least half of it)."""
        bound = settings.SHUTDOWN_TIMEOUT
        budget = max(bound - reserve, bound / 2)
        since = self.since if self.since is not None else time.monotonic()
        return max(0.0, since + budget - time.monotonic())

    def start(self, then: Callable[[], None] | None = None) -> asyncio.Task[None]:
        """Begin draining (once): end the running streams, let the responses in flight
        finish, cut off the rest at the deadline, then call ``then``."""
        self.begin()
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run(then), name="drain")
        return self.task

    async def _run(self, then: Callable[[], None] | None) -> None:
        from drafts.generation import shutdown

        try:
            # Every running generation at once: its watchers' SSE streams end with it.
            await shutdown(timeout=self.remaining(reserve=CLOSING_RESERVE))
            pending = {task for task in self.requests if not task.done()}
            if pending:
                _, pending = await asyncio.wait(
                    pending, timeout=self.remaining(reserve=CLOSING_RESERVE)
                )
            for task in pending:
                task.cancel()
            if pending:
                logger.warning("Shutdown: cut off %s responses still in flight.", len(pending))
        except Exception:
            logger.exception("The shutdown drain failed")
        finally:
            if then is not None:
                then()


DRAIN = Drain()
# Servers on threads other than the main one (tests run several in one process): a drain each.
_THREAD_DRAINS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Drain] = (
    weakref.WeakKeyDictionary()
)


def current_drain() -> Drain:
    """The drain of the server whose loop runs this: the process's (``DRAIN``, which SIGTERM
    starts) for a server on the main thread, as production runs one per process; one of its
    own for a server on another thread, so that one stopping never refuses another's requests."""
    if threading.current_thread() is threading.main_thread():
        return DRAIN
    loop = asyncio.get_running_loop()
    drain = _THREAD_DRAINS.get(loop)
    if drain is None:
        drain = _THREAD_DRAINS[loop] = Drain()
    return drain


async def application(scope, receive, send) -> None:
    """Django for HTTP (503 once shutting down); on lifespan startup, sweep for generations
    no process runs (``drafts.sweeper``) and knowledge ingestions no worker runs any more
    (``prompts.knowledge.ingesting``); on shutdown, drain (above) and close clients."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    drain = current_drain()
    if scope["type"] == "http" and drain.draining:
        await refuse(scope, send)
        return
    task = asyncio.current_task()
    if task is not None:
        drain.requests.add(task)
    try:
        await django_application(scope, receive, send)
    finally:
        drain.requests.discard(task)


async def lifespan(receive, send) -> None:
    # Late on purpose: the app modules load once get_asgi_application() has set Django up.
    from drafts import sweeper
    from drafts.generation import shutdown
    from prompts.knowledge.ingesting import start_sweep
    from studio.ai import close_client
    from studio.audit.metrics import process_exiting

    sweeping = None
    unhook = _nothing
    drain = current_drain()
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            drain.reset()
            warm_up()
            skip_the_last_collection()
            unhook = _drain_on_sigterm(asyncio.get_running_loop())
            sweeping = sweeper.start()
            start_sweep()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            unhook()
            await drain.start()  # at once when SIGTERM started it and it is over
            if sweeping is not None:
                sweeping.cancel()
            # What started since (or ran elsewhere than in a stream): interrupted, text kept.
            await shutdown(timeout=drain.remaining())
            await close_client()
            process_exiting()  # several workers: this one's open streams stop counting
            await send({"type": "lifespan.shutdown.complete"})
            return


def warm_up() -> None:
    """Load now what a worker's first request would otherwise load while its client waits:
    the URLconf with every view module it imports (about 0.5 s on an idle 2-core machine,
    2 s on a loaded one), the translations of each language, and the project's templates and
    the forms' template pack, compiled into the cached loader (0.3 s for all of them; a
    page's first render otherwise compiled its own). At lifespan startup, before uvicorn
    serves: a new worker (a restart, a deploy, one replaced by the supervisor) takes its
    first connection ready, as its siblings are."""
    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):  # activating a language loads its catalogs
            resolver.reverse_dict  # noqa: B018 — the URL names in this language, built now
    engine = engines["django"]
    for directory in map(Path, engine.dirs):
        _compile(engine, directory, directory)
    # And the forms' template pack (crispy-tailwind's): each form's first render compiled
    # the parts it used (about 14 ms for the pack's 33 templates).
    for directory in map(Path, get_app_template_dirs("templates")):
        _compile(engine, directory, directory / settings.CRISPY_TEMPLATE_PACK)


@functools.cache
def skip_the_last_collection() -> None:
    """At exit, once the threads are joined, the cyclic collector leaves what the process
    holds alone: its last passes over the whole heap cost a worker about 0.5 s of CPU, several
    seconds of SHUTDOWN_TIMEOUT's margin on a loaded machine (measured: ``serve`` took 6 s to
    exit against a 3 s bound plus 2.5 s), and the memory goes with the process anyway.
    ``atexit`` runs before those passes; the exit handlers registered earlier (logging's
    flush) still run."""
    atexit.register(gc.freeze)


def _compile(engine: Any, root: Path, under: Path) -> None:
    """Every template under ``under``, by its name from ``root``, into the cached loader."""
    for path in sorted(under.rglob("*.html")):
        name = path.relative_to(root).as_posix()
        try:
            engine.get_template(name)
        except TemplateSyntaxError:  # the page that uses it fails as it would have
            logger.exception("Template %s does not compile", name)


def _nothing() -> None:
    pass


def _drain_on_sigterm(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Put a SIGTERM handler in front of the server's: it starts the drain and hands the
    signal on when it is over (a second SIGTERM at once). Returns what undoes it. Only the
    main thread can handle signals: elsewhere (a server in a test's thread) nothing is done,
    and the drain begins with the lifespan shutdown."""
    if threading.current_thread() is not threading.main_thread():
        return _nothing
    previous = signal.getsignal(signal.SIGTERM)

    def hand_on(signum: int, frame: Any) -> None:
        if callable(previous):
            previous(signum, frame)
        else:  # the default (end the process) or ignore
            signal.signal(signal.SIGTERM, previous)
            signal.raise_signal(signum)

    def on_sigterm(signum: int, frame: Any) -> None:
        if DRAIN.draining:
            hand_on(signum, frame)
            return
        DRAIN.begin()  # now: requests that the loop takes next are refused
        loop.call_soon_threadsafe(DRAIN.start, lambda: hand_on(signum, None))

    signal.signal(signal.SIGTERM, on_sigterm)

    def unhook() -> None:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)

    return unhook


async def refuse(scope, send) -> None:
    """503 with Retry-After, in the request's language: the API's JSON envelope under /api/,
    else plain text; the connection closes after it."""

    request = ASGIRequest(scope, io.BytesIO())
    with translation.override(translation.get_language_from_request(request)):
        message = _("The studio is restarting. Please try again in a few seconds.")
    if scope["path"].startswith("/api/"):
        error = {"message": message, "type": "server_error", "code": "shutting_down"}
        body, kind = json.dumps({"error": error | {"param": None}}).encode(), b"application/json"
    else:
        body, kind = message.encode(), b"text/plain; charset=utf-8"
    headers = [
        (b"content-type", kind),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
