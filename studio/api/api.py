"""The JSON API under /api/ai/: workspaces, templates, drafts and generations, by API key.

Every lookup starts from the key's user (``for_user``), so another user's ids are 404s.
Errors share OpenAI's envelope, ``{"error": {"message", "type", "code", "param"}}``, so one
client handles both this API and the OpenAI-compatible endpoint.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import OperationalError
from django.db.models import Count, Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from redis.exceptions import RedisError

from drafts import generation as runner
from drafts.generate import NotAllowed
from drafts.grounding import Scope
from drafts.models import Draft, Generation
from prompts.experiments.actions import start_assigned_generation
from prompts.experiments.assignment import subject_for
from prompts.forms import TemplateForm
from prompts.knowledge.models import Passage, Source, SourceVersion
from prompts.knowledge.search import search
from prompts.models import PRODUCTION, PromptTemplate, TemplateVersion
from studio import busy, degraded
from studio.audit.origin import Origin, client_ip
from studio.deepseek import DeepSeekError
from studio.guardrails import response_cache
from studio.guardrails.budgets import BudgetExceeded
from studio.guardrails.rate_limits import RateLimited
from studio.streams import release_connections
from studio.workspaces.models import Membership, Workspace

from . import campaigns, chat
from .auth import ApiKeyAuth
from .errors import ApiError, error_body, failed_generation, upstream_error
from .parsing import StrictJSON
from .schemas import (
    ChatCompletionIn,
    DraftDetailOut,
    DraftOut,
    ErrorOut,
    GenerateIn,
    GenerationOut,
    KnowledgeHitOut,
    KnowledgeIn,
    KnowledgeSourceOut,
    TemplateOut,
    WorkspaceOut,
)

api = NinjaAPI(
    title="DeepSeek Studio API",
    version="1",
    description=(
        "Generate into drafts and read them, and an OpenAI-compatible chat endpoint. "
        "Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`; create keys "
        "under Settings → API keys."
    ),
    urls_namespace="api_ai",
    auth=ApiKeyAuth(),
    docs_url=None,  # Swagger UI loads from a CDN, which the CSP forbids; the schema is served
    parser=StrictJSON(),
)
ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
    # DeepSeek's failures (docs/api.md, "Errors"): 402 and 424 only the operators can fix.
    402: ErrorOut,
    424: ErrorOut,
    500: ErrorOut,  # a generation waited for that the studio itself failed
    502: ErrorOut,
    503: ErrorOut,
    504: ErrorOut,
}


def _respond(request: HttpRequest, error: ApiError) -> HttpResponse:
    response = api.create_response(request, error_body(error), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _respond(request, exc)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = "Send a valid API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
    error = ApiError(401, message, type="authentication_error", code="invalid_api_key")
    error.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return _respond(request, error)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _respond(request, ApiError(404, str(exc) or "Not found.", code="not_found"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _respond(request, ApiError(exc.status_code, str(exc), code="http_error"))


@api.exception_handler(SchemaError)
def _invalid(request: HttpRequest, exc: SchemaError) -> HttpResponse:
    fields = [
        {
            "param": ".".join(str(p) for p in e["loc"] if p not in ("body", "payload")),
            "message": e["msg"],
        }
        for e in exc.errors
    ]
    problems = [f"{field['param']}: {field['message']}" for field in fields]
    # The field's name, not a list index ("tags", not "0").
    names = [p for p in exc.errors[0]["loc"] if not isinstance(p, int)] if exc.errors else []
    first = names[-1] if names else None
    message = "Invalid request: " + "; ".join(problems)
    error = ApiError(422, message, code="invalid_request", param=str(first), errors=fields)
    return _respond(request, error)


@api.exception_handler(ValidationError)
def _blocked(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    code = getattr(exc, "code", None) or "invalid_prompt"
    return _respond(request, ApiError(400, " ".join(exc.messages), code=code, param="messages"))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0  # raised only when a limit is set
    message = f"The request body is too large: at most {limit:,} bytes."
    return _respond(request, ApiError(413, message, code="request_too_large"))


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    error = ApiError(429, exc.message, type="rate_limit_error", code="rate_limit_exceeded")
    error.headers["Retry-After"] = str(exc.retry_after)
    return _respond(request, error)


@api.exception_handler(BudgetExceeded)
def _over_budget(request: HttpRequest, exc: BudgetExceeded) -> HttpResponse:
    error = ApiError(429, exc.message, type="insufficient_quota", code="daily_budget_exceeded")
    error.headers["Retry-After"] = str(exc.retry_after)
    return _respond(request, error)


@api.exception_handler(NotAllowed)
def _not_allowed(request: HttpRequest, exc: NotAllowed) -> HttpResponse:
    return _respond(request, ApiError(403, exc.message, code="forbidden"))


@api.exception_handler(RedisError)
def _shared_cache_down(request: HttpRequest, exc: RedisError) -> HttpResponse:
    """A call to Redis that nothing on the way degraded (docs/operations.md, "When Redis is
    down"): a retryable 503 in the envelope, never a bare 500."""
    degraded.note(exc, what="api")
    message = "The studio's shared cache is briefly unavailable. Retry in a few seconds."
    error = ApiError(503, message, type="service_unavailable", code="shared_cache_unavailable")
    error.headers["Retry-After"] = str(int(degraded.RETRY_AFTER))
    return _respond(request, error)


@api.exception_handler(OperationalError)
def _database_busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    """A request that waited too long for the database (``studio.busy``): a retryable 503 in
    the envelope. Any other database error is a 500, as before."""
    if not busy.database_busy(exc):
        raise exc
    busy.refused()
    message = "The studio is too busy to take this request right now. Retry in a few seconds."
    error = ApiError(503, message, type="service_unavailable", code="database_busy")
    error.headers["Retry-After"] = str(busy.RETRY_AFTER)
    return _respond(request, error)


@api.exception_handler(DeepSeekError)
def _upstream(request: HttpRequest, exc: DeepSeekError) -> HttpResponse:
    return _respond(request, upstream_error(exc))


# --- Reads ---------------------------------------------------------------------------------


@api.get("/workspaces", response=list[WorkspaceOut], url_name="workspaces", tags=["workspaces"])
def list_workspaces(request: HttpRequest):
    """The workspaces the key's user is a member of, with their role."""
    user = request.auth.user
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    return [
        {"id": m.workspace_id, "name": m.workspace.name, "role": m.role}
        for m in memberships.order_by("workspace__name", "workspace_id")
    ]


def _workspace(request: HttpRequest, workspace_id: int) -> Workspace:
    space = Workspace.objects.for_user(request.auth.user).filter(pk=workspace_id).first()
    if space is None:
        raise Http404("No such workspace.")
    return space


@api.get(
    "/workspaces/{workspace_id}/templates",
    response={200: list[TemplateOut], **ERRORS},
    url_name="templates",
    tags=["workspaces"],
)
def list_templates(request: HttpRequest, workspace_id: int):
    """Templates usable in the workspace (its own and the shared library) and their variables."""
    space = _workspace(request, workspace_id)
    out = []
    for template in PromptTemplate.objects.for_workspace(space).with_current_version():
        version = template.current_version()
        out.append(
            {
                "id": template.pk,
                "slug": template.slug,
                "name": template.name,
                "purpose": template.purpose,
                "description": template.description,
                "version_id": version.pk if version else None,
                "variables": version.variables if version else [],
            }
        )
    return out


@api.get(
    "/workspaces/{workspace_id}/drafts",
    response={200: list[DraftOut], **ERRORS},
    url_name="drafts",
    tags=["drafts"],
)
def list_drafts(request: HttpRequest, workspace_id: int):
    """The workspace's drafts, most recently updated first (deleted ones are not listed)."""
    return Draft.objects.alive().filter(workspace=_workspace(request, workspace_id))


@api.get(
    "/drafts/{draft_id}",
    response={200: DraftDetailOut, **ERRORS},
    url_name="draft",
    tags=["drafts"],
)
def read_draft(request: HttpRequest, draft_id: int):
    """A draft with all its versions (newest first) and its generations."""
    draft = Draft.objects.for_user(request.auth.user).filter(pk=draft_id).first()
    if draft is None:
        raise Http404("No such draft.")
    return {
        "id": draft.pk,
        "workspace_id": draft.workspace_id,
        "title": draft.title,
        "created": draft.created,
        "updated": draft.updated,
        "versions": list(draft.versions.order_by("-number")),
        "generations": list(draft.generations.prefetch_related("grounding").order_by("-pk")),
    }


@api.get(
    "/generations/{generation_id}",
    response={200: GenerationOut, **ERRORS},
    url_name="generation",
    tags=["drafts"],
)
def read_generation(request: HttpRequest, generation_id: int):
    """A generation's status and text so far (poll this after a 202)."""
    generation = Generation.objects.for_user(request.auth.user).filter(pk=generation_id).first()
    if generation is None:
        raise Http404("No such generation.")
    return generation


# --- Knowledge -----------------------------------------------------------------------------


class SourcesQuery(Schema):
    archived: bool = Field(False, description="Include archived sources (never searched).")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


class SearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=500, description="Words or a question.")
    limit: int = Field(5, ge=1, le=50)


@api.get(
    "/workspaces/{workspace_id}/knowledge",
    response={200: list[KnowledgeSourceOut], **ERRORS},
    url_name="knowledge_sources",
    tags=["knowledge"],
)
def list_knowledge_sources(request: HttpRequest, workspace_id: int, query: Query[SourcesQuery]):
    """The workspace's knowledge sources by title, each with its current version
    (``limit``/``offset`` page through them; archived ones only with ``archived=true``)."""
    sources = Source.objects.filter(workspace=_workspace(request, workspace_id))
    if not query.archived:
        sources = sources.active()
    versions = SourceVersion.objects.defer("text").annotate(passage_count=Count("passages"))
    sources = sources.prefetch_related(Prefetch("versions", queryset=versions.order_by("-number")))
    out = []
    for source in sources[query.offset : query.offset + query.limit]:
        current = next(iter(source.versions.all()), None)
        out.append(
            {
                "id": source.pk,
                "workspace_id": source.workspace_id,
                "title": source.title,
                "tags": source.tags,
                "archived": source.archived_at is not None,
                "created": source.created,
                "version": current.number if current else None,
                "version_id": current.pk if current else None,
                "kind": current.kind if current else None,
                "passages": current.passage_count if current else 0,
                "url": request.build_absolute_uri(source.get_absolute_url()),
            }
        )
    return out


@api.get(
    "/workspaces/{workspace_id}/knowledge/search",
    response={200: list[KnowledgeHitOut], **ERRORS},
    url_name="knowledge_search",
    tags=["knowledge"],
)
def search_knowledge(request: HttpRequest, workspace_id: int, query: Query[SearchQuery]):
    """The passages of the workspace's current, non-archived sources that best answer ``q``
    (English words or Chinese text), best first, as the search page finds them."""
    space = _workspace(request, workspace_id)
    if not query.q.strip():
        raise ApiError(422, "Give something to search for.", code="invalid_request", param="q")
    hits = search(Passage.objects.searchable(space), query.q, limit=query.limit)
    return [
        {
            "passage_id": hit.passage.pk,
            "source_id": hit.passage.version.source_id,
            "source_title": hit.passage.version.source.title,
            "version": hit.passage.version.number,
            "version_id": hit.passage.version_id,
            "heading": hit.passage.heading,
            "text": hit.passage.text,
            "score": hit.score,
            "url": request.build_absolute_uri(hit.passage.get_absolute_url()),
        }
        for hit in hits
    ]


# --- Generate ------------------------------------------------------------------------------


def _prepare(request: HttpRequest, workspace_id: int, payload: GenerateIn):
    """The template and its inputs: the validated pieces of a generation (the role and the
    budget are the generate action's to check)."""
    user = request.auth.user
    space = _workspace(request, workspace_id)
    template = PromptTemplate.objects.for_workspace(space).filter(pk=payload.template).first()
    version: TemplateVersion | None = template.version_for(payload.label) if template else None
    if template is not None and version is None and payload.label not in (None, PRODUCTION):
        known = ", ".join(template.label_names()) or "none"
        message = f"Template {template.pk} has no label {payload.label!r} (its labels: {known})."
        raise ApiError(422, message, code="unknown_label", param="label")
    if version is None:
        raise ApiError(
            404, "No such template in this workspace.", code="not_found", param="template"
        )
    form = TemplateForm(version, data=payload.inputs)
    if not form.is_valid():
        for error in form.errors.as_data().get("__all__", []):
            if error.code in {"prompt_blocked", "prompt_too_long"}:
                # The form ran validate_prompt: a 400 by its code, naming what was sent.
                raise ApiError(400, " ".join(error.messages), code=error.code, param="inputs")
        problems = [f"{field}: {' '.join(errs)}" for field, errs in form.errors.items()]
        raise ApiError(
            422, "Invalid inputs: " + "; ".join(problems), code="invalid_inputs", param="inputs"
        )
    return user, space, version, form.cleaned_data, _scope(version, payload.knowledge)


def _scope(version: TemplateVersion, knowledge: KnowledgeIn | None) -> Scope | None:
    """The caller's grounding for this generation: refused for a template that has no
    knowledge variable (there is no place in its prompt for the sources)."""
    if knowledge is None:
        return None
    if version.knowledge_variable() is None:
        raise ApiError(
            422,
            "This template has no knowledge variable: it cannot be grounded.",
            code="not_grounded",
            param="knowledge",
        )
    if not knowledge.enabled:
        return Scope(off=True)
    return Scope(
        tags=None if knowledge.tags is None else tuple(knowledge.tags),
        sources=None if knowledge.sources is None else tuple(knowledge.sources),
        passages=knowledge.passages,
        query=knowledge.query,
    )


@api.post(
    "/workspaces/{workspace_id}/drafts",
    response={201: GenerationOut, 202: GenerationOut, **ERRORS},
    url_name="generate",
    tags=["drafts"],
)
async def generate(request: HttpRequest, workspace_id: int, payload: GenerateIn):
    """Start a generation into a new draft from a template and its inputs.

    Answers 202 with the queued generation at once (poll ``/generations/{id}``), or with
    ``"wait": true`` 201 with the finished generation; one that failed answers the failure's
    error (docs/api.md, "Errors"), naming the generation and its draft. A template at
    temperature 0 reuses an identical earlier answer (``cached`` is then true; no tokens
    used): ``X-Studio-Cache: bypass`` asks DeepSeek anew, ``reuse`` reuses at any temperature.
    """
    user, space, version, inputs, scope = await sync_to_async(_prepare)(
        request, workspace_id, payload
    )
    # Keys belong to users, so the subject is the user (an IP only matters without one).
    generation = await sync_to_async(start_assigned_generation)(
        workspace=space,
        version=version,
        inputs=inputs,
        user=user,
        subject=subject_for(user, client_ip(request) or ""),
        origin=Origin.from_request(request),
        loop=asyncio.get_running_loop(),
        label=payload.label or "",
        cache=response_cache.asked_by(request),
        knowledge=scope,
    )
    with_passages = Generation.objects.prefetch_related("grounding")
    if payload.wait:
        # No connection held while the generation runs: its runner needs the pool's.
        await sync_to_async(release_connections)()
        # The generate action launched it on this loop before this view resumed; gone from
        # the runner's tasks means it has already ended. Shielded: a client that gives up
        # waiting must not stop the generation.
        if (task := runner.task_for(generation.pk)) is not None:
            await asyncio.shield(task)
        generation = await with_passages.aget(pk=generation.pk)
        if (error := failed_generation(generation)) is not None:  # never a 201 without an answer
            raise error
        return Status(201, generation)
    # The answer lists the passages given: read here, not while it is serialized (async).
    await sync_to_async(prefetch_related_objects)([generation], "grounding")
    return Status(202, generation)


# --- Campaigns (studio/api/campaigns.py) ---------------------------------------------------

api.add_router("", campaigns.router)


# --- OpenAI-compatible ---------------------------------------------------------------------


@api.post(
    "/v1/chat/completions",
    url_name="chat_completions",
    tags=["openai"],
    response={200: dict, **ERRORS},
)
async def chat_completions(request: HttpRequest, payload: ChatCompletionIn):
    """OpenAI's chat completions (streaming and not), through the studio's limits, cache and
    audit. ``X-Studio-Cache: reuse`` reuses an identical earlier answer; ``bypass`` refreshes."""
    return await chat.complete(request, payload)


@api.get("/v1/models", url_name="models", tags=["openai"])
def list_models(request: HttpRequest):
    """The studio's model, in OpenAI's list format."""
    return chat.models_list()
