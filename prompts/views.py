"""Template library, versions, labels, diff, brand voices, import/export: one view per page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio.http import HtmxHttpRequest, request_number
from studio.workspaces.access import may_edit
from studio.workspaces.models import Workspace

from .actions import (
    InvalidTemplate,
    create_template,
    duplicate_template,
    move_label,
    save_brand_voice,
    save_version,
)
from .experiments.evidence import Evidence
from .forms import BrandVoiceForm, ImportForm, TemplateEditForm
from .models import BrandVoice, PromptTemplate
from .schema import LABEL_NAMES
from .transfer import FORMATS, MAX_BYTES, dumps, guess_format, import_text
from .version_diff import version_diff

LIBRARY = "prompts/template_list.html"
DETAIL = "prompts/template_detail.html"
EDIT = "prompts/template_edit.html"
VOICES = "prompts/voice_list.html"
VOICE = "prompts/voice_detail.html"


def _workspace(request: HttpRequest, ws: int) -> Workspace:
    return get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)


def _template(space: Workspace, pk: int) -> PromptTemplate:
    """A template this workspace can see: its own or the shared library's."""
    return get_object_or_404(PromptTemplate.objects.for_workspace(space), pk=pk)


@require_GET
def template_list(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """The workspace's templates and the shared library, with import and export."""
    return _library(request, _workspace(request, ws))


def _library(request: HtmxHttpRequest, space: Workspace, status: int = 200) -> HttpResponse:
    templates = PromptTemplate.objects.for_workspace(space).prefetch_related("labels__version")
    context = {
        "workspace": space,
        "own": [t for t in templates if t.workspace_id == space.pk],
        "library": [t for t in templates if t.workspace_id is None],
        "import_form": ImportForm(),
        "formats": FORMATS,
    }
    return render(request, LIBRARY, context, status=status)


def _edit_page(request: HtmxHttpRequest, context: dict[str, object]) -> HttpResponse:
    """The editor; with htmx only its variables' errors (checked as the author types, each
    row's next to it) or only the variables builder (after one of its buttons)."""
    if request.htmx.target == "variables-errors":
        return render(request, f"{EDIT}#variables-errors", context | {"oob": True})
    if request.htmx.target == "variables-builder":
        return render(request, f"{EDIT}#variables-builder", context)
    return render(request, EDIT, context)


def _saves(request: HtmxHttpRequest, form: TemplateEditForm) -> bool:
    """A POST that saves: not a builder button, not the as-you-type check; and valid."""
    checking = form.builder.action or request.htmx.target == "variables-errors"
    return request.method == "POST" and not checking and form.is_valid()


@require_http_methods(["GET", "POST"])
@may_edit()
def template_create(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    space = _workspace(request, ws)
    form = TemplateEditForm(request.POST or None, workspace=space)
    if _saves(request, form):
        data = form.cleaned_data
        template = create_template(
            workspace=space,
            data=data,
            user=request.user,
            brand_voice=data["brand_voice"],
            note=data["note"],
        )
        messages.success(request, _("Template created as version 1."))
        return redirect(template.get_absolute_url())
    return _edit_page(request, {"workspace": space, "form": form, "template": None})


@require_http_methods(["GET", "POST"])
@may_edit()
def template_edit(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """Saving never changes a version: it adds the next one (none if nothing changed)."""
    space = _workspace(request, ws)
    template = _template(space, pk)
    if template.is_library:
        messages.info(request, _("Library templates are read-only: duplicate it to edit a copy."))
        return redirect(template.get_absolute_url(space))
    initial = TemplateEditForm.initial_for(template)
    form = TemplateEditForm(request.POST or None, initial=initial, workspace=space)
    if _saves(request, form):
        data = form.cleaned_data
        for field in ("name", "purpose", "description"):
            setattr(template, field, data[field])
        template.save(update_fields=["name", "purpose", "description"])
        version, created = save_version(
            template=template,
            data=data,
            user=request.user,
            brand_voice=data["brand_voice"],
            note=data["note"],
        )
        if created:
            messages.success(request, _("Saved as version %(n)s.") % {"n": version.number})
        else:
            messages.info(request, _("Nothing changed in the prompts: no new version."))
        return redirect(template.get_absolute_url())
    return _edit_page(request, {"workspace": space, "form": form, "template": template})


def _detail_context(space: Workspace, template: PromptTemplate) -> dict[str, object]:
    versions = list(template.versions.select_related("created_by", "brand_voice"))
    labels: dict[int, list[str]] = {}
    for label in template.labels.all():
        labels.setdefault(label.version_id, []).append(label.name)
    for version in versions:
        version.label_names = labels.get(version.pk, [])
    history = list(
        template.label_changes.select_related("from_version", "to_version", "changed_by")
    )
    for change in history:
        change.proof = Evidence.load(change.evidence)  # an experiment's numbers, if any
    return {
        "workspace": space,
        "template": template,
        "versions": versions,
        "current": template.current_version(),
        "history": history,
        "label_names": LABEL_NAMES,
    }


@require_http_methods(["GET", "POST"])
@may_edit()
def template_detail(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """A template: its versions, labels and their history; POST moves a label or duplicates."""
    space = _workspace(request, ws)
    template = _template(space, pk)
    if request.method == "POST":
        return _detail_action(request, space, template)
    context = _detail_context(space, template)
    context["targets"] = Workspace.objects.for_user(request.user, can="edit")
    return render(request, DETAIL, context)


def _detail_action(
    request: HtmxHttpRequest, space: Workspace, template: PromptTemplate
) -> HttpResponse:
    if "duplicate" in request.POST:
        target = get_object_or_404(
            Workspace.objects.for_user(request.user, can="edit"),
            pk=request_number(request.POST.get("target")),
        )
        try:
            copy = duplicate_template(template=template, workspace=target, user=request.user)
        except InvalidTemplate as error:
            messages.error(request, str(error))
            return redirect(template.get_absolute_url(space))
        messages.success(request, _("Copied into %(ws)s.") % {"ws": target.name})
        return redirect(copy.get_absolute_url())
    if template.is_library:
        messages.error(request, _("Library templates are read-only."))
        return redirect(template.get_absolute_url(space))
    name = request.POST.get("label", "")
    if name not in LABEL_NAMES:
        messages.error(request, _("Unknown label."))
        return redirect(template.get_absolute_url(space))
    raw = request.POST.get("version", "")
    version = get_object_or_404(template.versions, pk=request_number(raw)) if raw else None
    move_label(
        template=template,
        name=name,
        version=version,
        user=request.user,
        note=request.POST.get("note", ""),
    )
    if version:
        messages.success(
            request, _("%(label)s now points at v%(n)s.") % {"label": name, "n": version.number}
        )
    else:
        messages.success(request, _("Label %(label)s removed.") % {"label": name})
    return redirect(template.get_absolute_url(space))


@require_GET
def template_diff(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """Two versions side by side; by default the newest against the one before it."""
    space = _workspace(request, ws)
    template = _template(space, pk)
    versions = list(template.versions.select_related("brand_voice").order_by("number"))
    by_number = {v.number: v for v in versions}

    def pick(key: str, fallback: int) -> int:
        number = request_number(request.GET.get(key))
        return number if number in by_number else fallback

    newest = versions[-1].number if versions else 0
    new = pick("b", newest)
    old = pick("a", max(new - 1, 1) if new - 1 in by_number else new)
    context = {"workspace": space, "template": template, "versions": versions}
    if versions:
        context |= {"old": by_number[old], "new": by_number[new]}
        context["fields"] = version_diff(by_number[old], by_number[new])
    return render(request, "prompts/template_diff.html", context)


@require_GET
def template_export(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """Download the workspace's templates (or one, ?template=) as JSON or YAML."""
    space = _workspace(request, ws)
    fmt = request.GET.get("format", "json")
    fmt = fmt if fmt in FORMATS else "json"
    templates = PromptTemplate.objects.filter(workspace=space)
    if (chosen := request_number(request.GET.get("template"))) is not None:
        templates = PromptTemplate.objects.for_workspace(space).filter(pk=chosen)
    templates = [t for t in templates if t.current_version()]
    response = HttpResponse(
        dumps(templates, fmt),
        content_type="application/yaml" if fmt == "yaml" else "application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="templates.{fmt}"'
    return response


@require_POST
@may_edit()
def template_import(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """Upload an export into this workspace: all or nothing, with a clear error."""
    space = _workspace(request, ws)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        choose = _("Choose a JSON or YAML file to import.")
        messages.error(request, form.errors["file"][0] if request.FILES else choose)
        return _library(request, space, status=400)
    upload = form.cleaned_data["file"]
    try:
        # The form refused a larger file; one byte over is still enough for loads() to refuse.
        text = upload.read(MAX_BYTES + 1).decode("utf-8")
        summary = import_text(
            text,
            guess_format(upload.name),
            workspace=space,
            user=request.user,
            move_labels=form.cleaned_data["move_labels"],
        )
    except (InvalidTemplate, UnicodeDecodeError, KeyError, TypeError) as error:
        messages.error(request, _("Nothing was imported: %(error)s") % {"error": error})
        return _library(request, space, status=400)
    messages.success(request, summary.message())
    return redirect("prompts:list", space.pk)


@require_http_methods(["GET", "POST"])
@may_edit()
def voice_list(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """The workspace's brand voices, and a form to write a new one."""
    space = _workspace(request, ws)
    form = BrandVoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if space.brand_voices.filter(name=form.cleaned_data["name"]).exists():
            form.add_error("name", _("A brand voice with this name already exists."))
        else:
            version = save_brand_voice(workspace=space, user=request.user, **form.cleaned_data)
            return redirect(version.voice)
    voices = BrandVoice.objects.filter(workspace=space).prefetch_related("versions")
    return render(request, VOICES, {"workspace": space, "voices": voices, "form": form})


@require_http_methods(["GET", "POST"])
@may_edit()
def voice_detail(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """A brand voice: edit it (a new version) and see its history and who includes it."""
    space = _workspace(request, ws)
    voice = get_object_or_404(BrandVoice.objects.filter(workspace=space), pk=pk)
    current = voice.current_version()
    initial = {"name": voice.name, "text": current.text if current else ""}
    form = BrandVoiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        clash = space.brand_voices.filter(name=form.cleaned_data["name"]).exclude(pk=voice.pk)
        if clash.exists():
            form.add_error("name", _("A brand voice with this name already exists."))
        else:
            version = save_brand_voice(
                workspace=space, voice=voice, user=request.user, **form.cleaned_data
            )
            messages.success(
                request, _("Brand voice saved as version %(n)s.") % {"n": version.number}
            )
            return redirect(voice)
    users = PromptTemplate.objects.filter(versions__brand_voice=voice).distinct()
    context = {
        "workspace": space,
        "voice": voice,
        "form": form,
        "versions": voice.versions.select_related("created_by"),
        "templates": users,
    }
    return render(request, VOICE, context)
