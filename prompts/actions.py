"""Writes that create templates and versions together."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .forms import validate_variables
from .models import PromptTemplate, TemplateVersion

VERSIONED_FIELDS = ("system_prompt", "user_prompt", "variables", "thinking", "temperature")


class InvalidTemplate(ValueError):
    """A template definition whose prompts and variables do not fit together."""


@transaction.atomic
def import_template(
    *, data: dict[str, Any], workspace=None, user=None
) -> tuple[PromptTemplate, bool]:
    """Create or update a template from its exported form.

    A new version is added only when the prompts, variables or presets changed, so importing
    the same file twice is a no-op. Returns the template and whether a version was created.
    """
    problems = validate_variables(data["variables"], data["system_prompt"], data["user_prompt"])
    if problems:
        raise InvalidTemplate(f"{data.get('slug')}: " + " ".join(problems))
    template, _ = PromptTemplate.objects.select_for_update().get_or_create(
        workspace=workspace,
        slug=data["slug"],
        defaults={"name": data["name"], "purpose": data["purpose"]},
    )
    template.name, template.purpose = data["name"], data["purpose"]
    template.description = data.get("description", "")
    template.save()
    latest = template.current_version()
    wanted = {field: data.get(field) for field in VERSIONED_FIELDS}
    wanted["thinking"] = bool(wanted["thinking"])
    if latest and all(getattr(latest, f) == v for f, v in wanted.items()):
        return template, False
    TemplateVersion.objects.create(
        template=template,
        number=(latest.number + 1) if latest else 1,
        created_by=user,
        model=data.get("model", ""),
        max_tokens=data.get("max_tokens"),
        **wanted,
    )
    return template, True
