"""``role_required`` on async views: the check runs in the process_view hooks' trip
(``RoleCheckMiddleware``), and still runs without that middleware or under another decorator."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from drafts.models import Draft
from studio.workspaces import access
from studio.workspaces.access import (
    RoleCheckMiddleware,
    may_edit,
    may_manage,
    member_workspace,
    membership,
)
from studio.workspaces.models import EDIT, Membership, Workspace

MIDDLEWARE = "studio.workspaces.access.RoleCheckMiddleware"


@pytest.fixture
def editor(workspace, django_user_model):
    person = django_user_model.objects.create_user("editor")
    Membership.objects.create(workspace=workspace, user=person, role=Membership.Role.EDITOR)
    return person


def _post(user, workspace: Workspace):
    request = RequestFactory().post(f"/w/{workspace.pk}/x/")
    request.user = user
    return request


def _answer(view, request, kwargs) -> int:
    """What the middleware's hook and then the view answer, as Django runs them."""
    middleware = RoleCheckMiddleware(lambda r: HttpResponse())
    if refused := middleware.process_view(request, view, (), kwargs):
        return refused.status_code
    return async_to_sync(view)(request, **kwargs).status_code


def test_the_middleware_refuses_for_the_async_view_and_the_view_does_not_ask_again(
    workspace, editor, thread_trips
):
    ran: list[int] = []

    @may_manage()
    async def view(request, pk: int) -> HttpResponse:
        ran.append(pk)
        return HttpResponse()

    assert _answer(view, _post(editor, workspace), {"pk": workspace.pk}) == 403
    assert _answer(view, _post(workspace.created_by, workspace), {"pk": workspace.pk}) == 200
    assert ran == [workspace.pk]
    assert thread_trips == []  # the owner's check ran in the hook, not in a trip of the view's


def test_without_the_middleware_the_async_view_checks_for_itself(
    client, workspace, editor, settings
):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    reviewer = type(editor).objects.create_user("reviewer")
    Membership.objects.create(workspace=workspace, user=reviewer, role=Membership.Role.REVIEWER)
    client.force_login(reviewer)

    toast = client.post(f"/w/{workspace.pk}/generate/", headers={"HX-Request": "true"})

    assert toast.status_code == 403 and "Ask an owner to make you an editor" in toast.text


def test_a_check_under_another_decorator_still_runs(workspace, editor):
    """The hook runs the outermost decorator's check; an inner one checks for itself."""

    @may_edit()
    @may_manage()
    async def view(request, pk: int) -> HttpResponse:
        return HttpResponse()

    assert _answer(view, _post(editor, workspace), {"pk": workspace.pk}) == 403  # not an owner
    assert _answer(view, _post(workspace.created_by, workspace), {"pk": workspace.pk}) == 200


def test_a_read_is_never_refused(workspace, editor):
    @may_manage()
    async def view(request, pk: int) -> HttpResponse:
        return HttpResponse()

    request = RequestFactory().get(f"/w/{workspace.pk}/x/")
    request.user = editor
    assert _answer(view, request, {"pk": workspace.pk}) == 200


def test_the_workspace_comes_with_the_role_check_s_membership(
    editor, workspace, django_assert_num_queries
):
    """A view after ``may_edit()`` (the Generate) reads its workspace from the membership the
    role check read: no query of its own on the way to the first token."""
    with django_assert_num_queries(1):
        assert membership(editor, workspace_id=workspace.pk).can(EDIT)  # the role check
        assert member_workspace(editor, workspace.pk) == workspace


def test_a_non_member_gets_no_workspace(other_user, workspace):
    with pytest.raises(Http404):
        member_workspace(other_user, workspace.pk)


def test_a_membership_found_through_a_draft_reads_no_workspace_columns(editor, workspace):
    """Only a lookup by the workspace's id brings the workspace along (the Generate's): the
    role checks of other views compile no columns they do not use."""
    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=editor)
    with CaptureQueriesContext(connection) as queries:
        assert membership(editor, workspace__drafts=draft.pk).can(EDIT)

    [query] = queries.captured_queries
    assert '"workspaces_workspace"."name"' not in query["sql"]


def test_memberships_are_read_with_sql_compiled_once(
    editor, other_user, workspace, django_user_model, compiles, monkeypatch
):
    """Every request reads a membership: the same answers as the queryset's, one compile
    for each lookup however many users and workspaces (studio.tuning 7)."""
    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=editor)
    fresh = django_user_model.objects.get  # no membership cached on the user object yet
    monkeypatch.setattr(access, "_PREPARED", {})  # as in a new process
    compiles.clear()

    assert membership(fresh(pk=editor.pk), workspace_id=workspace.pk).role == "editor"
    assert membership(fresh(pk=other_user.pk), workspace_id=workspace.pk) is None
    owner = membership(fresh(pk=workspace.created_by_id), workspace__drafts=draft.pk)
    assert owner.role == "owner" and membership(other_user, workspace__drafts=draft.pk) is None
    assert len([sql for sql in compiles if 'FROM "workspaces_membership"' in sql]) == 2


# --- The user's row and the membership in one query (MembershipWithUserMiddleware) ---------


@pytest.fixture
def version(product_template):
    return product_template.current_version()


def _generate(client, workspace: Workspace, version=None):
    """A Generate with nothing filled in (the form answers what is missing), after the
    role check."""
    data = {"version": version.pk} if version else {}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("drafts:generate", args=[workspace.pk]), data, headers={"HX-Request": "true"}
        )
    sql = [q["sql"] for q in queries.captured_queries]
    members = [query for query in sql if 'FROM "workspaces_membership"' in query]
    return response, [query for query in sql if '"auth_user"' in query], members


def test_a_generate_reads_the_user_with_the_membership_in_one_query(
    client, editor, workspace, version
):
    client.force_login(editor)

    response, users, members = _generate(client, workspace, version)

    assert response.status_code == 200 and b"template-form" in response.content
    # No query for the user alone, none for the membership alone: the role check and the
    # view find the membership (and its workspace) the user was read with.
    assert users == members and len(users) == 1 and '"workspaces_workspace"' in users[0]


def test_a_reviewer_is_still_refused_with_the_membership_read_that_way(
    client, workspace, django_user_model
):
    reviewer = django_user_model.objects.create_user("reviewer")
    Membership.objects.create(workspace=workspace, user=reviewer, role=Membership.Role.REVIEWER)
    client.force_login(reviewer)

    response, users, members = _generate(client, workspace)

    assert response.status_code == 403 and users == members and len(users) == 1


def test_a_stop_reads_the_membership_through_its_generation_with_the_user(
    client, workspace, django_user_model
):
    """Any role check, not only one by the workspace's id: the Stop's (``of="generation"``)."""
    reviewer = django_user_model.objects.create_user("reviewer")
    Membership.objects.create(workspace=workspace, user=reviewer, role=Membership.Role.REVIEWER)
    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=reviewer)
    generation = draft.generations.create(created_by=reviewer, model="m", status="running")
    client.force_login(reviewer)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("drafts:cancel", args=[generation.pk]))

    assert response.status_code == 403
    [read] = [q["sql"] for q in queries.captured_queries if '"auth_user"' in q["sql"]]
    assert 'FROM "workspaces_membership"' in read and '"drafts_generation"' in read


def test_a_stop_by_an_editor_reads_the_user_once_for_the_check_and_the_view(
    client, editor, workspace
):
    """The view's ``await request.auser()`` is the user the role check read with the
    membership: no second query for them."""
    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=editor)
    # Running, with no process running it: the Stop ends it (drafts.sweeper's way).
    generation = draft.generations.create(created_by=editor, model="m", status="running")
    client.force_login(editor)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("drafts:cancel", args=[generation.pk]))

    assert response.status_code == 302  # stopped; back to the draft
    [read] = [q["sql"] for q in queries.captured_queries if '"auth_user"' in q["sql"]]
    assert 'FROM "workspaces_membership"' in read


def test_a_non_member_is_read_as_before_and_gets_a_404(client, other_user, workspace):
    client.force_login(other_user)

    response, users, members = _generate(client, workspace)

    assert response.status_code == 404
    assert len(users) == 2 and len(members) == 1  # the membership (none), then the user


def test_a_deactivated_member_is_logged_out_by_the_one_query(client, editor, workspace):
    client.force_login(editor)
    django_user = type(editor)
    django_user.objects.filter(pk=editor.pk).update(is_active=False)  # no signal, no save()

    response, _, _ = _generate(client, workspace)

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_changed_password_ends_the_session_read_with_the_membership(client, editor, workspace):
    client.force_login(editor)
    editor.set_password("a-new-secret-123")
    type(editor).objects.filter(pk=editor.pk).update(password=editor.password)

    response, _, _ = _generate(client, workspace)

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session  # flushed, as Django does
