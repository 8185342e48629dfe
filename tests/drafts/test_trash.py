"""Archiving and deleting drafts: the list's bulk actions, the trash, restore and delete for
good (drafts/views/trash.py, drafts/actions.py)."""

import asyncio

import pytest
import respx
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from drafts import actions
from drafts import generation as runner
from drafts.actions import add_version, share_version
from drafts.models import Draft, DraftVersion, Generation
from studio.api.actions import create_api_key
from studio.audit.models import AuditLog
from studio.audit.origin import Origin
from studio.workspaces.actions import add_member, create_workspace
from tests.conftest import CHAT_URL, chunk, streaming_response
from tests.generating import start_generation

HTMX = {"HX-Request": "true"}
LIST_HTMX = HTMX | {"HX-Target": "draft-results"}


@pytest.fixture
def draft(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Aurora launch", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="edited", author_id=user.pk)
    return draft


@pytest.fixture
def signed_in(client, user) -> Client:
    client.force_login(user)
    return client


def _bulk(client, workspace, button: str, *drafts, **extra):
    data = {"ids": [d.pk for d in drafts], button: ""}
    return client.post(reverse("drafts:list", args=[workspace.pk]), data, **extra)


def test_deleting_from_the_list_moves_drafts_to_the_trash_and_keeps_their_history(
    signed_in, workspace, draft, user
):
    AuditLog.objects.create(user=user, workspace=workspace, status="ok", prompt="P")
    response = _bulk(signed_in, workspace, "delete", draft)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.deleted_at is not None and draft.deleted_by == user
    assert DraftVersion.objects.filter(draft=draft).count() == 1
    assert AuditLog.objects.filter(workspace=workspace).count() == 1
    page = signed_in.get(response["Location"]).content.decode()
    assert "1 draft moved to the trash." in page and "Aurora launch" not in page
    trash = signed_in.get(reverse("drafts:trash", args=[workspace.pk])).content.decode()
    assert "Aurora launch" in trash and "Deleted by hamlet" in trash


def test_a_deleted_draft_leaves_every_list_page_search_and_the_api(
    signed_in, workspace, draft, user
):
    link = share_version(version=draft.latest_version(), user=user)
    _, key = create_api_key(user=user, name="k")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    assert api.get(f"/api/ai/workspaces/{workspace.pk}/drafts").json()[0]["id"] == draft.pk
    actions.delete_drafts(drafts=Draft.objects.filter(pk=draft.pk), user=user)

    pages = {
        "workspace": reverse("workspace", args=[workspace.pk]),
        "list": reverse("drafts:list", args=[workspace.pk]),
        "search": reverse("drafts:list", args=[workspace.pk]) + "?q=Bright",
        "dashboard": reverse("dashboard", args=[workspace.pk]),
    }
    for name, url in pages.items():
        assert "Aurora launch" not in signed_in.get(url).content.decode(), name
    assert signed_in.get(reverse("drafts:detail", args=[draft.pk])).status_code == 404
    assert signed_in.get(reverse("drafts:edit", args=[draft.pk])).status_code == 404
    assert api.get(f"/api/ai/workspaces/{workspace.pk}/drafts").json() == []
    assert api.get(f"/api/ai/drafts/{draft.pk}").status_code == 404
    shared = Client().get(link.get_absolute_url())
    assert shared.status_code == 404 and "Bright light." not in shared.content.decode()
    counts = signed_in.get(pages["dashboard"]).context["statuses"]
    assert {value: n for value, _label, n in counts}["draft"] == 0


def test_restoring_brings_the_draft_back_as_it_was(signed_in, workspace, draft, user):
    link = share_version(version=draft.latest_version(), user=user)
    actions.delete_drafts(drafts=Draft.objects.filter(pk=draft.pk), user=user)

    url = reverse("drafts:trash", args=[workspace.pk])
    response = signed_in.post(url, {"restore": draft.pk}, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="trash-list"' in body
    assert "“Aurora launch” restored." in body and "The trash is empty." in body
    draft.refresh_from_db()
    assert draft.deleted_at is None and draft.deleted_by is None
    assert signed_in.get(reverse("drafts:detail", args=[draft.pk])).status_code == 200
    assert Client().get(link.get_absolute_url()).status_code == 200


def test_archiving_from_the_list_sets_the_status_of_the_checked_drafts_only(
    signed_in, workspace, draft, user
):
    other = Draft.objects.create(workspace=workspace, title="Other", created_by=user)
    response = _bulk(signed_in, workspace, "archive", draft, headers=LIST_HTMX)

    body = response.content.decode()
    assert response.status_code == 200 and 'id="draft-results"' in body and "<html" not in body
    assert "1 draft archived." in body
    assert Draft.objects.get(pk=draft.pk).status == "archived"
    assert Draft.objects.get(pk=other.pk).status == "draft"


def test_no_checked_draft_changes_nothing_and_says_so(signed_in, workspace, draft):
    response = _bulk(signed_in, workspace, "delete", headers=LIST_HTMX)
    assert "Choose at least one draft first." in response.content.decode()
    assert Draft.objects.alive().filter(pk=draft.pk).exists()


def test_another_workspaces_draft_ids_are_ignored(signed_in, workspace, other_user):
    theirs = create_workspace(name="Theirs", owner=other_user)
    foreign = Draft.objects.create(workspace=theirs, title="Foreign", created_by=other_user)
    _bulk(signed_in, workspace, "delete", foreign)
    _bulk(signed_in, workspace, "archive", foreign)
    foreign.refresh_from_db()
    assert foreign.deleted_at is None and foreign.status == "draft"
    url = reverse("drafts:trash", args=[workspace.pk])
    actions.delete_drafts(drafts=Draft.objects.filter(pk=foreign.pk), user=other_user)
    assert signed_in.post(url, {"restore": foreign.pk}).status_code == 404
    assert signed_in.post(url, {"purge": foreign.pk}).status_code == 404
    assert Draft.objects.in_trash().filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("role", ["reviewer"])
def test_reviewers_see_the_trash_but_cannot_delete_restore_or_purge(workspace, draft, user, role):
    reviewer = get_user_model().objects.create_user("polonius")
    add_member(workspace=workspace, user=reviewer, role=role)
    client = Client()
    client.force_login(reviewer)
    list_page = client.get(reverse("drafts:list", args=[workspace.pk])).content.decode()
    assert "Aurora launch" in list_page and 'name="ids"' not in list_page
    assert _bulk(client, workspace, "delete", draft).status_code == 403
    assert Draft.objects.alive().filter(pk=draft.pk).exists()

    actions.delete_drafts(drafts=Draft.objects.filter(pk=draft.pk), user=user)
    url = reverse("drafts:trash", args=[workspace.pk])
    page = client.get(url).content.decode()
    assert "Aurora launch" in page and 'name="restore"' not in page
    assert client.post(url, {"restore": draft.pk}).status_code == 403
    assert client.post(url, {"purge": draft.pk}).status_code == 403
    assert Draft.objects.in_trash().filter(pk=draft.pk).exists()


def test_editors_may_delete_and_restore(workspace, draft, other_user):
    add_member(workspace=workspace, user=other_user, role="editor")
    client = Client()
    client.force_login(other_user)
    _bulk(client, workspace, "delete", draft)
    assert Draft.objects.in_trash().filter(pk=draft.pk).exists()
    client.post(reverse("drafts:trash", args=[workspace.pk]), {"restore": draft.pk})
    assert Draft.objects.alive().filter(pk=draft.pk).exists()


def test_deleting_for_good_removes_the_draft_and_its_versions_but_not_the_audit(
    signed_in, workspace, draft, user
):
    AuditLog.objects.create(user=user, workspace=workspace, status="ok", prompt="P")
    url = reverse("drafts:trash", args=[workspace.pk])
    assert signed_in.post(url, {"purge": draft.pk}).status_code == 404  # not in the trash
    actions.delete_drafts(drafts=Draft.objects.filter(pk=draft.pk), user=user)

    response = signed_in.post(url, {"purge": draft.pk}, follow=True)

    assert "“Aurora launch” deleted for good." in response.content.decode()
    assert not Draft.objects.filter(pk=draft.pk).exists()
    assert not DraftVersion.objects.filter(draft_id=draft.pk).exists()
    assert AuditLog.objects.filter(workspace=workspace).count() == 1


def test_a_draft_an_experiment_wrote_stays_in_the_trash(workspace, user, product_template):
    from prompts.experiments.actions import create_experiment, start_run

    version = product_template.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="E",
        user=user,
        variants=[{"name": "A", "version": version}, {"name": "B", "version": version}],
    )
    inputs = {v.name: v.default or "x" for v in version.variable_specs}
    column = start_run(
        origin=Origin(), experiment=experiment, inputs=inputs, user=user
    ).columns.first()
    drafts = Draft.objects.filter(pk=column.generation.draft_id)
    actions.delete_drafts(drafts=drafts, user=user)

    with pytest.raises(actions.DraftKept):
        actions.purge_draft(draft=drafts.get())
    assert drafts.in_trash().exists()


def test_delete_and_archive_skip_drafts_already_in_the_trash(workspace, draft, user):
    drafts = Draft.objects.filter(pk=draft.pk)
    assert actions.delete_drafts(drafts=drafts, user=user) == 1
    first = drafts.get().deleted_at
    assert actions.delete_drafts(drafts=drafts, user=user) == 0
    assert actions.archive_drafts(drafts=drafts) == 0
    assert drafts.get().deleted_at == first and drafts.get().status == "draft"


def test_querysets_split_live_and_deleted(workspace, draft, user):
    generation = Generation.objects.create(draft=draft, created_by=user, model="m")
    assert list(Draft.objects.alive()) == [draft] and not Draft.objects.in_trash().exists()
    actions.delete_drafts(drafts=Draft.objects.all(), user=user)
    assert not Draft.objects.alive().exists() and not Draft.objects.for_user(user).exists()
    assert list(Draft.objects.in_trash()) == [draft]
    # A deleted draft's generations are not found either (its stream, Stop, the API).
    assert not Generation.objects.for_user(user).filter(pk=generation.pk).exists()


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_moving_a_generating_draft_to_the_trash_stops_it_and_keeps_its_text(
    async_client, workspace, product_template, product_inputs, user
):
    started = asyncio.Event()

    async def body():
        yield chunk({"role": "assistant", "content": ""})
        yield chunk({"content": "Written so far"})
        started.set()
        await asyncio.Event().wait()  # the model would go on: only a Stop ends this

    respx.post(CHAT_URL).mock(return_value=streaming_response(body()))
    generation = await sync_to_async(start_generation)(
        workspace=workspace,
        version=await sync_to_async(product_template.current_version)(),
        inputs=product_inputs,
        user=user,
    )
    task = runner.launch(generation.pk)
    await started.wait()
    log = runner.get_log(generation.pk)
    while not log.items:  # the runner has the delta
        await log.wait(0, timeout=5)
    await async_client.aforce_login(user)

    response = await async_client.post(
        reverse("drafts:list", args=[workspace.pk]), {"ids": [generation.draft_id], "delete": ""}
    )
    assert response.status_code == 302
    await task  # the runner ended: no tokens spent on a draft in the trash
    stopped = await Generation.objects.select_related("version").aget(pk=generation.pk)
    assert stopped.status == Generation.Status.CANCELLED
    assert stopped.version.text == "Written so far"  # kept, for a restore
    page = (await async_client.get(response["Location"])).content.decode()
    assert "1 draft moved to the trash." in page
    assert "Its generation was stopped; what it had written is kept." in page


def test_deleting_a_draft_that_is_not_generating_stops_nothing(signed_in, workspace, draft, user):
    Generation.objects.create(draft=draft, created_by=user, model="m", status="done")
    page = _bulk(signed_in, workspace, "delete", draft, follow=True).content.decode()
    assert "1 draft moved to the trash." in page and "stopped" not in page
