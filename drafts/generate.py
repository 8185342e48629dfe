"""The generate action: every ``Generation`` row is created here, and only here.

Every "Generate" (the workspace, the JSON API, an experiment run or an assigned variant, a
section or rewrite suggestion, a batch row, a follow-up) builds a :class:`Generate` and calls
:func:`do_generate`, which

1. checks the user's role in the workspace (``studio.workspaces.access``) and their daily
   token budget (``studio.guardrails.budgets``; a refusal writes an audit row with the request's
   origin). Request rate limits are counted where requests arrive, before any view runs
   (``studio.guardrails.page_rate_limits``, ``studio.api.auth``);
2. stores the drafts and generations, with the caller's origin in the generation's own
   columns, in one transaction, together with the caller's own rows (``within``);
3. starts the runner (``drafts.generation.launch``) on the caller's event loop once that
   transaction has committed. The request to DeepSeek itself leaves before step 2 where the
   runner would send it unchanged (``_asked_early``): the rows are stored while DeepSeek
   thinks, and the runner streams that request.

Which template version or experiment variant runs is decided above (``prompts`` experiments
pick the variant, then call this with its :class:`Ask`): drafts never import experiments.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from prompts.models import TemplateVersion
from studio.audit.origin import Origin
from studio.guardrails import response_cache
from studio.guardrails.budgets import Reservation, check_token_budget, reserve_tokens
from studio.workspaces.access import denial, membership
from studio.workspaces.models import EDIT

from . import generation as runner
from . import grounding
from .grounding import Cited, Scope
from .models import Draft, Generation

NEVER_CACHED = "off"  # ``Generate.cache`` for a request that must not use the cache
CONTINUE_INSTRUCTION = (
    "Continue exactly where the text above stops. Do not repeat anything already written."
)


class NotAllowed(Exception):
    """The user's role in the workspace may not generate (or they are not a member)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Ask:
    """What one generation asks the model: messages, model and model parameters only."""

    model: str
    params: dict[str, Any]
    messages: list[dict[str, Any]]
    inputs: dict[str, Any] = field(default_factory=dict)
    template_version: TemplateVersion | None = None
    # The numbered passages its prompt gives (drafts.grounding); None: not grounded (yet).
    grounding: tuple[Cited, ...] | None = None
    # For a version with a knowledge variable: the messages with a sources block in its
    # place. The generate action retrieves the passages and writes them (grounding.ground).
    with_knowledge: Callable[[str], list[dict[str, Any]]] | None = field(
        default=None, compare=False, repr=False
    )
    # The caller's overrides of the knowledge variable, or grounding switched off (the API).
    knowledge: Scope | None = None

    @classmethod
    def from_version(cls, version: TemplateVersion, inputs: dict[str, Any]) -> Ask:
        """A template version's prompts filled with the form's inputs, at its parameters."""
        params = version.generation_params()
        grounded = version.knowledge_variable() is not None
        return cls(
            model=str(params["model"]),
            params=params,
            messages=version.build_messages(inputs),
            inputs=inputs,
            template_version=version,
            with_knowledge=partial(_knowledge_messages, version, inputs) if grounded else None,
        )


def _knowledge_messages(
    version: TemplateVersion, inputs: dict[str, Any], knowledge: str
) -> list[dict[str, Any]]:
    return version.build_messages(inputs, knowledge=knowledge)


@dataclass(frozen=True)
class Generate:
    """One "Generate" as the entry points hand it over.

    ``asks``: one generation each (an experiment run: one per variant), each in a new draft
    unless ``draft`` names the existing one they belong to (follow-ups, suggestions).
    ``cache``: what the caller asked of the response cache (``reuse``, ``bypass``, nothing,
    or :data:`NEVER_CACHED`). ``continues``: the generation whose text a "Continue" goes on
    from. ``loop``: the event loop the runner starts on once committed (the view's own);
    None when the caller runs the generations itself (a batch row) or not at all.
    """

    user: Any
    workspace: Any
    origin: Origin
    asks: Sequence[Ask]
    draft: Draft | None = None
    cache: str = ""
    continues: Generation | None = None
    loop: asyncio.AbstractEventLoop | None = None


def check_may_generate(*, user, workspace, origin: Origin, budget: bool = True) -> None:
    """Raise NotAllowed for a role that may not generate, BudgetExceeded (audited, with
    ``origin``) for a spent daily budget (``budget=False``: the caller reserves the tokens,
    which refuses a spent budget too). Nothing is written otherwise."""
    member = membership(user, workspace_id=workspace.pk)
    if member is None:
        raise NotAllowed(_("You are not a member of this workspace."))
    if message := denial(member, EDIT):
        raise NotAllowed(message)
    if budget:
        check_token_budget(user, workspace_id=workspace.pk, origin=origin.as_dict())


# SQLite lets one writer in at a time, and a writer that finds the lock taken polls for it
# (asleep up to 100 ms between tries, in no order, the lock often free meanwhile) until its
# busy timeout: in a burst of 200 Generates at once the last waited past the timeout ("database
# is locked", 500). Within a process they queue here instead, each going in as the one before
# it commits; SQLite's own wait still orders them with other writers and other processes.
_SQLITE_GENERATES = threading.Lock()


def _queued_on_sqlite() -> contextlib.AbstractContextManager[object]:
    """The queue above, on SQLite, for a transaction of its own (inside a caller's, the
    caller's transaction is already in, or waits as a whole)."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        return _SQLITE_GENERATES
    return contextlib.nullcontext()


def do_generate(
    request: Generate, *, within: Callable[[list[Generation]], None] | None = None
) -> list[Generation]:
    """Check, store and (once committed) launch the generations ``request`` asks for.

    :param within: called with the new generations inside the same transaction, for the
        caller's own rows (a suggestion, an experiment run's columns); whatever it raises
        undoes everything, and nothing is launched.
    Raises NotAllowed or BudgetExceeded before anything is stored. Returns the generations
    in the order of ``request.asks``.
    """
    reserving = _reserves(request)
    check_may_generate(
        user=request.user, workspace=request.workspace, origin=request.origin, budget=not reserving
    )
    # Retrieval reads only: done before the transaction (SQLite's writers queue behind it).
    asks = [_grounded(ask, workspace=request.workspace) for ask in request.asks]
    held = _reserved(request, asks) if reserving else []
    early = _asked_early(request, asks, held)
    for sent in early:
        if sent is not None:
            sent.wait_sent()  # the rows follow the request out, not the other way round
    try:
        with _queued_on_sqlite(), transaction.atomic():
            generations = [_store(request, ask) for ask in asks]
            if within is not None:
                within(generations)
            if request.loop is not None:
                _launch_on_commit(generations, held, early, request.loop)
    except BaseException:
        for reservation in held:
            reservation.release()
        for sent in early:
            if sent is not None and request.loop is not None:
                request.loop.call_soon_threadsafe(sent.discard)
        raise
    return generations


def do_generate_one(
    request: Generate, *, within: Callable[[list[Generation]], None] | None = None
) -> Generation:
    """:func:`do_generate` for a request with one ask: its generation."""
    (generation,) = do_generate(request, within=within)
    return generation


def _grounded(ask: Ask, *, workspace) -> Ask:
    """``ask`` with its sources (drafts.grounding): the passages its inputs find, numbered,
    as many as fit the context, written into its messages. An ask that is not grounded (no
    knowledge variable) or already is (a follow-up) comes back as it is."""
    version = ask.template_version
    if ask.with_knowledge is None or ask.grounding is not None or version is None:
        return ask
    if ask.knowledge is not None and ask.knowledge.off:
        return replace(ask, with_knowledge=None)  # its messages have no block: not grounded
    cited, chinese = grounding.ranked(version, ask.inputs, workspace=workspace, scope=ask.knowledge)
    kept, messages = grounding.fitted(
        cited,
        ask.with_knowledge,
        model=ask.model,
        max_tokens=ask.params.get("max_tokens"),
        chinese=chinese,
    )
    return replace(ask, messages=messages, grounding=tuple(kept))


def _store(request: Generate, ask: Ask) -> Generation:
    draft = request.draft or Draft.objects.create(
        workspace=request.workspace,
        title=_title_from(ask),
        template_version=ask.template_version,
        created_by=request.user,
    )
    continues = request.continues  # a continuation is never an identical request: not cached
    mode = cache_mode(request.cache, ask.params) if continues is None else Generation.CacheMode.OFF
    generation = Generation.objects.create(
        draft=draft,
        template_version=ask.template_version,
        created_by=request.user,
        model=ask.model,
        params=ask.params,
        inputs=ask.inputs,
        messages=ask.messages,
        cache_mode=mode,
        continues=continues,
        prefix=continues.text if continues is not None else "",
        passages_given=None if ask.grounding is None else len(ask.grounding),
        **Generation.origin_columns(request.origin),
    )
    grounding.store(generation, ask.grounding)
    return generation


def cache_mode(asked: str, params: dict[str, Any]) -> str:
    """The response cache mode the runner follows (``studio.guardrails.response_cache.decide``).

    Only deterministic requests are cached: thinking mode ignores temperature, so there even
    temperature 0 is not."""
    if asked == NEVER_CACHED:
        return Generation.CacheMode.OFF
    temperature = None if params.get("thinking") else params.get("temperature")
    return response_cache.decide(asked, temperature=temperature)


def _reserves(request: Generate) -> bool:
    """Whether the action holds the budget for the runners it launches (``_reserved``): when
    it launches them and its transaction is its own. Else each runner reserves its own, as
    a batch row's does: inside a caller's transaction, a rollback there would leave the
    tokens held until midnight."""
    return request.loop is not None and not connection.in_atomic_block


def _reserved(request: Generate, asks: Sequence[Ask]) -> list[Reservation]:
    """Each ask's tokens held against the daily budget, for its runner (``runner.hand_over``).

    Here, the reservation shares the request's trip and database connection, and stands for
    the budget check too; in the runner it cost a thread trip and a connection opened and
    closed before DeepSeek was asked (docs/decisions/0016-budget-held-by-the-generate-trip.md).
    """
    held: list[Reservation] = []
    try:
        for ask in asks:
            held.append(
                reserve_tokens(
                    request.user,
                    ask.messages,
                    max_tokens=ask.params.get("max_tokens"),
                    workspace_id=request.workspace.pk,
                    origin=request.origin.as_dict(),
                )
            )
    except BaseException:
        for reservation in held:
            reservation.release()
        raise
    return held


def _asked_early(
    request: Generate, asks: Sequence[Ask], held: list[Reservation]
) -> list[runner.EarlyRequest | None]:
    """Each ask's request to DeepSeek, sent now, before its rows are stored, where the runner
    would send exactly it: launched here with the tokens held here, no cached answer to look
    for, not a continuation (GENERATION_EARLY_REQUEST; docs/decisions/0027-the-request-
    leaves-before-the-rows-commit.md). None for the others: their runner asks."""
    loop = request.loop
    if loop is None or not held or not settings.GENERATION_EARLY_REQUEST:
        return [None] * len(asks)
    return [
        runner.ask_early(
            loop,
            model=ask.model,
            messages=ask.messages,
            options=runner.request_options(ask.params, reservation.max_tokens),
        )
        if request.continues is None
        and cache_mode(request.cache, ask.params) == Generation.CacheMode.OFF
        else None
        for ask, reservation in zip(asks, held, strict=True)
    ]


def _launch_on_commit(
    generations: list[Generation],
    held: list[Reservation],
    early: list[runner.EarlyRequest | None],
    loop: asyncio.AbstractEventLoop,
) -> None:
    count = len(generations)
    for generation, reservation, sent in zip(
        generations, held or [None] * count, early or [None] * count, strict=True
    ):
        transaction.on_commit(partial(_launch, generation, reservation, loop, sent))


def _launch(
    generation: Generation,
    reservation: Reservation | None,
    loop: asyncio.AbstractEventLoop,
    early: runner.EarlyRequest | None = None,
) -> None:
    """After commit (on the ORM's thread): start the runner on the caller's event loop."""
    try:
        loop.call_soon_threadsafe(_start_runner, generation, reservation, early)
    except RuntimeError:  # the loop closed meanwhile: nothing runs, nothing stays held
        if reservation is not None:
            reservation.release()
        raise


def _start_runner(
    generation: Generation, reservation: Reservation | None, early: runner.EarlyRequest | None
) -> None:
    if reservation is not None:
        runner.hand_over(generation, reservation)
    if early is not None:
        runner.hand_over_request(generation, early)
    try:
        runner.launch(generation)  # looked up now: tests replace it
    finally:
        runner.drop_unclaimed(generation)


def _title_from(ask: Ask) -> str:
    """A readable draft title: the template name and the first short text input."""
    version = ask.template_version
    if version is None:
        return ""
    for var in version.variable_specs:  # as the form saw them, even if stored bad
        value = str(ask.inputs.get(var.name) or "").strip()
        if var.type == "text" and value:
            return f"{version.template.name}: {value}"[:200]
    return version.template.name


# --- Follow-ups: regenerate, continue ---------------------------------------------------------


def start_follow_up(
    *,
    draft: Draft,
    user,
    mode: str,
    origin: Origin,
    loop: asyncio.AbstractEventLoop | None = None,
) -> Generation:
    """A new generation on an existing draft, from its latest generation's request.

    ``regenerate`` asks again with the same messages (never the cached answer it replaces);
    ``continue`` resumes an unfinished text (stopped, failed, interrupted, cut at length):
    the model gets the text so far and is asked to go on, and the new version is that text
    plus what follows. Raises ValueError when there is nothing to start from.
    """
    whole = Generation.objects.filter(draft=draft).whole_draft().order_by("-pk")
    base = whole.select_related("template_version").first()
    if base is None or base.is_active:
        raise ValueError("This draft has no finished generation to start from.")
    original = _original_request(base)
    messages = list(original.messages)
    if mode == "continue":
        messages += [
            {"role": "assistant", "content": base.text},
            {"role": "user", "content": CONTINUE_INSTRUCTION},
        ]
        continues, cache = base, NEVER_CACHED
    elif mode == "regenerate":
        continues, cache = None, "bypass"
    else:
        raise ValueError(f"Unknown follow-up {mode!r}.")
    ask = Ask(
        model=base.model,
        params=dict(base.params),
        messages=messages,
        inputs=base.inputs,
        template_version=base.template_version,
        # The same sources as the request it repeats or goes on from: never retrieved again.
        grounding=_grounding_of(original),
    )

    def still_latest(new: list[Generation]) -> None:
        latest = whole.exclude(pk__in=[g.pk for g in new]).select_for_update().first()
        if latest is None or latest.pk != base.pk or latest.is_active:
            raise ValueError("This draft has no finished generation to start from.")

    request = Generate(
        user=user,
        workspace=draft.workspace,
        origin=origin,
        asks=[ask],
        draft=draft,
        cache=cache,
        continues=continues,
        loop=loop,
    )
    return do_generate_one(request, within=still_latest)


def _grounding_of(generation: Generation) -> tuple[Cited, ...] | None:
    if generation.passages_given is None:
        return None
    return tuple(Cited.from_row(row) for row in generation.grounding.all())


def _original_request(generation: Generation) -> Generation:
    """The generation a chain of "Continue"s started from: its messages are the request."""
    seen = {generation.pk}
    while generation.continues_id is not None and generation.continues_id not in seen:
        seen.add(generation.continues_id)
        generation = Generation.objects.get(pk=generation.continues_id)
    return generation
