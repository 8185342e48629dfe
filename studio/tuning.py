"""Framework tuning: every place the studio leans on Django's or asgiref's internals, in one
module, behind one setting (``STUDIO_FRAMEWORK_TUNING``, on by default).

Each tuning below rests on an assumption about how the installed Django and asgiref work
inside, not on their documented API. :func:`broken_assumptions` checks every one of them
against the installed versions; ``tests/studio/test_tuning.py`` fails, naming this module,
when an upgrade breaks one, and so does ``manage.py check`` (``studio.E001``) while the tuning
is on. ``STUDIO_FRAMEWORK_TUNING=false`` turns all of it off: Django's own middleware classes,
and streams that keep their request's thread, exactly as Django ships them.

1. *Django's middleware as one synchronous chain.* Under ASGI, Django runs a middleware that
   is both sync- and async-capable in async mode; for its built-in ones (``MiddlewareMixin``)
   that means a ``sync_to_async`` around every ``process_request`` and ``process_response``:
   about sixteen trips to the request's thread and back before a Generate reaches its view.
   Declared sync-only here, consecutive middleware run as one synchronous chain (and the
   both-capable ones between them, CSRF and X-Frame-Options, follow it): Django adapts once on
   the way in and once to the async view. Nothing else about them changes. It is safe because
   what a view starts in the background never runs in the request's context
   (``studio.background``). Assumption: ``BaseHandler.load_middleware`` reads each class's
   ``sync_capable`` / ``async_capable`` to pick its mode.

2. *A request's ``process_view`` hooks in one trip* (:func:`one_view_trip`). Django adapts
   each middleware's synchronous ``process_view`` (CSRF, login required, the rate limits, an
   async view's role check) to its async handler on its own: four trips to the request's
   thread and back between the URL's resolution and every view, a Generate's and each SSE
   stream's among them. Here
   consecutive ones run in one trip, in the same order, the first response ending it as
   Django's loop does. Assumption: ``BaseHandler.load_middleware`` fills the private
   ``_view_middleware`` list with ``SyncToAsync`` wrappers (``func``) of the hooks, and
   ``_get_response_async`` awaits each in order until one answers.

3. *SSE streams give their request's thread back* (:func:`threadless`). Django runs an ASGI
   request's synchronous parts on a thread of its own, kept until the response has been sent:
   for an SSE stream, an idle OS thread per open stream for minutes. Once the body streams,
   nothing synchronous is left but rare fallbacks, which get a fresh thread when they need
   one. Assumption: asgiref keeps that thread's executor in the private
   ``SyncToAsync.context_to_thread_executor``, keyed by ``SyncToAsync.thread_sensitive_context``.

4. *SQLite connections outlive their request's thread* (``studio.sqlite``, the database
   ENGINE while tuned on SQLite): a request takes an idle connection instead of opening one
   and reading the schema again. Assumption: Django's SQLite ``DatabaseWrapper`` opens
   through ``get_new_connection`` and closes through ``_close``.

5. *The security middleware's hooks run on the event loop* (:func:`security_on_the_loop`).
   Django's ``SecurityMiddleware`` stays async (it comes before the static files, which are
   async only), and as a ``MiddlewareMixin`` in async mode it crosses to the request's thread
   for ``process_request`` and again for ``process_response``: two trips on every request,
   one of them before the view. Both hooks only read the request and set headers (or answer a
   redirect to HTTPS), so here that instance runs them on the loop. Its class and its place
   in ``MIDDLEWARE`` stay Django's (``check --deploy`` looks for them). Assumption: Django's
   ``convert_exception_to_response`` wraps each middleware with ``functools.wraps`` (its
   ``__wrapped__``), and ``MiddlewareMixin.__call__`` calls ``self.__acall__`` in async mode.

6. *Request threads are reused* (:func:`request_threads`). For every request Django's
   ASGIHandler starts an OS thread for its synchronous parts (asgiref's per-request
   executor), and at its end another thread that joins the first: two thread starts per
   request, each with the event loop waiting until the new thread runs. Here an HTTP request
   borrows an idle single-thread executor from :data:`REQUEST_THREADS` (a few per worker)
   through asgiref's own ``ThreadSensitiveContext(executor=...)`` (Django's context inside
   it then changes nothing) and gives it back at its end, or when its stream lets its thread
   go (tuning 3). At most 32 are lent at once: a request beyond them waits on the event loop,
   in order, for one given back, at the cost of a coroutine rather than an OS thread and a
   database connection (``docs/decisions/0063-at-most-32-request-threads.md``).
   Each request still runs its synchronous parts on one thread, alone on it, one call at a
   time, as under a threaded WSGI server; a thread whose call outlives its request (a client
   that left mid-call) is not lent again. Assumption: asgiref's ``ThreadSensitiveContext``
   takes an ``executor`` and, with one, stays the request's context even inside Django's.

7. *Hot reads compiled once* (:class:`Prepared`). Django builds and compiles a queryset to SQL
   on every read: for the end of a generation's locked read and the final panel's draft, 2-3
   ms of CPU each, against 0.06 ms for the database to run the SQL. A prepared read compiles
   its shape once and runs that SQL with each read's key. Assumption: see :class:`Prepared`.

8. *A request's start signal in the middleware chain's trip* (:func:`started_in_the_chain`).
   Django's ASGI handler sends ``request_started`` with ``asend``, and since its receivers
   (Django's own ``reset_queries`` and ``close_old_connections``) are synchronous, that is a
   trip of its own to the request's thread and back before the middleware (a Generate made
   five before its response started, an SSE request four: docs/benchmark.md). Here, for that
   handler's sends, the same receivers run with the same arguments on the same thread at the
   start of the synchronous middleware chain (tuning 1), inside its trip; the signal goes to
   them once. A request answered before the chain (a static file) uses no
   database and skips them. Every other sender (the test clients) is left as Django sends
   it. Assumption: ``ASGIHandler.handle`` sends ``signals.request_started.asend(...)``, looked
   up on the signal each time (an attribute of the instance comes first).

9. *A request's user lets go of its request* (:class:`AuthenticationMiddleware`). Django's
   ``request.user`` is a lazy object whose setup function closes over the request, and it
   keeps that function once the user has been read. A row made with ``created_by=
   request.user`` caches the lazy object, so the generation a runner holds for the life of its
   stream held its whole Generate request too: headers, session, messages, the parsed form
   (``docs/decisions/0062-a-request-s-user-lets-go-of-its-request.md``). Here the user is
   read the same way (Django's ``get_user(request)``, cached on the request), and the request
   is let go once it has been. Assumption: Django's ``AuthenticationMiddleware.
   process_request`` sets ``request.user`` to ``SimpleLazyObject(lambda: get_user(request))``.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.core import signals
from django.core.handlers import exception
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.db.backends.sqlite3 import base as sqlite_base
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable
from django.db.models.sql.compiler import SQLCompiler
from django.dispatch import Signal
from django.http import HttpRequest
from django.middleware import common, csp, locale, security
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject

from studio import middleware as own


def enabled() -> bool:
    return getattr(settings, "STUDIO_FRAMEWORK_TUNING", True)


# --- 1. Django's middleware as one synchronous chain -------------------------------------


def _sync_only(cls: type[MiddlewareMixin]) -> type[MiddlewareMixin]:
    return type(cls.__name__, (cls,), {"async_capable": False, "__module__": __name__})


# settings.MIDDLEWARE names these (``studio.tuning.<name>``) while the tuning is on, else the
# originals; ``studio.settings`` maps the names, this module the classes.
TUNED_MIDDLEWARE: dict[str, type[MiddlewareMixin]] = {
    cls.__name__: cls
    for cls in (
        sessions.SessionMiddleware,
        locale.LocaleMiddleware,
        common.CommonMiddleware,
        auth.AuthenticationMiddleware,
        own.PrivatePagesMiddleware,
        auth.LoginRequiredMiddleware,
        messages.MessageMiddleware,
        csp.ContentSecurityPolicyMiddleware,
    )
}


class SessionMiddleware(_sync_only(sessions.SessionMiddleware)):
    """Django's, sync-only (tuning 1); the chain's first: the request's start signal goes to
    its receivers here, in the chain's trip (tuning 8)."""

    def __call__(self, request):
        if (started := _started.get()) is not None:
            _started.set(None)
            started()
        return super().__call__(request)


LocaleMiddleware = _sync_only(locale.LocaleMiddleware)
CommonMiddleware = _sync_only(common.CommonMiddleware)


class AuthenticationMiddleware(_sync_only(auth.AuthenticationMiddleware)):
    """Django's, sync-only (tuning 1), whose ``request.user`` lets go of its request once it
    has been read (tuning 9)."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(_UserOf(request))


class _UserOf:
    """What ``request.user`` reads its user with: Django's ``get_user(request)``, as Django's
    own lazy user does, holding the request only until the user has been read."""

    __slots__ = ("request",)

    def __init__(self, request: HttpRequest) -> None:
        self.request: HttpRequest | None = request

    def __call__(self) -> Any:
        user = auth.get_user(self.request)
        self.request = None  # read (and cached on the request): the request may go
        return user


PrivatePagesMiddleware = _sync_only(own.PrivatePagesMiddleware)
LoginRequiredMiddleware = _sync_only(auth.LoginRequiredMiddleware)
MessageMiddleware = _sync_only(messages.MessageMiddleware)
ContentSecurityPolicyMiddleware = _sync_only(csp.ContentSecurityPolicyMiddleware)


def untuned_middleware(names: list[str]) -> list[str]:
    """``settings.MIDDLEWARE`` as it is with the tuning off (Django's own classes)."""
    prefix = f"{__name__}."
    return [
        f"{TUNED_MIDDLEWARE[name.removeprefix(prefix)].__module__}.{name.removeprefix(prefix)}"
        if name.startswith(prefix)
        else name
        for name in names
    ]


# --- 2. A request's process_view hooks in one trip ---------------------------------------


def _sync_hook(method: object) -> Callable[..., Any] | None:
    """The synchronous hook a thread-sensitive ``SyncToAsync`` wraps, else None."""
    if isinstance(method, SyncToAsync) and getattr(method, "_thread_sensitive", False):
        return getattr(method, "func", None)
    return None


def _in_one_trip(hooks: list[Callable[..., Any]]) -> Callable[..., Any]:
    def process_view(request, callback, callback_args, callback_kwargs):
        for hook in hooks:
            if response := hook(request, callback, callback_args, callback_kwargs):
                return response
        return None

    return sync_to_async(process_view, thread_sensitive=True)


def one_view_trip(handler: BaseHandler) -> BaseHandler:
    """``handler`` (loaded) with each run of consecutive synchronous ``process_view`` hooks
    in one trip to the request's thread (tuning 2; as it is with the tuning off)."""
    methods = getattr(handler, "_view_middleware", None)
    if not enabled() or not methods:
        return handler
    merged: list[Any] = []
    run: list[Callable[..., Any]] = []
    for method in [*methods, None]:
        if method is not None and (hook := _sync_hook(method)) is not None:
            run.append(hook)
            continue
        if len(run) == 1:
            merged.append(sync_to_async(run[0], thread_sensitive=True))
        elif run:
            merged.append(_in_one_trip(run))
        run = []
        if method is not None:
            merged.append(method)
    handler._view_middleware = merged
    return handler


# --- 5. The security middleware's hooks on the event loop ---------------------------------


def _chain(handler: BaseHandler) -> Iterator[object]:
    """The middleware instances of the handler's async chain, outermost first, as far as it
    stays async (an adapter to the synchronous chain ends it)."""
    step = getattr(handler, "_middleware_chain", None)
    while (middleware := getattr(step, "__wrapped__", None)) is not None:
        yield middleware
        step = getattr(middleware, "get_response", None)


def _on_the_loop(middleware: security.SecurityMiddleware) -> None:
    async def acall(request):
        response = middleware.process_request(request)
        response = response or await middleware.get_response(request)
        return middleware.process_response(request, response)

    middleware.__acall__ = acall  # MiddlewareMixin.__call__ looks it up on the instance


def security_on_the_loop(handler: BaseHandler) -> BaseHandler:
    """``handler`` (loaded) with its SecurityMiddleware's hooks run on the event loop, not a
    trip to the request's thread each (tuning 5; as it is with the tuning off)."""
    if enabled():
        for middleware in _chain(handler):
            if type(middleware) is security.SecurityMiddleware and middleware.async_mode:
                _on_the_loop(middleware)
    return handler


# --- 3. SSE streams give their request's thread back -------------------------------------


def release_request_thread() -> None:
    """Let this request's thread go for the rest of a long response (tuning 3): back to
    the idle request threads when it was lent (tuning 6), else ended."""
    context = SyncToAsync.thread_sensitive_context.get(None)
    executor = SyncToAsync.context_to_thread_executor.pop(context, None) if context else None
    lent = _lent.get()
    if lent is not None and executor is lent.thread:
        lent.give_back()
    elif executor is not None:
        executor.shutdown(wait=False)


async def threadless(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The stream, with the request's thread given back before its first frame (when the
    tuning is on; else the stream as it is; tuning 3)."""
    if enabled():
        release_request_thread()
    async for frame in stream:
        yield frame


# --- 6. Request threads are reused --------------------------------------------------------


class RequestThread(ThreadPoolExecutor):
    """One request's thread at a time: one call at a time on one OS thread, as asgiref's own
    per-request executor, and it knows whether a call it was given is still running."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")
        self._calls: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self._calls.add(future)
        future.add_done_callback(self._calls.discard)
        return future

    @property
    def idle(self) -> bool:
        return not self._calls


class RequestThreads:
    """Request threads: at most ``limit`` lent at once (0: no limit), a request beyond it
    waiting in order on the event loop for one given back (``waiting``), which costs it no OS
    thread and no database connection; idle ones kept for the next requests, the most
    recently used lent first, at most ``keep``. ``lent``: how many requests hold one now."""

    def __init__(self, keep: int, limit: int = 0) -> None:
        self.keep, self.limit = keep, limit
        self.lent = 0
        self._idle: list[RequestThread] = []
        self._waiting: collections.deque[asyncio.Future[RequestThread]] = collections.deque()
        self._count = threading.Lock()  # servers on several threads share it (tests)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def lend(self) -> RequestThread:
        with self._count:
            if not self._waiting and (self.limit <= 0 or self.lent < self.limit):
                self.lent += 1
                return self._take()
            turn: asyncio.Future[RequestThread] = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
        try:
            return await turn
        except asyncio.CancelledError:  # the client left while it waited
            with self._count:
                still_waiting = turn in self._waiting
                if still_waiting:
                    self._waiting.remove(turn)
            if not still_waiting and turn.done() and not turn.cancelled():
                self.give_back(turn.result())  # handed one as it left: the next one's now
            raise  # (one on its way from another loop is given back where it arrives)

    def _take(self) -> RequestThread:
        try:
            return self._idle.pop()
        except IndexError:  # none idle (or another server's loop took the last one)
            return RequestThread()

    def give_back(self, thread: RequestThread) -> None:
        """To the first request waiting for one, else idle; one still busy with a call (or
        beyond ``keep``) ends after its call (a waiting request gets another)."""
        with self._count:
            turn = self._waiting.popleft() if self._waiting else None
            if turn is None:
                self.lent -= 1
        if turn is not None:
            if not thread.idle:
                thread.shutdown(wait=False)
                thread = self._take()
            _hand(turn, thread, self)
        elif thread.idle and len(self._idle) < self.keep:
            self._idle.append(thread)
        else:
            thread.shutdown(wait=False)

    def busy(self) -> bool:
        """Whether :data:`BUSY_REQUESTS` requests hold a thread or wait for one: then a
        worker takes one new connection per turn of its loop, not a batch
        (``studio.event_loop``)."""
        return self.lent + len(self._waiting) >= BUSY_REQUESTS

    def __len__(self) -> int:
        return len(self._idle)


def _hand(turn: asyncio.Future[RequestThread], thread: RequestThread, pool: RequestThreads):
    """``thread`` to the request waiting on ``turn``, on that request's loop; given back
    again if that request left the line meanwhile."""

    def handed() -> None:
        if turn.done():
            pool.give_back(thread)
        else:
            turn.set_result(thread)

    loop = turn.get_loop()
    try:
        here = asyncio.get_running_loop()
    except RuntimeError:
        here = None
    if loop is here:
        handed()
        return
    try:
        loop.call_soon_threadsafe(handed)
    except RuntimeError:  # that loop has closed: nobody waits there any more
        pool.give_back(thread)


# Idle request threads kept for the next requests, and the most lent at once. An idle thread
# keeps the stack its requests touched resident (about half a MiB): 64 kept cost the embedded
# studio about 30 MiB more at the peak of N=1000 (docs/decisions/0031-requests-reuse-their-
# threads.md). Unlimited, a burst of requests ran one thread each, each with a database
# connection of its own: at the peak of N=1000, 110 threads and 110 SQLite connections (33 MiB
# of SQLite's memory alone); beyond 32, a request waits for a thread on the event loop
# (docs/decisions/0063-at-most-32-request-threads.md). 32 is as many SQLite
# connections as studio.sqlite keeps idle, and more than PostgreSQL's pool (20) serves at once.
REQUEST_THREADS = RequestThreads(keep=8, limit=32)
# Requests holding a request thread or waiting for one, beyond which a worker accepts
# new connections one per turn of its loop, as uvloop itself does, instead of a batch: those
# wait in the kernel's queue, costing no thread. Unthrottled, 1,000 streams started at once
# made the embedded studio run 1,029 threads (590 MB resident against 250 MB) and answer
# later (docs/decisions/0048-every-waiting-connection-accepted.md).
BUSY_REQUESTS = 64


class _Lent:
    """The request thread lent to the current request, given back once."""

    def __init__(self, thread: RequestThread) -> None:
        self.thread: RequestThread | None = thread

    def give_back(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            REQUEST_THREADS.give_back(thread)


_lent: contextvars.ContextVar[_Lent | None] = contextvars.ContextVar("lent_thread", default=None)


def request_threads(app: Callable[..., Any]) -> Callable[..., Any]:
    """The ASGI ``app`` with each HTTP request's synchronous parts on a borrowed request
    thread (tuning 6; with the tuning off, Django's thread per request)."""

    async def application(scope, receive, send) -> None:
        if scope["type"] != "http" or not enabled():
            await app(scope, receive, send)
            return
        lent = _Lent(await REQUEST_THREADS.lend())
        token = _lent.set(lent)
        try:
            async with ThreadSensitiveContext(executor=lent.thread) as context:
                try:
                    await app(scope, receive, send)
                finally:
                    # After tuning 3 let the thread go, a rare synchronous call got a fresh
                    # executor from asgiref, which leaves one it was given to its caller.
                    fresh = SyncToAsync.context_to_thread_executor.get(context)
                    if fresh is not None and fresh is not lent.thread:
                        fresh.shutdown(wait=False)
        finally:
            _lent.reset(token)
            lent.give_back()

    return application


# --- The assumptions, checked -------------------------------------------------------------


HOOKS = ("process_request", "process_view", "process_response")


# --- 7. Hot reads compiled once -----------------------------------------------------------

# Stand in for a prepared read's keys while its SQL is compiled, then are found in its params
# (within a 32-bit key: Django finds no row for a key out of range).
_STAND_INS = (-1_999_999_937, -1_999_999_929, -1_999_999_927)
_STATE = ("select", "klass_info", "annotation_col_map", "col_count", "has_extra_select")


class Prepared[M: Model]:
    """Rows by their keys, read with a queryset of one shape whose SQL Django compiles once
    per database, not on every read (tuning 7). A row comes back as the queryset's own would,
    its ``select_related`` objects and annotations included (or a dict, from ``values()``).

    ``build(*keys)`` returns the queryset that finds the rows for ``keys`` (one to three
    integers: a primary key; a user's id and a workspace's). It is built once, with stand-in
    keys, and compiled at its first read (inside the caller's transaction, as a locking read
    must be); every read keeps that SQL and the compiler's column map and runs it with its own
    keys. A shape whose SQL does not hold each key as exactly one parameter is refused
    (ValueError), never guessed at. Tuning off: ``build(*keys).get()`` and its first row.

    Assumption: ``ModelIterable`` gets its compiler from ``query.get_compiler()`` and runs
    ``execute_sql()`` (``ValuesIterable`` its ``results_iter()``, which runs it), which takes
    its SQL from ``as_sql()``; reading the rows then needs only the compiler's ``select``,
    ``klass_info``, ``annotation_col_map``, ``col_count`` and ``has_extra_select``.
    """

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self.build = build
        self._template: QuerySet[M] | None = None
        self._compiled: dict[str, tuple[str, list[Any], list[int], dict[str, Any]]] = {}

    def get(self, *keys: int) -> M:
        """The row (``DoesNotExist`` when there is none)."""
        if not enabled():
            return self.build(*keys).get()
        rows = self._rows(keys)
        if not rows:
            model = self._template.model  # built by _rows
            raise model.DoesNotExist(f"{model._meta.object_name} {keys} not found")
        return rows[0]

    def first(self, *keys: int) -> M | None:
        """The first row, or None (the queryset's own order; slice it to read only one)."""
        if not enabled():
            return next(iter(self.build(*keys)), None)
        rows = self._rows(keys)
        return rows[0] if rows else None

    def all(self, *keys: int) -> list[M]:
        """Every row, in the queryset's order."""
        if not enabled():
            return list(self.build(*keys))
        return self._rows(keys)

    def _rows(self, keys: tuple[int, ...]) -> list[M]:
        if self._template is None:
            self._template = self.build(*_STAND_INS[: len(keys)])
        queryset = self._template._chain()  # its own query: the compiler below is this read's
        alias = queryset.db
        compiled = self._compiled.get(alias) or self._compile(queryset, alias, len(keys))
        sql, params, slots, state = compiled
        compiler = queryset.query.get_compiler(using=alias)
        compiler.__dict__.update(state)
        bound = list(params)
        for slot, key in zip(slots, keys, strict=True):
            bound[slot] = key
        compiler.as_sql = lambda *args, **kwargs: (sql, tuple(bound))
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)

    def _compile(
        self, queryset: QuerySet[M], alias: str, count: int
    ) -> tuple[str, list[Any], list[int], dict]:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        stand_ins = _STAND_INS[:count]
        if any(params.count(key) != 1 or str(key) in sql for key in stand_ins):
            raise ValueError(f"Cannot prepare {sql!r}: a key is not one parameter")
        state = {name: getattr(compiler, name) for name in _STATE}
        slots = [params.index(key) for key in stand_ins]
        compiled = self._compiled[alias] = (sql, params, slots, state)
        return compiled


# --- 8. A request's start signal in the middleware chain's trip ------------------------

# The request_started send that Django's ASGI handler left for the chain to make (tuning 8).
_started: contextvars.ContextVar[Callable[[], object] | None] = contextvars.ContextVar(
    "request_started", default=None
)
CHAIN_START = f"{__name__}.SessionMiddleware"


async def _asend_started(sender: type, **named: Any) -> list[tuple[Any, Any]]:
    """``request_started.asend``: Django's ASGI handler's send waits for the middleware
    chain's trip while :class:`SessionMiddleware` (its first) is in ``MIDDLEWARE``; any other
    as Django sends it."""
    if sender is ASGIHandler and enabled() and CHAIN_START in settings.MIDDLEWARE:
        _started.set(partial(signals.request_started.send, sender, **named))
        return []
    return await Signal.asend(signals.request_started, sender, **named)


def started_in_the_chain() -> None:
    """Tuning 8, for the whole process: ``request_started`` sent by the ASGI handler reaches
    its receivers in the chain's trip (each send still checks that the tuning is on)."""
    signals.request_started.asend = _asend_started


def broken_assumptions() -> list[str]:
    """What the installed Django and asgiref no longer do as these tunings assume; each line
    names this module (empty: all hold)."""
    problems: list[str] = []
    executors = getattr(SyncToAsync, "context_to_thread_executor", None)
    if not isinstance(executors, Mapping) or not hasattr(executors, "pop"):
        problems.append("asgiref's SyncToAsync.context_to_thread_executor is gone")
    context_var = getattr(SyncToAsync, "thread_sensitive_context", None)
    if not isinstance(context_var, contextvars.ContextVar):
        problems.append("asgiref's SyncToAsync.thread_sensitive_context is no ContextVar")
    loader = inspect.getsource(BaseHandler.load_middleware)
    if "async_capable" not in loader or "sync_capable" not in loader:
        problems.append("Django's BaseHandler.load_middleware no longer reads async_capable")
    if "self._view_middleware.insert" not in loader or "adapt_method_mode" not in loader:
        problems.append("Django's BaseHandler.load_middleware no longer fills _view_middleware")
    responder = inspect.getsource(BaseHandler._get_response_async)
    if "for middleware_method in self._view_middleware" not in responder:
        problems.append("Django's BaseHandler._get_response_async no longer runs _view_middleware")
    if "executor" not in inspect.signature(ThreadSensitiveContext).parameters:
        problems.append("asgiref's ThreadSensitiveContext takes no executor")
    wrapped = sync_to_async(broken_assumptions, thread_sensitive=True)
    if getattr(wrapped, "func", None) is not broken_assumptions or not getattr(
        wrapped, "_thread_sensitive", False
    ):
        problems.append("asgiref's SyncToAsync no longer keeps func and _thread_sensitive")
    for hook in ("get_new_connection", "_close", "is_in_memory_db"):
        if not callable(getattr(sqlite_base.DatabaseWrapper, hook, None)):
            problems.append(f"Django's SQLite DatabaseWrapper has no {hook} (studio.sqlite)")
    iterable = inspect.getsource(ModelIterable.__iter__)
    if "queryset.query.get_compiler(" not in iterable or "compiler.execute_sql(" not in iterable:
        problems.append("Django's ModelIterable no longer runs query.get_compiler().execute_sql()")
    values = inspect.getsource(ValuesIterable.__iter__)
    if "query.get_compiler(" not in values or "compiler.results_iter(" not in values:
        problems.append(
            "Django's ValuesIterable no longer runs query.get_compiler().results_iter()"
        )
    if "self.execute_sql(" not in inspect.getsource(SQLCompiler.results_iter):
        problems.append("Django's SQLCompiler.results_iter no longer runs execute_sql()")
    if "self.as_sql()" not in inspect.getsource(SQLCompiler.execute_sql):
        problems.append("Django's SQLCompiler.execute_sql no longer takes its SQL from as_sql()")
    setup = "".join(map(inspect.getsource, (SQLCompiler.setup_query, SQLCompiler.pre_sql_setup)))
    for name in _STATE:
        if f"self.{name}" not in setup:
            problems.append(f"Django's SQLCompiler no longer sets {name} before a query runs")
    if "request._cached_user" not in inspect.getsource(auth.get_user) or (
        "request._acached_user" not in inspect.getsource(auth.auser)
    ):  # studio.workspaces.access.MembershipWithUserMiddleware hands one to the other
        problems.append("Django's auth middleware no longer caches _cached_user/_acached_user")
    if "SimpleLazyObject(lambda: get_user(request))" not in inspect.getsource(
        auth.AuthenticationMiddleware.process_request
    ):
        problems.append("Django's AuthenticationMiddleware no longer sets a lazy get_user()")
    wrapper = inspect.getsource(exception.convert_exception_to_response)
    if "@wraps(get_response)" not in wrapper:
        problems.append("Django's convert_exception_to_response no longer wraps its middleware")
    if "self.__acall__(" not in inspect.getsource(MiddlewareMixin.__call__):
        problems.append("Django's MiddlewareMixin.__call__ no longer calls self.__acall__")
    if "signals.request_started.asend(" not in inspect.getsource(ASGIHandler.handle):
        problems.append("Django's ASGIHandler.handle no longer sends request_started.asend()")
    for hook in ("process_request", "process_response"):
        if not callable(getattr(security.SecurityMiddleware, hook, None)):
            problems.append(f"Django's SecurityMiddleware has no {hook}")
    for name, original in TUNED_MIDDLEWARE.items():
        if not issubclass(original, MiddlewareMixin) or not original.async_capable:
            problems.append(f"{original.__module__}.{name} is no async-capable MiddlewareMixin")
        if not any(hasattr(original, hook) for hook in HOOKS):
            problems.append(f"{original.__module__}.{name} has none of the hooks {HOOKS}")
    return [f"{__name__}: {problem}" for problem in problems]
