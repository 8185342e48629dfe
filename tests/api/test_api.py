"""The JSON API: key auth, reads through for_user, generating into drafts, errors, schema."""

import json

import pytest
import respx
from django.test import AsyncClient

from drafts.actions import add_version
from drafts.models import Draft, Generation
from studio.workspaces.models import Membership
from tests.conftest import CHAT_URL, sse_body, sse_response
from tests.generating import start_generation


@pytest.fixture
def draft(workspace, product_template, product_inputs, user):
    generation = start_generation(
        workspace=workspace,
        version=product_template.current_version(),
        inputs=product_inputs,
        user=user,
    )
    Generation.objects.filter(pk=generation.pk).update(status="done", text="Bright light.")
    add_version(
        draft_id=generation.draft_id,
        text="Bright light.",
        source="generated",
        author_id=user.pk,
        generation=generation,
    )
    return Draft.objects.get(pk=generation.draft_id)


def test_no_key_is_a_json_401(client, workspace):
    response = client.get("/api/ai/workspaces")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_wrong_key_is_a_401(client, workspace):
    response = client.get("/api/ai/workspaces", headers={"Authorization": "Bearer dss_nope_x"})

    assert response.status_code == 401


def test_bearer_and_x_api_key_both_work(client, workspace, raw_key):
    for headers in ({"Authorization": f"Bearer {raw_key}"}, {"X-API-Key": raw_key}):
        response = client.get("/api/ai/workspaces", headers=headers)
        assert response.status_code == 200
        assert response.json() == [{"id": workspace.pk, "name": "Marketing", "role": "owner"}]


def test_workspaces_list_only_the_users_own(client, workspace, other_auth):
    assert client.get("/api/ai/workspaces", headers=other_auth).json() == []


def test_templates_list_their_variables(client, workspace, demo_templates, auth):
    response = client.get(f"/api/ai/workspaces/{workspace.pk}/templates", headers=auth)

    product = next(t for t in response.json() if t["slug"] == "product-description")
    assert product["version_id"] and "product_name" in [v["name"] for v in product["variables"]]


def test_drafts_and_a_draft_with_its_versions(client, draft, auth):
    listed = client.get(f"/api/ai/workspaces/{draft.workspace_id}/drafts", headers=auth).json()
    detail = client.get(f"/api/ai/drafts/{draft.pk}", headers=auth).json()

    assert [d["id"] for d in listed] == [draft.pk]
    assert detail["title"] == draft.title
    assert [(v["number"], v["text"]) for v in detail["versions"]] == [(1, "Bright light.")]
    assert detail["generations"][0]["status"] == "done"


def test_another_users_ids_are_404_never_data(client, draft, other_auth):
    generation = draft.generations.get()
    for url in (
        f"/api/ai/drafts/{draft.pk}",
        f"/api/ai/generations/{generation.pk}",
        f"/api/ai/workspaces/{draft.workspace_id}/drafts",
        f"/api/ai/workspaces/{draft.workspace_id}/templates",
    ):
        response = client.get(url, headers=other_auth)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
        assert "Bright light" not in response.content.decode()


def test_a_reviewer_may_read_but_not_generate(
    client, draft, other_user, other_auth, product_template, product_inputs
):
    Membership.objects.create(workspace=draft.workspace, user=other_user, role="reviewer")

    read = client.get(f"/api/ai/drafts/{draft.pk}", headers=other_auth)
    body = {"template": product_template.pk, "inputs": product_inputs}
    write = client.post(
        f"/api/ai/workspaces/{draft.workspace_id}/drafts",
        body,
        content_type="application/json",
        headers=other_auth,
    )

    assert read.status_code == 200
    assert write.status_code == 403 and "(Reviewer)" in write.json()["error"]["message"]


def test_invalid_inputs_name_the_fields(client, workspace, product_template, auth):
    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": {"product_name": "Lamp"}},
        content_type="application/json",
        headers=auth,
    )

    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "invalid_inputs"
    assert "features" in error["message"]
    assert not Draft.objects.exists()


def test_malformed_body_is_a_422_naming_the_field(client, workspace, auth):
    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"inputs": {}},
        content_type="application/json",
        headers=auth,
    )

    assert response.status_code == 422 and "template" in response.json()["error"]["message"]


def test_unknown_template_is_a_404(client, workspace, auth):
    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": 999999},
        content_type="application/json",
        headers=auth,
    )

    assert response.status_code == 404 and response.json()["error"]["param"] == "template"


def test_a_blocked_prompt_is_refused_before_a_draft_exists(
    client, workspace, product_template, product_inputs, auth
):
    inputs = {**product_inputs, "features": "key sk-abcdefghijklmnopqrstuvwx"}
    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": inputs},
        content_type="application/json",
        headers=auth,
    )

    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "prompt_blocked"
    assert "an API secret key (sk-…)" in error["message"]
    assert "abcdefghijkl" not in error["message"]
    assert not Draft.objects.exists()


@pytest.mark.parametrize(
    ("features", "code", "reason"),
    [
        ("<script>alert(1)</script>", "prompt_blocked", "a <script> tag"),
        ("Warm light. " * 30, "prompt_too_long", "the limit is 500"),
    ],
    ids=["blocked", "too-long"],
)
def test_a_prompt_that_may_not_be_sent_is_a_400_and_nothing_is_created(
    client, workspace, product_template, product_inputs, auth, settings, features, code, reason
):
    """The same checks as the studio's form: named in the error, before any draft or call."""
    settings.PROMPT_MAX_CHARS = 500  # the template's prompt fits, with these features it does not
    with respx.mock(assert_all_called=False) as upstream:
        route = upstream.post(CHAT_URL).mock(return_value=sse_response(sse_body(["No."])))
        response = client.post(
            f"/api/ai/workspaces/{workspace.pk}/drafts",
            {"template": product_template.pk, "inputs": {**product_inputs, "features": features}},
            content_type="application/json",
            headers=auth,
        )

    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == code and reason in error["message"]
    assert error["param"] == "inputs"  # what the caller sent, not the messages built from it
    assert not route.called and not Draft.objects.exists() and not Generation.objects.exists()


def test_openapi_schema_is_served_and_describes_the_api(client):
    response = client.get("/api/ai/openapi.json")

    schema = response.json()
    assert response.status_code == 200 and schema["openapi"].startswith("3.")
    assert "/api/ai/v1/chat/completions" in schema["paths"]
    assert "/api/ai/workspaces/{workspace_id}/drafts" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_and_wait_returns_the_finished_draft(
    workspace, product_template, product_inputs, auth
):
    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Warm ", "light."])))
    client = AsyncClient()

    response = await client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs, "wait": True},
        content_type="application/json",
        headers=auth,
    )

    body = response.json()
    assert response.status_code == 201, body
    assert body["status"] == "done" and body["text"] == "Warm light."
    draft = await Draft.objects.aget(pk=body["draft_id"])
    assert await draft.versions.filter(number=1, text="Warm light.").aexists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("finish", ["length", "stop"])
@respx.mock
async def test_a_generation_says_its_max_tokens_and_whether_the_answer_was_cut(
    workspace, product_template, product_inputs, auth, finish
):
    route = respx.post(CHAT_URL).mock(
        return_value=sse_response(sse_body(["Warm light, and"], finish=finish))
    )

    response = await AsyncClient().post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs, "wait": True},
        content_type="application/json",
        headers=auth,
    )

    body = response.json()
    sent = json.loads(route.calls.last.request.content)["max_tokens"]
    assert response.status_code == 201, body
    assert (body["finish_reason"], body["max_tokens"]) == (finish, sent)
    assert body["cut_at_length"] is (finish == "length")
    polled = await AsyncClient().get(f"/api/ai/generations/{body['id']}", headers=auth)
    assert (polled.json()["max_tokens"], polled.json()["cut_at_length"]) == (
        sent,
        finish == "length",
    )


# upstream status, its message and headers -> the API's status, code, Retry-After
FAILED_WAITS = [
    (401, "Authentication Fails", {}, 424, "upstream_auth_failed", None),
    (402, "Insufficient Balance", {}, 402, "insufficient_quota", None),
    (400, "This model's maximum context length is 131072 tokens.", {}, 400, "BadRequest", None),
    (429, "Rate Limit Reached", {"Retry-After": "2"}, 429, "RateLimited", "2"),
    (429, "Rate Limit Reached", {}, 429, "RateLimited", "5"),
    (500, "Internal Server Error", {}, 503, "Overloaded", "5"),
]  # fmt: skip


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("upstream", "message", "headers", "status", "code", "retry"), FAILED_WAITS
)
@respx.mock
async def test_generate_and_wait_for_a_failed_generation_answers_the_failure(
    workspace, product_template, product_inputs, auth, settings,
    upstream, message, headers, status, code, retry,
):  # fmt: skip
    """Never 201 for a generation without its answer: the status the failure gets on the
    OpenAI-compatible endpoint (docs/api.md, "Errors"), naming the generation and its draft."""
    import httpx

    settings.DEEPSEEK_RETRY_ATTEMPTS = 1
    body = {"error": {"message": message, "type": "x"}}
    respx.post(CHAT_URL).mock(return_value=httpx.Response(upstream, json=body, headers=headers))

    response = await AsyncClient().post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs, "wait": True},
        content_type="application/json",
        headers=auth,
    )

    error = response.json()["error"]
    assert (response.status_code, error["code"], response.get("Retry-After")) == (
        status,
        code,
        retry,
    )
    generation = await Generation.objects.aget()
    assert generation.status == "failed"
    assert f"Generation {generation.pk} did not finish" in error["message"]
    assert f"draft {generation.draft_id}" in error["message"]
    assert "DEEPSEEK_" not in error["message"]


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_and_wait_over_the_daily_budget_answers_429(
    workspace, product_template, product_inputs, auth, settings, monkeypatch
):
    """The view's check let it through, the reservation did not (calls meanwhile): the
    generate action holds the tokens for the runner it launches (decision 16)."""
    from drafts import generate
    from studio.guardrails.budgets import BudgetExceeded

    def refused(*args, **kwargs):
        raise BudgetExceeded(used=100, budget=100, retry_after=60)

    monkeypatch.setattr(generate, "reserve_tokens", refused)
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["No."])))

    response = await AsyncClient().post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs, "wait": True},
        content_type="application/json",
        headers=auth,
    )

    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (429, "daily_budget_exceeded")
    assert int(response["Retry-After"]) >= 1 and route.call_count == 0


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_without_wait_is_202_then_pollable(
    workspace, product_template, product_inputs, auth
):
    from drafts import generation as runner

    respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Done."])))
    client = AsyncClient()

    response = await client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs},
        content_type="application/json",
        headers=auth,
    )

    body = response.json()
    assert response.status_code == 202 and body["status"] == "queued"
    task = runner.task_for(body["id"])
    if task is not None:
        await task
    polled = await client.get(f"/api/ai/generations/{body['id']}", headers=auth)
    assert polled.json()["status"] == "done" and polled.json()["text"] == "Done."


def _templates_with_versions(workspace, count: int) -> dict[str, int | None]:
    """``count`` templates: three versions each, every other one labelled production at v1,
    plus one without any version; the expected current version id by slug."""
    from prompts.models import PRODUCTION, Label, PromptTemplate, TemplateVersion

    expected: dict[str, int | None] = {}
    for index in range(count):
        template = PromptTemplate.objects.create(
            workspace=workspace, slug=f"t{index}", name=f"T{index}", purpose="copy"
        )
        versions = [
            TemplateVersion.objects.create(
                template=template,
                number=number,
                system_prompt="s",
                user_prompt="u {{ x }}",
                variables=[{"name": f"x{number}"}],
            )
            for number in (1, 2, 3)
        ]
        if index % 2:
            Label.objects.create(template=template, name=PRODUCTION, version=versions[0])
        expected[template.slug] = versions[0 if index % 2 else -1].pk
    PromptTemplate.objects.create(workspace=workspace, slug="empty", name="E", purpose="copy")
    expected["empty"] = None
    return expected


def test_templates_list_in_a_constant_number_of_queries(
    client, workspace, auth, django_assert_max_num_queries
):
    """Each template's current version (production label, else newest) without a query per
    template."""
    expected = _templates_with_versions(workspace, 8)

    with django_assert_max_num_queries(5):
        response = client.get(f"/api/ai/workspaces/{workspace.pk}/templates", headers=auth)

    listed = {t["slug"]: t for t in response.json()}
    assert {slug: t["version_id"] for slug, t in listed.items()} == expected
    assert listed["t1"]["variables"] == [{"name": "x1"}]
    assert listed["t2"]["variables"] == [{"name": "x3"}]
    assert listed["empty"]["variables"] == []


@pytest.fixture
def staged(workspace, product_template, user):
    """The product template in the workspace: production at v1, staging at v2."""
    from prompts.actions import duplicate_template, move_label, save_version

    template = duplicate_template(template=product_template, workspace=workspace, user=user)
    v1 = template.current_version()
    data = {f: getattr(v1, f) for f in ("system_prompt", "variables", "model", "temperature")}
    save_version(template=template, data=data | {"user_prompt": v1.user_prompt + "\nP.S."})
    move_label(template=template, name="production", version=v1, user=user)
    move_label(template=template, name="staging", version=template.latest_version(), user=user)
    return template


@pytest.mark.parametrize("label, number", [(None, 1), ("production", 1), ("staging", 2)])
def test_generate_uses_the_version_the_label_points_at(
    client, workspace, staged, product_inputs, auth, monkeypatch, label, number
):
    from drafts import generation as runner

    monkeypatch.setattr(runner, "launch", lambda generation_id: None)
    payload = {"template": staged.pk, "inputs": product_inputs}
    if label:
        payload["label"] = label

    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        payload,
        content_type="application/json",
        headers=auth,
    )

    assert response.status_code == 202, response.json()
    generation = Generation.objects.get(pk=response.json()["id"])
    expected = staged.versions.get(number=number)
    assert generation.template_version == expected
    assert generation.draft.template_version == expected


def test_generate_with_an_unknown_label_is_a_clear_422(
    client, workspace, staged, product_inputs, auth
):
    response = client.post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": staged.pk, "inputs": product_inputs, "label": "canary"},
        content_type="application/json",
        headers=auth,
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("unknown_label", "label")
    assert "no label 'canary'" in error["message"] and "production, staging" in error["message"]
    assert not Generation.objects.exists()


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_reuses_an_identical_answer_when_asked(
    workspace, product_template, product_inputs, auth
):
    route = respx.post(CHAT_URL).mock(return_value=sse_response(sse_body(["Kept."])))
    client = AsyncClient()

    async def generate(cache: str) -> dict:
        response = await client.post(
            f"/api/ai/workspaces/{workspace.pk}/drafts",
            {"template": product_template.pk, "inputs": product_inputs, "wait": True},
            content_type="application/json",
            headers=auth | {"X-Studio-Cache": cache},
        )
        assert response.status_code == 201, response.json()
        return response.json()

    first, reused, fresh = (
        await generate("reuse"),
        await generate("reuse"),
        await generate("bypass"),
    )

    assert route.call_count == 2  # the template runs at 1.3: only "reuse" made it cacheable
    assert [g["cached"] for g in (first, reused, fresh)] == [False, True, False]
    assert reused["text"] == "Kept." and reused["completion_tokens"] == 0


@pytest.mark.django_db(transaction=True)
@respx.mock
async def test_generate_and_wait_with_a_template_model_the_upstream_refuses_is_a_404(
    workspace, product_template, product_inputs, auth, settings
):
    """Not a 201 with a failed generation, nor "try again later": the model is unknown."""
    import httpx

    settings.DEEPSEEK_RETRY_ATTEMPTS = 1
    body = {"error": {"message": "Model Not Exist", "type": "invalid_request_error"}}
    respx.post(CHAT_URL).mock(return_value=httpx.Response(400, json=body))
    models = {"object": "list", "data": [{"id": "deepseek-v4-pro"}]}
    respx.get(CHAT_URL.replace("chat/completions", "models")).mock(
        return_value=httpx.Response(200, json=models)
    )

    response = await AsyncClient().post(
        f"/api/ai/workspaces/{workspace.pk}/drafts",
        {"template": product_template.pk, "inputs": product_inputs, "wait": True},
        content_type="application/json",
        headers=auth,
    )

    error = response.json()["error"]
    assert response.status_code == 404 and error["code"] == "model_not_found"
    generation = await Generation.objects.aget()
    assert generation.model in error["message"] and "does not exist" in error["message"]
    assert "again later" not in error["message"] and "Retry-After" not in response
