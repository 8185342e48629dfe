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
from contextvars import ContextVar
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from studio.tuning import Prepared

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


# While set, the user's row is read with their membership in the workspace this lookup leads
# to, in one query (``user_with_membership``, ``MembershipWithUserMiddleware``).
_WITH_MEMBERSHIP: ContextVar[dict[str, Any] | None] = ContextVar("with_membership", default=None)


def _memberships(user) -> dict[tuple, Membership | None]:
    """The user's memberships read so far, by lookup: kept on the user object itself, which
    ``request.user`` (a lazy object) stands for, so every reader finds the same ones."""
    cache = getattr(user, "_studio_memberships", None)
    if cache is None:
        cache = user._studio_memberships = {}
    return cache


def _members(lookup: dict[str, Any]) -> QuerySet[Membership]:
    members = Membership.objects.filter(**lookup)
    if "workspace_id" in lookup:  # a view by the workspace's id reads it from here
        members = members.select_related("workspace")  # (member_workspace)
    return members


# One compiled read per lookup (studio.tuning 7): every request reads a membership.
_PREPARED: dict[tuple[str, bool], Prepared[Membership]] = {}


def _member(user_id: Any, lookup: dict[str, Any], *, with_user: bool) -> Membership | None:
    """The user's membership through ``lookup`` (and their row with it): the first, as
    ``.first()`` reads it; there is at most one (one membership per user and workspace)."""
    name, target = next(iter(lookup.items())) if len(lookup) == 1 else (None, None)
    if name is None or type(target) is not int or type(user_id) is not int:  # never, today
        members = _members(lookup).filter(user_id=user_id)
        return (members.select_related("user") if with_user else members).first()
    prepared = _PREPARED.get((name, with_user))
    if prepared is None:

        def build(target: int, user_id: int) -> QuerySet[Membership]:
            members = _members({name: target}).filter(user_id=user_id).order_by("pk")
            return (members.select_related("user") if with_user else members)[:1]

        prepared = _PREPARED[(name, with_user)] = Prepared(build)
    return prepared.first(target, user_id)


def membership(user, **lookup: Any) -> Membership | None:
    """The user's membership in the workspace that ``lookup`` leads to (cached per user)."""
    if not user.is_authenticated:
        return None
    cache = _memberships(user)
    key = tuple(sorted(lookup.items()))
    if key not in cache:
        cache[key] = _member(user.pk, lookup, with_user=False)
    return cache[key]


def user_with_membership(user_id: Any, get_user: Callable[[Any], Any]) -> Any:
    """User ``user_id`` as ``get_user`` (the authentication backend's) finds them; while a
    role check is coming (``MembershipWithUserMiddleware``), read in one query with their
    membership in its workspace, which the role check and the view then find cached.

    Only how the row is read changes, never which user it is: the backend still refuses an
    inactive one, and Django still verifies the session's hash against it."""
    lookup = _WITH_MEMBERSHIP.get()
    if lookup is None:
        return get_user(user_id)
    member = _member(user_id, lookup, with_user=True)
    user = get_user(user_id) if member is None else member.user
    if user is not None:
        _memberships(user)[tuple(sorted(lookup.items()))] = member
    return user


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

            check.lookup = lookup  # type: ignore[attr-defined]

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


class MembershipWithUserMiddleware(MiddlewareMixin):
    """Before anything asks who the user is (``LoginRequiredMiddleware``, right after it),
    an unsafe request to an async view with a role check (a Generate, a Stop) reads the
    user's row and their membership in the workspace in one query, not one each: the role
    check (:class:`RoleCheckMiddleware`) and the view's ``member_workspace`` then find it.
    Its hook runs in the same trip to the request's thread as the other ``process_view``
    hooks (studio.tuning 2). The view's ``await request.auser()`` then answers the same
    user object (Django caches the two apart), with no query or trip of its own."""

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict[str, Any]
    ) -> None:
        check = getattr(view, "role_check", None)
        if check is None or request.method in SAFE_METHODS:
            return
        reading = _WITH_MEMBERSHIP.set(check.lookup(kwargs))
        try:
            request.user.is_authenticated  # noqa: B018 — read now, with the membership
        finally:
            _WITH_MEMBERSHIP.reset(reading)
        # The async view's ``await request.auser()`` is this user, not a second read.
        if (user := getattr(request, "_cached_user", None)) is not None:
            request._acached_user = user


def may_edit(*, of: str = "workspace") -> Callable:
    """Content work (generate, edit, restore, create…): editors and owners."""
    return role_required(EDIT, of=of)


def may_review(*, of: str = "workspace") -> Callable:
    """Reviewing (votes, a draft's status): every member, reviewers included."""
    return role_required(REVIEW, of=of)


def may_manage(*, of: str = "workspace") -> Callable:
    """Members and roles: owners only."""
    return role_required(MANAGE, of=of)
