"""Who may do what in a workspace: the role check for views, and its answer when it refuses.

Views keep finding their objects with ``for_user`` (membership: another workspace is a 404).
On top of that, ``role_required(EDIT, of="draft")`` refuses an unsafe request (POST…) from a
member whose role does not grant the capability, with a 403 that says why: a toast for htmx
(studio.js shows the server's message), a page otherwise. Reads (GET) are never refused here,
so a reviewer still sees every page; the templates hide the buttons they cannot use
(``{% workspace_can workspace "edit" as may_edit %}``, workspaces_tags).

``of`` names what the URL's id points at, so one decorator line fits every view:
``workspace`` (``ws`` or ``pk``), ``draft``, ``generation``, ``share``, ``campaign`` or
``deliverable`` (``pk``). When the
user is not a member at all nothing is refused here: the view's own lookup answers 404.

An async view's check runs in the request's one trip through the ``process_view`` hooks
(:class:`RoleCheckMiddleware`, last in ``MIDDLEWARE``), not in a trip of its own: a Generate
reaches its view one trip to the request's thread sooner. Without that middleware the
decorator makes the trip itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from .models import EDIT, MANAGE, REVIEW, Membership, Workspace

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FORBIDDEN = "workspaces/forbidden.html"
# What the URL's id names → the Membership lookup that finds the workspace through it.
LOOKUPS = {
    "workspace": "workspace_id",
    "draft": "workspace__drafts",
    "generation": "workspace__drafts__generations",
    "share": "workspace__drafts__share_links",
    "campaign": "workspace__campaigns",
    "deliverable": "workspace__campaigns__deliverables",
}


def membership(user, **lookup: Any) -> Membership | None:
    """The user's membership in the workspace that ``lookup`` leads to (cached per user)."""
    if not user.is_authenticated:
        return None
    cache = user.__dict__.setdefault("_studio_memberships", {})
    key = tuple(sorted(lookup.items()))
    if key not in cache:
        members = Membership.objects.filter(user=user, **lookup)
        if "workspace_id" in lookup:  # a view by the workspace's id reads it from here
            members = members.select_related("workspace")  # (member_workspace)
        cache[key] = members.first()
    return cache[key]


def member_workspace(user, pk: int) -> Workspace:
    """Workspace ``pk`` when the user is a member of it, else 404: as
    ``Workspace.objects.for_user(user)``, but with the membership the role check already read
    (no query of its own after ``may_edit()``)."""
    member = membership(user, workspace_id=pk)
    if member is None:
        raise Http404("No such workspace.")
    return member.workspace


def denial(member: Membership | None, capability: str) -> str | None:
    """Why ``member`` may not do it (a message), or None when the role allows it."""
    if member is None or member.can(capability):
        return None  # not a member: the view's own lookup answers 404
    if capability == MANAGE:
        return _("Only the workspace's owners can manage its members.")
    return _(
        "Your role in this workspace (%(role)s) can read and review but not change content. "
        "Ask an owner to make you an editor."
    ) % {"role": member.get_role_display()}


def forbidden_response(request: HttpRequest, message: str) -> HttpResponse:
    """403 with the reason: a toast for ``#toasts`` (htmx), else a page."""
    if getattr(request, "htmx", False):
        response = render(request, f"{FORBIDDEN}#forbidden-toast", {"message": message}, status=403)
        response["HX-Retarget"] = "#toasts"
        response["HX-Reswap"] = "beforeend"
        return response
    return render(request, FORBIDDEN, {"message": message}, status=403)


def _refusal(request: HttpRequest, capability: str, lookup: dict) -> HttpResponse | None:
    """The 403 for an unsafe request the user's role does not allow, else None (sync).

    ``request.user`` (not ``auser()``): the same user object the view then sees, so the
    membership found here is cached for the view's own role checks."""
    if request.method in SAFE_METHODS:
        return None
    message = denial(membership(request.user, **lookup), capability)
    return forbidden_response(request, message) if message else None


def role_required(capability: str, *, of: str = "workspace") -> Callable:
    """Refuse unsafe requests from members whose role lacks ``capability`` (sync or async)."""
    field = LOOKUPS[of]

    def lookup(kwargs: dict[str, Any]) -> dict[str, Any]:
        return {field: kwargs["ws"] if of == "workspace" and "ws" in kwargs else kwargs["pk"]}

    def decorator(view: Callable) -> Callable:
        if iscoroutinefunction(view):

            def check(request: HttpRequest, kwargs: dict[str, Any]) -> HttpResponse | None:
                request.__dict__[_CHECKED] = check  # this decorator's check, no other's
                return _refusal(request, capability, lookup(kwargs))

            @wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
                # A read is never refused: no trip to a thread at all. Otherwise one, unless
                # RoleCheckMiddleware ran this check in the process_view hooks' trip.
                unchecked = request.__dict__.get(_CHECKED) is not check
                if request.method not in SAFE_METHODS and unchecked:
                    refusal = await sync_to_async(check)(request, kwargs)
                    if refusal is not None:
                        return refusal
                return await view(request, *args, **kwargs)

            async_wrapper.role_check = check  # type: ignore[attr-defined]
            return async_wrapper

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
            refusal = _refusal(request, capability, lookup(kwargs))
            return refusal or view(request, *args, **kwargs)

        return wrapper

    return decorator


_CHECKED = "_studio_role_checked"


class RoleCheckMiddleware(MiddlewareMixin):
    """Runs an async view's role check (``role_required``) in the trip Django already makes
    to the request's thread for the ``process_view`` hooks (one trip with the tuning, studio
    .tuning 2): after CSRF, login and the rate limits, as the decorator would, minus a trip.

    ``functools.wraps`` copies the innermost decorator's ``role_check`` outwards, and the
    outermost's replaces it: this runs the outermost's, and any decorator under it checks
    for itself as before."""

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        check = getattr(view, "role_check", None)
        if check is None or request.method in SAFE_METHODS:
            return None
        return check(request, kwargs)


def may_edit(*, of: str = "workspace") -> Callable:
    """Content work (generate, edit, restore, create…): editors and owners."""
    return role_required(EDIT, of=of)


def may_review(*, of: str = "workspace") -> Callable:
    """Reviewing (votes, a draft's status): every member, reviewers included."""
    return role_required(REVIEW, of=of)


def may_manage(*, of: str = "workspace") -> Callable:
    """Members and roles: owners only."""
    return role_required(MANAGE, of=of)
