"""Writes that create templates, versions, labels and brand voices: each in one transaction."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from .models import (
    BrandVoice,
    BrandVoiceVersion,
    Label,
    LabelChange,
    PromptTemplate,
    TemplateVersion,
)
from .schema import InvalidTemplate, TemplateData, VersionData, check_template
from .variables import Variable, to_json

VERSIONED_FIELDS = (
    "system_prompt",
    "user_prompt",
    "variables",
    "model",
    "thinking",
    "temperature",
    "max_tokens",
)


def _version_values(data: dict[str, Any]) -> dict[str, Any]:
    """The versioned fields of an exported/edited template, normalised."""
    return {
        "system_prompt": data["system_prompt"],
        "user_prompt": data["user_prompt"],
        "variables": data.get("variables") or [],
        "model": data.get("model") or "",
        "thinking": bool(data.get("thinking")),
        "temperature": data.get("temperature"),
        "max_tokens": data.get("max_tokens"),
    }


def _check(data: dict[str, Any], schema: type[VersionData] = VersionData) -> None:
    """Refuse, with :class:`InvalidTemplate` naming each problem, data the schema does not
    accept: nothing is written from a ``max_length`` of ``"abc"`` or a dict for a name."""
    check_template(data, schema)


def _unique_slug(workspace, wanted: str) -> str:
    base = slugify(wanted)[:70] or "template"
    taken = set(PromptTemplate.objects.filter(workspace=workspace).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _same_variables(stored: Any, wanted: list[Any]) -> bool:
    """Whether saving ``wanted`` would change nothing: the same list, or the same typed
    variables written differently (``"required": true`` spelt out or left to its default,
    an empty label), as the editor's builder writes them back."""
    if stored == wanted:
        return True
    typed = Variable.parse_all(stored)
    if not isinstance(stored, list) or len(typed) != len(stored):
        return False
    return to_json(typed) == to_json(Variable.parse_all(wanted))


@transaction.atomic
def save_version(
    *,
    template: PromptTemplate,
    data: dict[str, Any],
    user=None,
    brand_voice: BrandVoice | None = None,
    brand_voice_version: BrandVoiceVersion | None = None,
    note: str = "",
) -> tuple[TemplateVersion, bool]:
    """Add a new immutable version if the prompts, variables, presets or voice changed.

    Returns the version the template now ends with and whether it is new. Existing versions
    are never touched (they raise ``ImmutableError`` if anyone tries).

    ``brand_voice_version`` pins one version of ``brand_voice`` instead of its newest. A pin
    the latest version has stays while the voice is kept, unless ``data["follow_voice"]``
    (the editor's "use the newest text" box): editing the prompts never changes the voice text.
    """
    _check(data)
    template = PromptTemplate.objects.select_for_update().get(pk=template.pk)
    latest = template.latest_version()
    wanted = _version_values(data)
    voice_id = brand_voice.pk if brand_voice else None
    if brand_voice_version is not None:
        brand_voice = brand_voice_version.voice
        voice_id = brand_voice.pk
    elif latest and latest.brand_voice_id == voice_id and not data.get("follow_voice"):
        brand_voice_version = latest.brand_voice_version
    if (
        latest
        and all(getattr(latest, f) == v for f, v in wanted.items() if f != "variables")
        and _same_variables(latest.variables, wanted["variables"])
        and latest.brand_voice_id == voice_id
        and latest.brand_voice_version_id == getattr(brand_voice_version, "pk", None)
    ):
        return latest, False
    version = TemplateVersion.objects.create(
        template=template,
        number=(latest.number + 1) if latest else 1,
        created_by=user,
        brand_voice=brand_voice,
        brand_voice_version=brand_voice_version,
        note=note[:200],
        **wanted,
    )
    return version, True


@transaction.atomic
def create_template(
    *,
    workspace,
    data: dict[str, Any],
    user=None,
    brand_voice: BrandVoice | None = None,
    note: str = "",
) -> PromptTemplate:
    """A new template in a workspace with its first version (``note``: what v1 is)."""
    _check(data)
    template = PromptTemplate.objects.create(
        workspace=workspace,
        slug=_unique_slug(workspace, data.get("slug") or data["name"]),
        name=data["name"],
        purpose=data["purpose"],
        description=data.get("description", ""),
    )
    save_version(template=template, data=data, user=user, brand_voice=brand_voice, note=note)
    return template


class LabelImport(NamedTuple):
    """What importing did with one label named in the file."""

    class Outcome(StrEnum):
        ADDED = "added"  # new on the template: it points at the imported version
        MOVED = "moved"  # from ``before`` to the imported version, as asked
        KEPT = "kept"  # left on ``before``: moving was not asked for

    template: str
    name: str
    outcome: Outcome
    before: int | None  # the version number it was on (None: it did not exist)
    imported: int  # the imported version's number


class Imported(NamedTuple):
    template: PromptTemplate
    created: bool  # whether a new version was added
    labels: list[LabelImport]  # the labels named in the file that were not on it already


@transaction.atomic
def import_template(
    *, data: dict[str, Any], workspace=None, user=None, move_labels: bool = False
) -> Imported:
    """Create or update a template from its exported form.

    A new version is added only when the prompts, variables or presets changed, so importing
    the same file twice is a no-op. ``brand_voice`` (a voice name in the workspace) follows
    the imported version. A label in ``labels`` that the template lacks is added on it (that
    moves nothing); one on another version is moved only with ``move_labels``, since moving
    ``production`` changes what everyone generates with.
    """
    _check(data, TemplateData)
    template, _ = PromptTemplate.objects.select_for_update().get_or_create(
        workspace=workspace,
        slug=data["slug"],
        defaults={"name": data["name"], "purpose": data["purpose"]},
    )
    template.name, template.purpose = data["name"], data["purpose"]
    template.description = data.get("description", "")
    template.save()
    voice = None
    if workspace is not None and data.get("brand_voice"):
        voice = BrandVoice.objects.filter(workspace=workspace, name=data["brand_voice"]).first()
    version, created = save_version(template=template, data=data, user=user, brand_voice=voice)
    names = data.get("labels", [])
    return Imported(template, created, _import_labels(template, version, names, user, move_labels))


def _import_labels(template, version, names, user, move: bool) -> list[LabelImport]:
    """Point the file's labels at the imported version: new ones always, others if ``move``."""
    labels = []
    for name in dict.fromkeys(names):
        before = template.labelled(name)
        if before == version:
            continue
        outcome = LabelImport.Outcome.MOVED if before else LabelImport.Outcome.ADDED
        if before and not move:
            outcome = LabelImport.Outcome.KEPT
        else:
            move_label(template=template, name=name, version=version, user=user, note="Import")
        number = before.number if before else None
        labels.append(LabelImport(template.name, name, outcome, number, version.number))
    return labels


@transaction.atomic
def duplicate_template(*, template: PromptTemplate, workspace, user) -> PromptTemplate:
    """Copy a template's current version into a workspace as a new template (version 1)."""
    source = template.current_version()
    if source is None:
        raise InvalidTemplate(f"{template}: nothing to copy, it has no version.")
    copy = PromptTemplate.objects.create(
        workspace=workspace,
        slug=_unique_slug(workspace, template.slug),
        name=template.name,
        purpose=template.purpose,
        description=template.description,
    )
    voice = (
        source.brand_voice
        if source.brand_voice and source.brand_voice.workspace_id == (workspace.pk)
        else None
    )
    TemplateVersion.objects.create(
        template=copy,
        number=1,
        created_by=user,
        brand_voice=voice,
        brand_voice_version=source.brand_voice_version if voice else None,
        note=f"Copied from {template.name} v{source.number}"[:200],
        **{f: getattr(source, f) for f in VERSIONED_FIELDS},
    )
    return copy


@transaction.atomic
def move_label(
    *,
    template: PromptTemplate,
    name: str,
    version: TemplateVersion | None,
    user=None,
    note: str = "",
    evidence: dict[str, Any] | None = None,
) -> LabelChange:
    """Point a label at a version (``None`` removes it), recording the move in the history."""
    if version is not None and version.template_id != template.pk:
        raise InvalidTemplate(f"v{version.number} belongs to another template.")
    label = Label.objects.select_for_update().filter(template=template, name=name).first()
    before = label.version if label else None
    if version is None:
        if label:
            label.delete()
    elif label:
        label.version = version
        label.save(update_fields=["version", "updated"])
    else:
        Label.objects.create(template=template, name=name, version=version)
    return LabelChange.objects.create(
        template=template,
        name=name,
        from_version=before,
        to_version=version,
        note=note[:300],
        evidence=evidence or {},
        changed_by=user,
    )


@transaction.atomic
def save_brand_voice(
    *, workspace, name: str, text: str, user=None, voice: BrandVoice | None = None
) -> BrandVoiceVersion:
    """Create a brand voice or add a version to it (no new version if the text is unchanged)."""
    if voice is None:
        voice, _ = BrandVoice.objects.get_or_create(workspace=workspace, name=name)
    elif voice.name != name:
        voice.name = name
        voice.save(update_fields=["name"])
    voice = BrandVoice.objects.select_for_update().get(pk=voice.pk)
    latest = voice.current_version()
    if latest and latest.text == text:
        return latest
    number = (voice.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return BrandVoiceVersion.objects.create(voice=voice, number=number, text=text, created_by=user)
