"""The JSON API's knowledge reads: a workspace's sources (paged, archived on request) and a
search of their passages; scoped to the key's user, errors in the API's envelope."""

from __future__ import annotations

import pytest
import respx
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from drafts.models import Generation
from prompts.knowledge.actions import add_source
from prompts.knowledge.models import Passage
from prompts.knowledge.parsing import Kind, parse
from studio.workspaces.actions import add_member
from tests.conftest import CHAT_URL, sse_body, sse_response

pytestmark = pytest.mark.django_db

LUMEN = """# Lumen lamp

## Battery

The battery lasts twelve hours at half brightness and charges over USB-C.

## 调光

Lumen 台灯支持无级调光，长按按钮即可调节亮度。
"""


def _source(workspace, user, title: str, text: str = LUMEN, tags=("lumen",)):
    document = parse(text.encode(), kind=Kind.MARKDOWN, filename=f"{title}.md")
    return add_source(
        workspace=workspace, user=user, title=title, tags=list(tags), document=document
    ).source


def test_sources_list_with_their_current_version(client, workspace, user, auth):
    lumen = _source(workspace, user, "Lumen sheet")
    _source(workspace, user, "Archived notes", "# Old\n\nOld text.", tags=()).archive()

    response = client.get(f"/api/ai/workspaces/{workspace.pk}/knowledge", headers=auth)

    assert response.status_code == 200
    [listed] = response.json()
    assert listed["id"] == lumen.pk and listed["title"] == "Lumen sheet"
    assert (listed["tags"], listed["archived"], listed["kind"]) == (["lumen"], False, "markdown")
    assert (listed["version"], listed["passages"]) == (1, lumen.current_version().passages.count())
    assert listed["url"].endswith(lumen.get_absolute_url())
    everything = client.get(
        f"/api/ai/workspaces/{workspace.pk}/knowledge", {"archived": "true"}, headers=auth
    ).json()
    assert [s["title"] for s in everything] == ["Archived notes", "Lumen sheet"]
    assert everything[0]["archived"] is True


def test_sources_page_with_limit_and_offset_in_a_constant_number_of_queries(
    client, workspace, user, auth
):
    for n in range(5):
        _source(workspace, user, f"Sheet {n}")
    url = f"/api/ai/workspaces/{workspace.pk}/knowledge"
    page = client.get(url, {"limit": 2, "offset": 2}, headers=auth).json()
    assert [s["title"] for s in page] == ["Sheet 2", "Sheet 3"]
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"limit": 2}, headers=auth)
    with CaptureQueriesContext(connection) as many:
        client.get(url, headers=auth)
    assert len(many) == len(few)
    bad = client.get(url, {"limit": 0}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "limit"


def test_search_answers_passages_best_first(client, workspace, user, auth):
    source = _source(workspace, user, "Lumen sheet")
    url = f"/api/ai/workspaces/{workspace.pk}/knowledge/search"

    hits = client.get(url, {"q": "battery life"}, headers=auth).json()
    assert hits and "twelve hours" in hits[0]["text"]
    assert (hits[0]["source_id"], hits[0]["source_title"], hits[0]["version"]) == (
        source.pk,
        "Lumen sheet",
        1,
    )
    assert hits[0]["heading"].endswith("Battery") and hits[0]["score"] > 0
    assert hits[0]["url"].endswith(f"#passage-{hits[0]['passage_id']}")
    chinese = client.get(url, {"q": "调光", "limit": 1}, headers=auth).json()
    assert len(chinese) == 1 and "无级调光" in chinese[0]["text"]
    assert client.get(url, {"q": "nothing matches zebra"}, headers=auth).json() == []


def test_search_leaves_out_archived_sources(client, workspace, user, auth):
    _source(workspace, user, "Lumen sheet").archive()
    url = f"/api/ai/workspaces/{workspace.pk}/knowledge/search"
    assert client.get(url, {"q": "battery"}, headers=auth).json() == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "battery", "limit": 51}])
def test_a_bad_search_is_a_422_naming_the_field(client, workspace, auth, params):
    response = client.get(
        f"/api/ai/workspaces/{workspace.pk}/knowledge/search", params, headers=auth
    )
    error = response.json()["error"]
    assert response.status_code == 422 and error["param"] in {"q", "limit"}


def test_a_search_of_stop_words_finds_nothing(client, workspace, user, auth):
    _source(workspace, user, "Lumen sheet")
    url = f"/api/ai/workspaces/{workspace.pk}/knowledge/search"
    assert client.get(url, {"q": "the and of"}, headers=auth).json() == []


def test_another_users_workspace_is_a_404_and_a_key_is_needed(client, workspace, user, other_auth):
    _source(workspace, user, "Lumen sheet")
    for path in ("knowledge", "knowledge/search?q=battery"):
        url = f"/api/ai/workspaces/{workspace.pk}/{path}"
        assert client.get(url).status_code == 401
        response = client.get(url, headers=other_auth)
        assert response.status_code == 404 and "twelve" not in response.content.decode()
        assert response.json()["error"]["code"] == "not_found"


def test_reviewers_read_and_search(client, workspace, user, other_user, other_auth):
    _source(workspace, user, "Lumen sheet")
    add_member(workspace=workspace, user=other_user, role="reviewer")
    base = f"/api/ai/workspaces/{workspace.pk}/knowledge"
    assert len(client.get(base, headers=other_auth).json()) == 1
    assert client.get(f"{base}/search", {"q": "battery"}, headers=other_auth).json()


def test_the_schema_describes_the_knowledge_endpoints(client):
    paths = client.get("/api/ai/openapi.json").json()["paths"]
    assert "/api/ai/workspaces/{workspace_id}/knowledge" in paths
    assert "/api/ai/workspaces/{workspace_id}/knowledge/search" in paths
    schemas = client.get("/api/ai/openapi.json").json()["components"]["schemas"]
    assert {"enabled", "tags", "sources", "passages", "query"} <= set(
        schemas["KnowledgeIn"]["properties"]
    )
    assert {"grounded", "passages", "unknown_citations"} <= set(
        schemas["GenerationOut"]["properties"]
    )


# --- Grounding a generation through the API ---------------------------------------------

ORBIT = "# Orbit speaker\n\nThe Orbit speaker plays for 12 hours and pairs over Bluetooth.\n"


def _generate(auth, workspace, template, **body):
    return AsyncClient().post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": template.pk, "inputs": {"topic": "battery life"}, "wait": True, **body},
        content_type="application/json",
        headers=auth,
    )


def _sent(route) -> str:
    import json

    return "\n".join(m["content"] for m in json.loads(route.calls.last.request.content)["messages"])


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_lists_the_passages_given_and_flags_unknown_markers(workspace, user, auth):
    from tests.drafts.grounding_helpers import grounded_template

    await sync_to_async(_source)(workspace, user, "Lumen sheet")
    template = await sync_to_async(grounded_template)(workspace, tags=["lumen"])
    route = respx.post(CHAT_URL).mock(
        return_value=sse_response(sse_body(["Twelve hours [1], ", "or more [7]."]))
    )

    response = await _generate(auth, workspace, template)

    body = response.json()
    assert response.status_code == 201, body
    assert "[1] Lumen sheet (v1)" in _sent(route)
    assert body["grounded"] is True and body["unknown_citations"] == [7]
    first = body["passages"][0]
    assert (first["number"], first["source_title"], first["version"]) == (1, "Lumen sheet", 1)
    assert "twelve hours" in first["text"] and first["score"] > 0
    passage = await Passage.objects.select_related("version").aget(pk=first["passage_id"])
    assert first["source_version_id"] == passage.version_id
    polled = await AsyncClient().get(f"/api/ai/generations/{body['id']}", headers=auth)
    assert polled.json()["passages"] == body["passages"]


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_overrides_the_variables_scope(workspace, user, auth):
    from tests.drafts.grounding_helpers import grounded_template

    await sync_to_async(_source)(workspace, user, "Lumen sheet")
    await sync_to_async(_source)(workspace, user, "Orbit sheet", ORBIT, tags=("orbit",))
    template = await sync_to_async(grounded_template)(workspace, tags=["lumen"])
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Twelve [1]."])))

    knowledge = {"tags": ["orbit"], "passages": 1, "query": "how long does it play"}
    response = await _generate(auth, workspace, template, knowledge=knowledge)

    body = response.json()
    assert response.status_code == 201, body
    assert [p["source_title"] for p in body["passages"]] == ["Orbit sheet"]
    assert "[1] Orbit sheet (v1)" in _sent(route) and "Lumen sheet" not in _sent(route)
    by_title = {"sources": ["LUMEN SHEET"], "tags": []}
    again = await _generate(auth, workspace, template, knowledge=by_title)
    assert {p["source_title"] for p in again.json()["passages"]} == {"Lumen sheet"}


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_with_grounding_off_sends_no_sources(workspace, user, auth):
    from tests.drafts.grounding_helpers import grounded_template

    await sync_to_async(_source)(workspace, user, "Lumen sheet")
    template = await sync_to_async(grounded_template)(workspace, tags=["lumen"])
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Long [1]."])))

    response = await _generate(auth, workspace, template, knowledge={"enabled": False})

    body = response.json()
    assert response.status_code == 201, body
    assert "<sources>" not in _sent(route) and "twelve hours" not in _sent(route)
    assert (body["grounded"], body["passages"], body["unknown_citations"]) == (False, [], [])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("knowledge", "status", "param"),
    [
        ({"passages": 21}, 422, "passages"),
        ({"tags": [""]}, 422, "tags"),
        ({"sorted": True}, 422, "sorted"),
    ],
)
async def test_bad_knowledge_is_a_422_naming_it(workspace, user, auth, knowledge, status, param):
    from tests.drafts.grounding_helpers import grounded_template

    template = await sync_to_async(grounded_template)(workspace, tags=["lumen"])
    response = await _generate(auth, workspace, template, knowledge=knowledge)
    assert response.status_code == status
    assert response.json()["error"]["param"] == param


@pytest.mark.django_db(transaction=True)
async def test_knowledge_for_a_template_without_a_knowledge_variable_is_refused(
    workspace, user, auth
):
    from prompts.actions import create_template

    data = {
        "name": "Plain answer",
        "purpose": "docs",
        "system_prompt": "You write.",
        "user_prompt": "Write about {{ topic }}.",
        "variables": [{"name": "topic", "type": "text", "label": "Topic"}],
    }
    template = await sync_to_async(create_template)(workspace=workspace, data=data)
    response = await _generate(auth, workspace, template, knowledge={"tags": ["x"]})
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["param"]) == (
        422,
        "not_grounded",
        "knowledge",
    )
    assert not await Generation.objects.aexists()


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_the_openai_compatible_endpoint_stays_a_pass_through(workspace, user, auth):
    """Sources in the workspace, and a `knowledge` key in the body: the messages go to
    DeepSeek as they were sent, with no sources block."""
    import json

    from tests.conftest import completion

    await sync_to_async(_source)(workspace, user, "Lumen sheet")
    route = respx.post(CHAT_URL).mock(return_value=completion("Fine."))
    messages = [{"role": "user", "content": "How long does the Lumen battery last?"}]

    response = await AsyncClient().post(
        "/api/ai/v1/chat/completions",
        {"messages": messages, "knowledge": {"tags": ["lumen"]}},
        content_type="application/json",
        headers=auth,
    )

    assert response.status_code == 200, response.content
    assert json.loads(route.calls.last.request.content)["messages"] == messages
