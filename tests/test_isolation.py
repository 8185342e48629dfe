"""The isolation sweep: every URL pattern in the URLconf, checked with a second user.

The patterns are read from ``get_resolver()``, so a new URL is covered the day it is added:

- A pattern with parameters (object ids) is requested by a second user, with every id of the
  first user's objects in every parameter, by GET and by POST: the answer must be 404 (or 405
  for the wrong method; the admin's login redirect for a non-staff user) and never contain the
  first user's text. So that the sweep cannot pass by pointing at nothing, the first user must
  get something other than 404 from every such pattern that answers GET.
- A pattern without parameters must require a login (a redirect to the login page, or 401 for
  the key-authenticated API) for an anonymous visitor.

PUBLIC lists the few URLs meant for everyone; nothing else may be reachable without a login.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from drafts.actions import add_version, share_version
from drafts.models import Generation
from prompts.actions import import_template, save_brand_voice
from prompts.experiments.actions import create_experiment, start_run
from prompts.experiments.batch_actions import create_batch
from prompts.knowledge.actions import Upload, add_source
from prompts.knowledge.parsing import Kind, parse
from prompts.knowledge.queueing import start_ingestion
from prompts.management.commands.load_demo_templates import DEMO_FILE
from studio.api.actions import create_api_key
from studio.api.models import ApiKey
from studio.audit.origin import Origin
from studio.campaigns.actions import add_deliverable
from studio.campaigns.comments import add_comment
from studio.campaigns.models import Campaign
from studio.workspaces.actions import create_workspace, invite
from tests.generating import start_generation

SECRET = "Isolation-canary-7f3a"

# URL names anyone may open without logging in, and why.
PUBLIC = {
    "login",  # the way in
    "password_reset",  # "Forgot password?" and the pages after it: for people not signed in
    "password_reset_done",
    "password_reset_confirm",  # a signed token in the URL is the permission
    "password_reset_complete",
    "logout",  # harmless without a session
    "set_language",  # the language switcher on the login page
    "healthz",  # load balancer probes
    "audit:live",
    "audit:ready",
    "audit:metrics",  # guarded by METRICS_TOKEN instead (tests/audit/test_metrics.py)
    "api_ai:openapi-json",  # the API's published schema
    "drafts:shared",  # share links: a secret token in the URL is the permission
    "invitation_join",  # an emailed invitation: its signed token is the permission
    "admin:login",  # the admin's own way in
    "api_ai:api-root",  # django-ninja's prefix, there for reverse(); it answers 404
}
NOWHERE = 999_999_999  # an id no object has: the answer another user's ids must look like
# Parameters that are not object ids get a real value of their kind.
SAMPLES = {"fmt": ["md"], "channel": ["sms"]}


@dataclass(frozen=True)
class Route:
    template: str  # "drafts/<int:pk>/v/<int:number>/" (regex patterns simplified)
    name: str
    params: tuple[str, ...]

    def url(self, values: dict[str, object]) -> str:
        path = self.template
        for name in self.params:
            path = re.sub(rf"<(?:\w+:)?{name}>", str(values[name]), path)
        return "/" + path


def _regex_to_route(regex: str) -> str:
    """Admin's regex patterns as route syntax: ``^(?P<app_label>auth|x)/$`` → ``<app_label>/``."""
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", regex).lstrip("^").rstrip("$").replace("\\", "")


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        text = str(pattern.pattern)
        text = _regex_to_route(text) if text.startswith("^") or "(?P<" in text else text
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + text, ns)
        elif isinstance(pattern, URLPattern):
            template = prefix + text
            params = tuple(re.findall(r"<(?:\w+:)?(\w+)>", template))
            yield Route(template, f"{namespace}{pattern.name or template}", params)


ROUTES = sorted(set(_walk(get_resolver().url_patterns)), key=lambda r: (r.template, r.name))
WITH_IDS = [r for r in ROUTES if r.params and r.name not in PUBLIC]
WITHOUT_IDS = [r for r in ROUTES if not r.params and r.name not in PUBLIC]
# The admin's many patterns are checked together (one fixture set-up, one test): the whole
# admin is for staff, so another user gets its login page wherever they guess.
ADMIN_WITH_IDS = [r for r in WITH_IDS if r.name.startswith("admin:")]
STUDIO_WITH_IDS = [r for r in WITH_IDS if not r.name.startswith("admin:")]


@pytest.fixture
def user(db):
    """The owner (no password: these clients log in directly, and hashing is slow)."""
    _ids_from_one()
    return get_user_model().objects.create_user("hamlet")


def _ids_from_one() -> None:
    """Every empty table's ids start at 1 again, so the world's ids are the same numbers on
    both databases and in any test order. SQLite reuses ids after a rolled-back test;
    PostgreSQL's sequences never go back, so its world was up to ~20 different numbers that
    depended on how many tests the worker ran first, and a URL with two ids tried the square
    of that (the sweeps' PostgreSQL time varied from seconds to minutes). Every object's id
    is still tried in every place of every URL. ``setval`` to the table's largest id (Django's
    ``sqlsequencereset``), so rows kept from migrations are never collided with."""
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("cordelia")


@pytest.fixture
def world(user, settings):
    """The first user's objects of every kind that has a URL; their ids are the guesses."""
    settings.RATELIMIT_ENABLE = False  # this sweep is about access, not request rates
    space = create_workspace(name=f"Team {SECRET}", owner=user)
    data = json.loads(DEMO_FILE.read_text("utf-8"))[0]
    template, _, _ = import_template(data=data, workspace=space, user=user)
    voice = save_brand_voice(workspace=space, name=f"Voice {SECRET}", text=SECRET, user=user).voice
    version = template.current_version()
    inputs = {
        v["name"]: v.get("default") or (v.get("choices") or ["x"])[0] for v in version.variables
    }
    generation = start_generation(workspace=space, version=version, inputs=inputs, user=user)
    Generation.objects.filter(pk=generation.pk).update(status="done", text=SECRET)
    draft_version = add_version(
        draft_id=generation.draft_id,
        text=f"Draft {SECRET}",
        source="generated",
        author_id=user.pk,
        generation=generation,
    )
    share = share_version(version=draft_version, user=user)
    key, _ = create_api_key(user=user, name=f"Key {SECRET}")
    experiment = create_experiment(
        workspace=space,
        name=f"Experiment {SECRET}",
        user=user,
        variants=[
            {"name": f"Variant {SECRET}", "version": version},
            {"name": "B", "version": version},
        ],
    )
    column = start_run(
        origin=Origin(), experiment=experiment, inputs=inputs, user=user
    ).columns.first()
    rows = [(2, inputs)]
    batch = create_batch(experiment=experiment, name=f"Batch {SECRET}", rows=rows, user=user)
    invitee = get_user_model().objects.create_user("ophelia")
    invitation = invite(workspace=space, who=invitee.username, role="owner", invited_by=user)
    document = parse(f"# Sheet\n\n{SECRET}".encode(), kind=Kind.MARKDOWN)
    knowledge = add_source(
        workspace=space, user=user, title=f"Source {SECRET}", tags=[], document=document
    )
    campaign = Campaign.objects.create(
        workspace=space, owner=user, title=f"Campaign {SECRET}", product=SECRET
    )
    deliverable = add_deliverable(
        campaign=campaign, template=template, channel="email", count=1, overrides={}
    )
    comment = add_comment(deliverable=deliverable, user=user, body=f"Comment {SECRET}")
    # A long document the background worker has yet to read (its progress page).
    ingestion = start_ingestion(
        workspace=space,
        user=user,
        upload=Upload(f"# {SECRET}".encode(), Kind.MARKDOWN, f"{SECRET}.md"),
        title=f"Long {SECRET}",
    )
    ids = {
        space.pk,
        template.pk,
        version.pk,
        voice.pk,
        generation.pk,
        generation.draft_id,
        draft_version.pk,
        draft_version.number,
        share.pk,
        key.pk,
        experiment.pk,
        column.run_id,
        column.pk,
        batch.pk,
        invitation.pk,
        knowledge.source_id,
        knowledge.pk,
        knowledge.passages.get().pk,
        campaign.pk,
        deliverable.pk,
        comment.pk,
        ingestion.pk,
    }
    return sorted(ids)


@pytest.fixture
def intruder(other_user) -> Client:
    """The second user, signed in, with an API key whose id no guess can hit."""
    key, raw = create_api_key(user=other_user, name="intruder")
    ApiKey.objects.filter(pk=key.pk).update(id=10**9)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    client.force_login(other_user)
    return client


@pytest.fixture
def owner(user) -> Client:
    client = Client(headers={"Authorization": f"Bearer {create_api_key(user=user, name='o')[1]}"})
    client.force_login(user)
    return client


def _combinations(route: Route, ids: list[int]) -> Iterator[dict[str, object]]:
    choices = [SAMPLES.get(name, ids) for name in route.params]
    for values in itertools.product(*choices):
        yield dict(zip(route.params, values, strict=True))


def _body(response) -> str:
    if getattr(response, "streaming", False):
        # Never follow a stream; the status says enough. Closing it sends request_finished,
        # so keep Django from closing the test's connection mid-transaction, as the test
        # client itself does when a stream is read to the end.
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        return ""
    return response.content.decode(errors="replace")


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "login" in response.get("Location", "")


def test_the_sweep_sees_the_studio():
    names = {r.name for r in ROUTES}
    assert {"drafts:detail", "workspace", "api_ai:draft", "api:revoke"} <= names
    assert len(WITH_IDS) >= 10


@pytest.mark.parametrize("route", STUDIO_WITH_IDS, ids=lambda r: r.name)
def test_another_users_ids_are_404(route, world, intruder, owner):
    _sweep(route, world, intruder, owner)


def test_the_admin_shows_another_user_only_its_login(world, intruder, owner):
    assert ADMIN_WITH_IDS
    for route in ADMIN_WITH_IDS:
        _sweep(route, world, intruder, owner)


def _sweep(route: Route, world: list[int], intruder: Client, owner: Client) -> None:
    owner_found = False
    owner_answers_get = False
    nowhere = route.url({name: SAMPLES.get(name, [NOWHERE])[0] for name in route.params})
    baseline = {m: getattr(intruder, m)(nowhere).status_code for m in ("get", "post")}
    for values in _combinations(route, world):
        url = route.url(values)
        for method in ("get", "post"):
            response = getattr(intruder, method)(url)
            body = _body(response)
            # 404/405, or (an empty POST to the API) the same 400/422 a missing id gets:
            # either way the answer does not reveal that the object exists.
            allowed = (
                response.status_code in (404, 405)
                or (response.status_code in (400, 422) and response.status_code == baseline[method])
                or (route.name.startswith("admin:") and _is_login_redirect(response))
            )
            assert allowed, f"{method.upper()} {url} gave {response.status_code} to another user"
            assert SECRET not in body, f"{method.upper()} {url} leaked data to another user"
        answer = owner.get(url)
        _body(answer)
        owner_answers_get |= answer.status_code != 405
        owner_found |= answer.status_code not in (404, 405)
    if owner_answers_get and not route.name.startswith("admin:"):
        assert owner_found, (
            f"{route.template}: the owner got 404 for every id, so this sweep proves nothing; "
            "give the `world` fixture an object this URL can show"
        )


@pytest.mark.parametrize("route", WITHOUT_IDS, ids=lambda r: r.name)
def test_pages_without_ids_require_a_login(route, client, settings):
    settings.RATELIMIT_ENABLE = False
    url = route.url({})
    statuses = []
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        _body(response)
        guarded = _is_login_redirect(response) or response.status_code in (401, 405)
        assert guarded, f"anonymous {method.upper()} {url} gave {response.status_code}"
        statuses.append(response.status_code)
    assert statuses != [405, 405], f"{url} answers no method"


def test_a_valid_generate_body_for_another_users_workspace_is_404(
    world, intruder, owner, user, monkeypatch
):
    """The sweep POSTs empty bodies, which the API refuses (422) before it looks anything up;
    a valid body must reach the ownership check and still create nothing."""
    import respx

    from drafts import generation as runner
    from drafts.models import Draft
    from prompts.models import PromptTemplate
    from studio.workspaces.models import Workspace
    from tests.conftest import CHAT_URL, sse_body, sse_response

    monkeypatch.setattr(runner, "launch", lambda generation_id: None)  # the owner's is not run
    space = Workspace.objects.for_user(user).get()
    template = PromptTemplate.objects.filter(workspace=space).get()
    version = template.current_version()
    inputs = {
        v["name"]: v.get("default") or (v.get("choices") or ["x"])[0] for v in version.variables
    }
    url, body = f"/api/ai/workspaces/{space.pk}/drafts", {"template": template.pk, "inputs": inputs}
    drafts, generations = Draft.objects.count(), Generation.objects.count()

    with respx.mock(assert_all_called=False) as upstream:
        route = upstream.post(CHAT_URL).mock(return_value=sse_response(sse_body(["x"])))
        response = intruder.post(url, body, content_type="application/json")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert SECRET not in response.content.decode() and not route.called
    assert (Draft.objects.count(), Generation.objects.count()) == (drafts, generations)
    # The same body is valid: its owner starts a generation with it.
    assert owner.post(url, body, content_type="application/json").status_code == 202


def test_a_valid_campaign_body_for_another_users_workspace_is_404(world, intruder, owner, user):
    """As for generate: a valid brief must reach the ownership check and create nothing."""
    from studio.campaigns.models import Deliverable
    from studio.workspaces.models import Workspace

    space = Workspace.objects.for_user(user).get()
    template = Deliverable.objects.get(campaign__workspace=space).template_version.template_id
    url = f"/api/ai/workspaces/{space.pk}/campaigns"
    body = {
        "title": "Intruder's launch",
        "product": "Lamp",
        "notes": "Warm light",
        "deliverables": [{"template": template, "channel": "email"}],
    }

    response = intruder.post(url, body, content_type="application/json")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert SECRET not in response.content.decode()
    assert Campaign.objects.count() == 1
    # The same body is valid: its owner creates a campaign with it.
    created = owner.post(url, body, content_type="application/json")
    assert created.status_code == 201, created.content
