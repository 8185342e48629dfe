"""The JSON API's knowledge reads: a workspace's sources (paged, archived on request) and a
search of their passages; scoped to the key's user, errors in the API's envelope."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from prompts.knowledge.actions import add_source
from prompts.knowledge.parsing import Kind, parse
from studio.workspaces.actions import add_member

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
