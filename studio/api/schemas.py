"""Request and response shapes of the JSON API (they are the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from drafts.citations import for_generation, unknown_markers


class FieldErrorOut(Schema):
    param: str = Field(description="The field, as a dotted path: 'deliverables.1.count'.")
    message: str


class ErrorDetail(Schema):
    message: str
    type: str
    code: str
    param: str | None = None
    errors: list[FieldErrorOut] | None = Field(
        None, description="An invalid request's problems, one per field (422 only)."
    )


class ErrorOut(Schema):
    error: ErrorDetail


class WorkspaceOut(Schema):
    id: int
    name: str
    role: str


class TemplateOut(Schema):
    id: int
    slug: str
    name: str
    purpose: str
    description: str
    version_id: int | None
    variables: list[dict[str, Any]]


class DraftOut(Schema):
    id: int
    workspace_id: int
    title: str
    created: datetime
    updated: datetime


class VersionOut(Schema):
    number: int
    text: str
    source: str
    created: datetime
    generation_id: int | None


class CitedPassageOut(Schema):
    """Passage ``number`` of a grounded generation's sources block: what ``[number]`` in
    its text cites (the quoted text and title are copies: they outlive the source)."""

    number: int
    source_title: str
    version: int = Field(description="The source version's number.")
    source_version_id: int | None = Field(description="null once the source is deleted.")
    passage_id: int | None = Field(description="null once the source is deleted.")
    heading: str
    text: str
    score: float = Field(description="Its search rank; comparable within one generation only.")

    @staticmethod
    def resolve_version(obj) -> int:
        return obj.version_number


class GenerationOut(Schema):
    id: int
    draft_id: int
    status: str
    model: str
    text: str
    finish_reason: str
    max_tokens: int | None = Field(
        description="The answer length sent to the model (after the daily budget); null when "
        "unknown."
    )
    cut_at_length: bool = Field(
        description="Finished, but stopped at max_tokens (finish_reason 'length'): the text "
        "stops mid-way; generate again with a larger max_tokens, or continue it in the studio."
    )
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: Decimal | None
    cached: bool = Field(description="Answered from the response cache: no tokens used.")
    error_code: str
    error_message: str
    created: datetime
    finished: datetime | None
    grounded: bool = Field(
        description="Its template's knowledge variable grounded it: [n] in the text cites "
        "passage n. False: not grounded (no knowledge variable, or knowledge.enabled false)."
    )
    passages: list[CitedPassageOut] = Field(
        description="The passages its prompt gave, by number (empty: none matched, or not "
        "grounded)."
    )
    unknown_citations: list[int] = Field(
        description="Markers in the text that point at no passage given (the studio flags "
        "them as unknown sources)."
    )

    @staticmethod
    def resolve_grounded(obj) -> bool:
        return obj.passages_given is not None

    @staticmethod
    def resolve_passages(obj) -> list:
        # Prefetched by the async views (no query may run while the answer is serialized).
        return list(obj.grounding.all()) if obj.passages_given else []

    @staticmethod
    def resolve_unknown_citations(obj) -> list[int]:
        return unknown_markers(obj.text, for_generation(obj))


class DraftDetailOut(DraftOut):
    versions: list[VersionOut]
    generations: list[GenerationOut]


class KnowledgeIn(Schema):
    """Grounding for one generation of a template with a knowledge variable: each field
    given replaces the variable's own; ``enabled: false`` generates without sources."""

    model_config = {"extra": "forbid"}

    enabled: bool = Field(True, description="false: no sources, the generation is not grounded.")
    tags: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=50, description="Draw from sources with any of these tags."
    )
    sources: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=50, description="Draw from sources with these titles (any case)."
    )
    passages: int | None = Field(None, ge=1, le=20, description="How many passages at most.")
    query: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Search the sources for this instead of the filled text inputs.",
    )


class GenerateIn(Schema):
    template: int = Field(description="A template id from /workspaces/{id}/templates.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="The template's variables.")
    label: str | None = Field(
        None,
        max_length=32,
        description="Generate with the version this label points at (e.g. 'staging'); "
        "default: production, else the newest version.",
    )
    wait: bool = Field(
        False, description="Answer when the generation has finished instead of at once (202)."
    )
    knowledge: KnowledgeIn | None = Field(
        None,
        description="Override the template's knowledge variable (tags, sources, passages, "
        "query) or switch grounding off; only for a template that has one.",
    )


# --- OpenAI-compatible chat completions --------------------------------------------------


class ChatMessage(Schema):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class StreamOptions(Schema):
    include_usage: bool = False


class Thinking(Schema):
    """DeepSeek's extension: thinking mode on or off for this call."""

    type: Literal["enabled", "disabled"]


class ChatCompletionIn(Schema):
    model: str | None = Field(None, description="Blank or 'default': the studio's model.")
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    stop: str | list[str] | None = None
    response_format: dict[str, Any] | None = None
    reasoning_effort: str | None = None
    thinking: Thinking | None = None
    n: int | None = Field(None, ge=1, le=1, description="Only one choice is supported.")
    # Accepted only to be refused with a clear 400 (see compat.refuse_unsupported): without
    # them here, a client relying on tool calls would silently get plain text.
    tools: list[Any] | None = Field(None, description="Unsupported: refused unless empty.")
    tool_choice: Any = Field(None, description="Unsupported: refused unless 'none'.")
    functions: list[Any] | None = Field(None, description="Unsupported: refused unless empty.")
    function_call: Any = Field(None, description="Unsupported: refused unless 'none'.")


class KnowledgeSourceOut(Schema):
    id: int
    workspace_id: int
    title: str
    tags: list[str]
    archived: bool
    created: datetime
    version: int | None = Field(description="The current version's number (None: none yet).")
    version_id: int | None
    kind: str | None = Field(description="markdown, text, html, docx or pdf.")
    passages: int = Field(description="Passages of the current version.")
    url: str = Field(description="The source's page in the studio.")


class KnowledgeHitOut(Schema):
    passage_id: int
    source_id: int
    source_title: str
    version: int
    version_id: int
    heading: str
    text: str
    score: float = Field(description="Higher is better; comparable within one search only.")
    url: str = Field(description="The passage on its source's page in the studio.")
