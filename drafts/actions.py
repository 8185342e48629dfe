"""Multi-model writes for drafts: each a verb function in one transaction."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from prompts.models import TemplateVersion

from .models import Draft, DraftVersion, Generation


def _title_from(version: TemplateVersion, inputs: dict[str, object]) -> str:
    """A readable draft title: the template name and the first short text input."""
    for var in version.variables:
        value = str(inputs.get(var["name"]) or "").strip()
        if var.get("type", "text") == "text" and value:
            return f"{version.template.name}: {value}"[:200]
    return version.template.name


@transaction.atomic
def start_generation(
    *, workspace, version: TemplateVersion, inputs: dict[str, object], user
) -> Generation:
    """Create a draft and its queued generation from a template version and form inputs.

    The caller launches the runner once this has committed (see ``drafts.generation``).
    """
    draft = Draft.objects.create(
        workspace=workspace,
        title=_title_from(version, inputs),
        template_version=version,
        created_by=user,
    )
    params = version.generation_params()
    return Generation.objects.create(
        draft=draft,
        template_version=version,
        created_by=user,
        model=params["model"],
        params=params,
        inputs=inputs,
        messages=version.build_messages(inputs),
    )


def add_version(
    *, draft_id: int, text: str, source: str, author_id: int, generation: Generation | None = None
) -> DraftVersion:
    """Append the next numbered version to a draft.

    The draft row is locked first, so concurrent saves on PostgreSQL queue up and each gets
    its own number (SQLite serialises writers itself); the unique constraint is the backstop.
    """
    with transaction.atomic():
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        last = draft.versions.aggregate(n=Max("number"))["n"] or 0
        version = DraftVersion.objects.create(
            draft=draft,
            number=last + 1,
            text=text,
            source=source,
            author_id=author_id,
            generation=generation,
        )
        draft.save(update_fields=["updated"])
    return version


def finish_generation(
    *, generation_id: int, status: str, text: str, reasoning: str, fields: dict[str, object]
) -> Generation:
    """Record how a generation ended and keep its text as a new draft version.

    Whatever was written is kept, also when the generation was stopped, failed or cut off:
    the version links to the generation, whose status says the text is partial. A generation
    that has already ended is left as it is (the runner and a restart check may both try).
    """
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if not generation.is_active:
            return generation
        generation.status = status
        generation.text = text
        generation.reasoning = reasoning
        generation.finished = timezone.now()
        for name, value in fields.items():
            setattr(generation, name, value)
        generation.save()
        if text and not DraftVersion.objects.filter(generation=generation).exists():
            add_version(
                draft_id=generation.draft_id,
                text=text,
                source=DraftVersion.Source.GENERATED,
                author_id=generation.created_by_id,
                generation=generation,
            )
    return generation


def save_partial_text(*, generation_id: int, text: str, reasoning: str) -> None:
    """Persist the text so far of a running generation (called at an interval, not per token)."""
    Generation.objects.filter(pk=generation_id).update(
        status=Generation.Status.RUNNING, text=text, reasoning=reasoning
    )


def mark_interrupted(*, generation: Generation) -> Generation:
    """A generation that no process is running any more (crash, restart): keep its text."""
    return finish_generation(
        generation_id=generation.pk,
        status=Generation.Status.INTERRUPTED,
        text=generation.text,
        reasoning=generation.reasoning,
        fields={"error_message": "The studio restarted while this was being generated."},
    )
