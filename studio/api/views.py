"""Settings → API keys: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from studio.audit.models import AuditLog, start_of_day
from studio.http import HtmxHttpRequest

from .actions import create_api_key, revoke_api_key
from .forms import ApiKeyForm
from .models import ApiKey

PAGE = "api/keys.html"


def _context(request: HttpRequest, form: ApiKeyForm, new_key: str = "") -> dict[str, object]:
    calls = AuditLog.objects.for_user(request.user)
    return {
        "form": form,
        "keys": ApiKey.objects.for_user(request.user),
        "new_key": new_key,
        "usage_today": calls.today().usage(),
        "token_budget": settings.AI_DAILY_TOKEN_BUDGET,
        "cost_month": calls.since(start_of_day().replace(day=1)).usage().cost,
    }


@require_http_methods(["GET", "POST"])
def api_keys(request: HtmxHttpRequest) -> HttpResponse:
    """The user's API keys and a form for a new one; a new key's secret is shown only here."""
    form = ApiKeyForm(request.POST or None)
    new_key = ""
    if request.method == "POST" and form.is_valid():
        _key, new_key = create_api_key(user=request.user, name=form.cleaned_data["name"])
        form = ApiKeyForm()
    context = _context(request, form, new_key)
    template = f"{PAGE}#api-keys" if request.htmx else PAGE
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"  # the one page that shows a secret
    return response


@require_POST
def revoke_key(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's keys: requests with it fail from now on."""
    key = get_object_or_404(ApiKey.objects.for_user(request.user), pk=pk)
    revoke_api_key(key=key)
    if request.htmx:
        return render(request, f"{PAGE}#api-keys", _context(request, ApiKeyForm()))
    messages.success(request, _("The key “%(name)s” was revoked.") % {"name": key.name})
    return redirect("api:keys")
