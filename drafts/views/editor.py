"""The editor: one version per editing session, a working copy in between, a live preview.

Autosave (htmx, a second after typing stops) keeps the user's working copy; Save, Ctrl/⌘+S,
leaving the editor or a long idle make the session one version. Without JavaScript the form
is a textarea and a Save button, and every Save is a version, as before.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from studio.http import HtmxHttpRequest, request_number
from studio.workspaces.access import may_edit

from .. import actions
from ..forms import EditForm
from ..markdown_html import render_markdown
from ..models import Draft, WorkingCopy
from ..sections import outline
from ..word_diff import diff_texts
from .versions import _draft

EDIT = "drafts/draft_edit.html"


@require_http_methods(["GET", "POST"])
@may_edit(of="draft")
def draft_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The editor. Each save names the version it started from; a newer one is a conflict."""
    draft = _draft(request, pk)
    if request.method == "GET":
        return render(request, EDIT, _editor_context(request, draft))
    if "resume" in request.POST or "discard" in request.POST:
        return _resume_or_discard(request, draft)
    form = EditForm(request.POST)
    context: dict[str, object] = {"draft": draft, "form": form}
    if not form.is_valid():
        context["error"] = _("This save could not be read; your text is still in the editor.")
        return _edit_response(request, context)
    text, base = form.cleaned_data["text"], form.cleaned_data["base"]
    # "Keep my text" in the conflict view: the editor has now seen that version.
    resolved = request_number(request.POST.get("resolve"))
    base = base if resolved is None else resolved
    try:
        context |= _save(request, draft, text=text, base=base)
    except actions.VersionConflict as conflict:
        theirs = conflict.latest.text if conflict.latest else ""
        context |= {"conflict": True, "theirs": conflict.latest, "diff": diff_texts(theirs, text)}
        return _edit_response(request, context)
    if not request.htmx:
        version = context["saved"]
        messages.success(request, _("Saved as version %(number)s.") % {"number": version.number})
        return redirect("drafts:edit", draft.pk)
    return _edit_response(request, context)


def _save(request: HtmxHttpRequest, draft: Draft, *, text: str, base: int) -> dict[str, object]:
    """An autosave keeps the working copy; anything else ends the session as one version."""
    if request.POST.get("autosave"):
        idle = timedelta(seconds=settings.EDITOR_SESSION_IDLE)
        made = actions.keep_working_copy(
            draft_id=draft.pk, user_id=request.user.pk, text=text, base_number=base, idle=idle
        )
        return {"kept": True, "saved": made}
    version = actions.finish_session(
        draft_id=draft.pk, user_id=request.user.pk, text=text, base_number=base
    )
    return {"saved": version}


def _editor_context(request: HtmxHttpRequest, draft: Draft) -> dict[str, object]:
    """The latest version in the editor, or the kept session when asked to resume it (else
    it is offered); ``?section=N`` puts the caret at that section's heading."""
    latest = draft.latest_version()
    copy = WorkingCopy.objects.filter(draft=draft, user=request.user).first()
    resuming = copy is not None and "resume" in request.GET
    text = copy.text if resuming else (latest.text if latest else "")
    base = copy.base if resuming else (latest.number if latest else 0)
    context = {"draft": draft, "form": EditForm(initial={"text": text, "base": base})}
    context |= {"saved": None if resuming else latest, "resumed": copy if resuming else None}
    context["offer"] = None if resuming else copy
    context["idle_ms"] = int(settings.EDITOR_SESSION_IDLE * 1000)
    index = request_number(request.GET.get("section"))
    sections = outline(text) if index is not None else []
    if index is not None and index < len(sections):
        context["caret"] = sections[index].start
    return context


def _resume_or_discard(request: HtmxHttpRequest, draft: Draft) -> HttpResponse:
    """The offer of a kept session (or the conflict view's Discard): take it up again, or
    throw it away. Then the editor afresh (htmx: a full page load, not a swap)."""
    url = reverse("drafts:edit", args=[draft.pk])
    if "resume" in request.POST:
        actions.resume_working_copy(draft_id=draft.pk, user_id=request.user.pk)
        url += "?resume=1"
    else:
        WorkingCopy.objects.filter(draft=draft, user=request.user).delete()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _edit_response(request: HtmxHttpRequest, context: dict[str, object]) -> HttpResponse:
    # The editor's text is never sent back: the textarea keeps whatever the user typed since.
    if request.htmx:
        return render(request, f"{EDIT}#save-response", context)
    return render(request, EDIT, context | {"idle_ms": int(settings.EDITOR_SESSION_IDLE * 1000)})


@require_POST
@may_edit(of="draft")
def draft_preview(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The editor's text as the draft page shows it (the studio's own sanitized renderer)."""
    draft = _draft(request, pk)
    html = render_markdown(request.POST.get("text", ""))
    return render(request, f"{EDIT}#preview", {"draft": draft, "preview": html})
