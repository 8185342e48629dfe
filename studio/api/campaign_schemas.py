"""Request and response shapes of the campaigns API (part of the OpenAPI schema)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema

from studio.campaigns.channels import BUILT_IN

MAX_DELIVERABLES = 30
CHANNEL_KEYS = ", ".join(BUILT_IN)

Text = Annotated[str, Field(max_length=10_000)]


class DeliverableIn(Schema):
    model_config = {"extra": "forbid"}

    template: int = Field(description="A template id from /workspaces/{id}/templates.")
    channel: str = Field(
        description=f"The channel whose rules it is checked against: {CHANNEL_KEYS}."
    )
    count: int = Field(1, ge=1, description="How many items (headlines, posts) it asks for.")
    overrides: dict[Annotated[str, Field(max_length=100)], Text] = Field(
        default_factory=dict,
        description="Template variable → value, winning over what the brief fills in.",
    )


class CampaignIn(Schema):
    """A brief: its fields fill the templates' variables by name (product fills product and
    product_name, key_message fills message, benefit and goal, notes fills brief, context and
    features…)."""

    model_config = {"extra": "forbid"}

    title: str
    product: str = ""
    audience: str = ""
    offer: str = ""
    key_message: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    notes: Text = Field("", description="The brief in your own words.")
    deliverables: list[DeliverableIn] = Field(default_factory=list, max_length=MAX_DELIVERABLES)


class CampaignListQuery(Schema):
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


class CampaignOut(Schema):
    id: int
    workspace_id: int
    title: str
    product: str
    starts_on: date | None
    ends_on: date | None
    owner: str | None = Field(description="The owner's username (null once they are gone).")
    deliverable_count: int = Field(description="How many deliverables it has.")
    created: datetime
    updated: datetime
    url: str = Field(description="The campaign's page in the studio.")


class ViolationOut(Schema):
    code: str = Field(
        description="too_long, emoji, missing_cta, missing_link, forbidden_word, item_count, "
        "too_many_items."
    )
    params: dict[str, Any] = Field(description="Its figures: length and limit, the word…")
    message: str = Field(description="The violation in words (the request's language).")


class ItemOut(Schema):
    text: str
    length: int = Field(description="Its length as the channel's platform counts it.")
    limit: int | None = Field(description="The limit that applies to it (null: none).")
    ok: bool
    violations: list[ViolationOut]


class CheckOut(Schema):
    """The channel's check of the deliverable's text, item by item."""

    ok: bool
    counter: str = Field(description="How lengths are counted: graphemes, x, double_width, sms.")
    problems: int = Field(description="Violations in all, the items' and the deliverable's.")
    violations: list[ViolationOut] = Field(description="The deliverable's own (item count).")
    items: list[ItemOut]


class DeliverableOut(Schema):
    id: int
    campaign_id: int
    template_id: int | None = Field(description="null once its template is deleted.")
    template_version_id: int | None
    template_name: str
    channel: str
    channel_name: str
    count: int
    overrides: dict[str, Any]
    review_state: str = Field(description="draft, in_review, changes_requested or approved.")
    draft_id: int | None
    generation_id: int | None = Field(description="Its draft's newest generation.")
    status: str = Field(
        description="not_started, queued, streaming, done, stopped or failed (its newest "
        "generation's)."
    )
    version: int | None = Field(
        description="The draft version whose text this is (null: the "
        "text so far of a generation in progress, or none)."
    )
    text: str | None = Field(
        description="The draft's text: its newest version, or the text "
        "so far while it generates; null before anything is written."
    )
    check: CheckOut | None = Field(description="null before anything is written.")


class ProgressItemOut(Schema):
    deliverable_id: int
    channel: str
    status: str
    generation_id: int | None
    draft_id: int | None
    problem: str = Field("", description="Why Generate did not start it (the 202 answer only).")


class ProgressOut(Schema):
    """Where a campaign's generation stands: how many deliverables are at each status."""

    campaign_id: int
    deliverables: int
    not_started: int
    queued: int
    streaming: int
    done: int
    stopped: int
    failed: int
    finished: bool = Field(description="Nothing is queued or streaming.")
    approved: int = Field(description="Deliverables approved in review.")
    url: str = Field(description="Poll this for the progress.")
    items: list[ProgressItemOut]


class CampaignDetailOut(CampaignOut):
    audience: str
    offer: str
    key_message: str
    notes: str
    progress: ProgressOut
    deliverables: list[DeliverableOut]
