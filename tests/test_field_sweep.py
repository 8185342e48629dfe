"""The stored-markup sweep: every user-editable text shown on every page, as every role.

Like the isolation sweep (tests/test_isolation.py), nothing here lists fields or pages by hand:

- Every CharField and TextField of every model of the project's own apps, and every text inside
  their JSON fields (template variables' labels, help, choices and defaults; inputs; messages),
  gets a payload of markup (PAYLOADS); what the real importers (JSON, YAML) and the template
  editor accept is pushed through them too. Model output (generations' text and reasoning,
  draft versions, assistant answers, suggestions) is in those fields.
- Every URL pattern in ``get_resolver()`` is requested by GET as the workspace's owner, editor
  and reviewer (and anonymously, and the admin as a superuser), with the world's object ids
  in its parameters.
- No HTML answer may hold a payload as markup: the raw marker text, or (parsed with
  ``html.parser``) an element carrying an attribute a payload would add. Markdown rendered from
  a payload (model output) must sit inside an ``hx-disable`` region, where htmx acts on nothing.

So that the sweep cannot pass by testing nothing: every project model must have a row in the
world, every pattern that answers GET must answer the owner something other than 404, and the
payload must be seen, escaped, on the workspace, draft and template pages (and rendered from
Markdown on the draft, share, run and assistant pages).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client

from drafts.actions import (
    add_version,
    delete_drafts,
    finish_generation,
    keep_working_copy,
    share_version,
)
from drafts.exports import FORMATS
from drafts.models import Draft, DraftVersion, Generation, ShareLink
from drafts.suggestions import start_suggestion
from prompts.actions import create_template, import_template, move_label, save_brand_voice
from prompts.experiments.actions import cast_vote, create_experiment, start_run
from prompts.experiments.batch_actions import create_batch
from prompts.experiments.batch_progress import save_judge_score
from prompts.knowledge.actions import Upload, add_source, add_source_version
from prompts.knowledge.parsing import Kind, parse
from prompts.knowledge.queueing import start_ingestion
from prompts.management.commands.load_demo_templates import DEMO_FILE
from studio.api.actions import create_api_key
from studio.assistant.models import AssistantMessage
from studio.audit.models import AuditLog
from studio.audit.origin import Origin
from studio.campaigns.actions import add_deliverable, generate_campaign
from studio.campaigns.comments import add_comment
from studio.campaigns.models import Campaign, ChannelRule, ReviewPolicy
from studio.campaigns.review import transition
from studio.workspaces.actions import add_member, create_workspace, invite
from studio.workspaces.models import Invitation, Membership, Workspace
from tests.generating import start_generation
from tests.test_isolation import ROUTES, Route, _body, _ids_from_one

# Markup a user or the model might plant: each would do something if it reached the DOM.
PAYLOADS = [
    '"><b data-x hx-get=/x>',
    "<meta http-equiv=refresh content=0;url=/x>",
    "<span hx-post=/x hx-trigger=load>",
    "[a](javascript:alert(1)) <a href=javascript:alert(1)> **md-x**",
]
PAYLOAD = " ".join(PAYLOADS)  # every payload at once, where a field holds that much
# A variable's label is at most 120 characters (prompts/schema.py): the markup payloads fit.
LABEL = " ".join(PAYLOADS[:3])
# The same with a heading, for every other row of a long text: a draft in sections.
SECTIONED = f"{PAYLOAD}\n\n## **md-x** {PAYLOADS[0]}\n\n{PAYLOAD}"
# Raw text that can only be in an HTML answer if a payload was not escaped.
MARKERS = ["<b data-x", "<meta http-equiv", "<span hx-post=/x", "<a href=javascript"]
SEEN = "&lt;b data-x hx-get=/x&gt;"  # the first payload, escaped: the sweep reached the text
# The text of the one element Markdown makes of a payload (model output is rendered): it must
# be inside an hx-disable region, where htmx acts on nothing (defence in depth).
RENDERED = "md-x"

# Text fields that are not free text: changing them would break the world, not test a page.
KEEP_FIELDS = {
    "drafts.ShareLink.token",  # the share page's URL
    "api.ApiKey.prefix",  # looked up by a key's first characters
    "api.ApiKey.hashed_key",
}
# Keys inside JSON fields whose strings are identifiers, not text shown to people.
KEEP_KEYS = {"name", "type", "role", "model", "thinking", "response_format", "kind"}
# URL names the crawl does not open, and why.
UNCRAWLED = {
    "logout": "it ends the session the crawl runs in",
    "password_reset_confirm": "its parameters are a signed token, not object ids",
}


def _payload_for(field: models.Field, turn: int) -> str | None:
    """All the payloads if the field holds them (in sections on every other row of a text
    field), else one that fits (a different one for each field of a row), else none: the
    field keeps its value."""
    if field.max_length is None:
        return SECTIONED if turn % 2 else PAYLOAD
    if len(PAYLOAD) <= field.max_length:
        return PAYLOAD
    fitting = [p for p in PAYLOADS if len(p) <= field.max_length]
    return fitting[turn % len(fitting)] if fitting else None


def _planted(value: object, key: str = "") -> object:
    """A JSON value with every text in it replaced by the payload (identifiers kept)."""
    if isinstance(value, dict):
        return {k: _planted(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_planted(v, key) for v in value]
    if isinstance(value, str) and key not in KEEP_KEYS:
        return PAYLOAD
    return value


def project_models() -> list[type[models.Model]]:
    """The models of the studio's own apps (a new app or model is swept the day it exists)."""
    root = str(settings.BASE_DIR)
    # A virtualenv may live inside the checkout: its packages are not the studio's apps.
    ours = [c for c in apps.get_app_configs() if c.path.startswith(root)]
    return [m for c in ours if "site-packages" not in c.path for m in c.get_models()]


def _text_fields(model: type[models.Model]) -> Iterator[models.Field]:
    for field in model._meta.concrete_fields:
        label = f"{model._meta.app_label}.{model.__name__}.{field.name}"
        if field.choices or field.unique or label in KEEP_FIELDS:
            continue
        if isinstance(field, models.SlugField):
            continue  # a slug's format is checked; it never holds markup
        if isinstance(field, (models.CharField, models.TextField, models.JSONField)):
            yield field


def plant_everywhere() -> None:
    """Every row of every project model: its texts become payloads (saved without checks,
    as if a bug anywhere let them through)."""
    for model in project_models():
        fields = list(_text_fields(model))
        for row in model._default_manager.all():
            for turn, field in enumerate(fields, start=row.pk):
                current = getattr(row, field.attname)
                if isinstance(field, models.JSONField):
                    setattr(row, field.attname, _planted(current))
                elif (payload := _payload_for(field, turn)) is not None:
                    setattr(row, field.attname, payload)
            if fields:
                model._default_manager.filter(pk=row.pk).update(
                    **{f.attname: getattr(row, f.attname) for f in fields}
                )


def _finish(generation: Generation) -> None:
    finish_generation(
        generation_id=generation.pk, status="done", text="Model text.", reasoning="R.", fields={}
    )


def build_world(owner, editor, reviewer) -> Workspace:
    """One workspace with a row of every model the studio shows (made the way the UI does)."""
    space = create_workspace(name="Team", owner=owner)
    add_member(workspace=space, user=editor, role=Membership.Role.EDITOR)
    add_member(workspace=space, user=reviewer, role=Membership.Role.REVIEWER)
    data = json.loads(DEMO_FILE.read_text("utf-8"))[0]
    template, _, _ = import_template(data=data, workspace=space, user=owner)
    version = template.current_version()
    move_label(template=template, name="staging", version=version, user=owner, note="Why.")
    save_brand_voice(workspace=space, name="Voice", text="Warm.", user=owner)
    inputs = {
        v["name"]: v.get("default") or (v.get("choices") or ["x"])[0] for v in version.variables
    }
    generation = start_generation(workspace=space, version=version, inputs=inputs, user=owner)
    _finish(generation)
    draft = generation.draft
    draft_version = add_version(
        draft_id=draft.pk, text="Draft text.", source="edited", author_id=editor.pk
    )
    share_version(version=draft_version, user=owner)
    keep_working_copy(  # an editing session kept by autosave, offered on the next visit
        draft_id=draft.pk,
        user_id=editor.pk,
        text="Kept.",
        base_number=draft_version.number,
        idle=timedelta(minutes=5),
    )
    for kind in ("formal", "headlines"):
        _finish(
            start_suggestion(
                origin=Origin(), loop=None, draft=draft, user=editor, kind=kind
            ).generation
        )
    for role in ("user", "assistant"):
        AssistantMessage.objects.create(draft=draft, user=owner, role=role, content="Hi.")
    create_api_key(user=owner, name="Key")
    experiment = create_experiment(
        workspace=space,
        name="Experiment",
        user=owner,
        variants=[{"name": "A", "version": version}, {"name": "B", "version": version}],
    )
    run = start_run(origin=Origin(), experiment=experiment, inputs=inputs, user=owner)
    columns = list(run.columns.order_by("position"))
    for column in columns:
        _finish(column.generation)
    cast_vote(run=run, voter=reviewer, choice="variant", winner=columns[0].variant, reason="Y")
    batch = create_batch(experiment=experiment, name="Batch", rows=[(2, inputs)], user=owner)
    batch.rows.update(run=run)
    save_judge_score(batch=batch, output=columns[0], status="done", score=4, reason="Z")
    AuditLog.objects.create(user=owner, workspace=space, status="ok", prompt="P", response="R")
    # Pending invitations: one the reviewer sees (to another workspace), one to a typed name.
    other = create_workspace(name="Other", owner=owner)
    invite(workspace=other, who=reviewer.username, role="editor", invited_by=owner)
    invite(workspace=space, who=PAYLOADS[0], role="reviewer", invited_by=owner)
    # One to an address without an account (its emailed link's page); a workspace of its own:
    # planted, every invitation's sent_to is the same text, one pending per workspace.
    third = create_workspace(name="Third", owner=owner)
    invite(workspace=third, who="new@example.com", role="editor", invited_by=owner)
    # A knowledge source with two versions (its passages: headings and text).
    document = parse(b"# Sheet\n\nLumen text.\n\n## Battery\n\nTwelve hours.", kind=Kind.MARKDOWN)
    source = add_source(
        workspace=space, user=editor, title="Sheet", tags=["lumen"], document=document
    ).source
    add_source_version(source=source, user=owner, document=document)
    # A draft grounded in it: the passages its prompt gave (GroundingPassage), cited as [1].
    grounded = create_template(
        workspace=space,
        data={
            "name": "Grounded",
            "purpose": "docs",
            "system_prompt": "S.",
            "user_prompt": "{{ topic }}",
            "variables": [
                {"name": "topic", "type": "text"},
                {"name": "knowledge", "type": "knowledge", "tags": ["lumen"]},
            ],
        },
    )
    cited = start_generation(
        workspace=space, version=grounded.current_version(), inputs={"topic": "Lumen"}, user=owner
    )
    finish_generation(
        generation_id=cited.pk, status="done", text="Lumen [1].", reasoning="", fields={}
    )
    # Long documents read in the background: one failed (its error shown), one a new version.
    failed = start_ingestion(
        workspace=space, user=editor, upload=Upload(b"# Long", Kind.MARKDOWN, "long.md")
    )
    failed.status, failed.error = "failed", "The document has no text to search."
    failed.save()
    start_ingestion(
        workspace=space,
        user=editor,
        upload=Upload(b"# Long", Kind.MARKDOWN, "v3.md"),
        source=source,
    )
    # A draft in the trash (deleted_at, deleted_by): the trash page shows its title.
    trashed = start_generation(workspace=space, version=version, inputs=inputs, user=editor)
    delete_drafts(drafts=Draft.objects.filter(pk=trashed.draft_id), user=editor)
    # A campaign with a generated deliverable (its draft's text checked on the page) and one
    # not generated yet.
    campaign = Campaign.objects.create(
        workspace=space,
        owner=editor,
        title="Launch",
        notes="N.",
        brand_voice=space.brand_voices.get(),
        knowledge_tags=["t"],
    )
    campaign.knowledge_sources.set(space.knowledge_sources.all())
    add_deliverable(
        campaign=campaign,
        template=template,
        channel="x_post",
        count=2,
        overrides={"product_name": "Lumen"},
    )
    (outcome,) = generate_campaign(campaign=campaign, user=editor, origin=Origin(), loop=None)
    _finish(outcome.generation)
    add_deliverable(campaign=campaign, template=template, channel="sms", count=1, overrides={})
    # Its review: submitted (an activity line), a comment on a selection mentioning a member,
    # a reply, and the workspace's review policy.
    deliverable = outcome.deliverable
    transition(deliverable=deliverable, user=editor, action="submit")
    root = add_comment(
        deliverable=deliverable,
        user=reviewer,
        body=f"@{editor.username} C.",
        quote="Model",
        start=0,
    )
    add_comment(deliverable=deliverable, user=editor, body="R.", parent=root)
    ReviewPolicy.objects.create(workspace=space, no_self_approval=True)
    # A channel's rules overridden in the workspace (the channel rules page).
    ChannelRule.objects.create(workspace=space, channel="x_post", limit=100, max_items=3)
    return space


def import_through_the_forms(editor: Client, space: Workspace) -> None:
    """What the real importers and the template editor accept, with payloads in every text."""
    data = json.loads(DEMO_FILE.read_text("utf-8"))[0]
    texts = {"description": PAYLOAD, "system_prompt": f"{PAYLOAD} {data['system_prompt']}"}
    variables = [v | {"label": LABEL, "help": PAYLOAD} for v in data["variables"]]
    for fmt in ("json", "yaml"):
        planted = data | texts | {"slug": f"imported-{fmt}", "variables": variables}
        upload = SimpleUploadedFile(f"t.{fmt}", json.dumps([planted]).encode())  # JSON is YAML
        editor.post(f"/w/{space.pk}/templates/import/", {"file": upload})
        assert space.templates.filter(slug=f"imported-{fmt}").exists(), f"{fmt} import refused"
    variables = [
        {"name": "topic", "label": LABEL, "help": PAYLOAD, "default": PAYLOAD},
        {"name": "pick", "type": "choice", "label": LABEL, "choices": [PAYLOAD, "b"]},
    ]
    form = {
        "name": "Aaa edited",  # sorts first: the workspace page's default template
        "purpose": "copy",
        "description": PAYLOAD[:300],
        "system_prompt": PAYLOAD,
        "user_prompt": f"{PAYLOAD} {{{{ topic }}}} {{{{ pick }}}}",
        "variables": json.dumps(variables),
        "note": PAYLOADS[0],
    }
    assert editor.post(f"/w/{space.pk}/templates/new/", form).status_code == 302


def _from_payload(name: str, value: str | None) -> bool:
    """Whether an attribute is one a payload would add (the page's own never look so)."""
    value = (value or "").strip()
    return (
        name in {"data-x", "http-equiv"}
        or (name.startswith("hx-") and value == "/x")
        or value.lower().startswith("javascript:")
    )


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _PlantedAttributes(HTMLParser):
    """Attributes a payload added, and rendered payload text outside any hx-disable region."""

    def __init__(self, *, htmx: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.htmx = htmx  # False for a download: a file opened on its own, without htmx
        self.found: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, inside hx-disable) of open elements
        self.rendered = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [f"<{tag} {n}={v!r}>" for n, v in attrs if _from_payload(n, v)]
        if tag not in VOID:
            disabled = bool(self.open and self.open[-1][1]) or "hx-disable" in dict(attrs)
            self.open.append((tag, disabled))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass  # an element the page left open (a <p> or <li>) ends with its parent

    def handle_data(self, data: str) -> None:
        if data == RENDERED and self.open and self.open[-1][0] == "strong":
            self.rendered += 1
            if self.htmx and not self.open[-1][1]:
                self.found.append(f"rendered <strong>{RENDERED}</strong> outside hx-disable")


def _is_html(response) -> bool:
    streaming = getattr(response, "streaming", False)
    return not streaming and response.get("Content-Type", "").startswith("text/html")


def problems(response) -> tuple[list[str], int]:
    """What of a payload an answer holds as markup (nothing for a stream or non-HTML), and
    how often it shows a payload rendered from Markdown."""
    if not _is_html(response):
        _body(response)  # a stream is closed unread: its events are fragments of the pages
        return [], 0
    body = response.content.decode()
    found = [f"raw {marker!r}" for marker in MARKERS if marker in body]
    download = response.get("Content-Disposition", "").startswith("attachment")
    parser = _PlantedAttributes(htmx=not download)
    parser.feed(body)
    return found + parser.found, parser.rendered


@pytest.fixture
def people(db) -> dict[str, object]:
    _ids_from_one()  # the same world ids on PostgreSQL as on SQLite, in any test order
    User = get_user_model()
    names = ("owner", "editor", "reviewer")
    users: dict[str, object] = {name: User.objects.create_user(name) for name in names}
    users["admin"] = User.objects.create_superuser("admin")
    return users


@pytest.fixture
def clients(people) -> dict[str, Client]:
    signed_in = {}
    for name, user in people.items():
        signed_in[name] = Client()
        signed_in[name].force_login(user)
    return signed_in | {"anonymous": Client()}


@pytest.fixture
def world(people, clients, settings) -> Workspace:
    settings.RATELIMIT_ENABLE = False  # thousands of requests: this sweep is about markup
    space = build_world(people["owner"], people["editor"], people["reviewer"])
    plant_everywhere()
    import_through_the_forms(clients["editor"], space)
    return space


def _admin_model(route: Route) -> type[models.Model] | None:
    for model in project_models():
        if route.name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
            return model
    return None


def _choices(route: Route, param: str, space: Workspace, ids: list[int]) -> list[object]:
    """The values a parameter is tried with: the world's ids, or real values of its kind."""
    if route.name.startswith("admin:"):
        model = _admin_model(route)
        if param == "object_id" and model:
            return list(model._default_manager.values_list("pk", flat=True)[:2])
        if param == "app_label":
            return sorted({m._meta.app_label for m in project_models()})
        return []  # Django's own admin pages (users, content types): not the studio's text
    samples: dict[str, list[object]] = {
        "fmt": list(FORMATS),
        # Version numbers count from 1 in each draft: not among the ids once sequences moved.
        "number": sorted(set(DraftVersion.objects.values_list("number", flat=True))),
        "token": list(ShareLink.objects.values_list("token", flat=True))
        + [invitation.token() for invitation in Invitation.objects.pending()],
        # The workspace in the path is always the world's (other workspaces: test_isolation).
        "ws": [space.pk],
        "workspace_id": [space.pk],
    }
    return samples.get(param, ids)


def _urls(route: Route, space: Workspace, ids: list[int]) -> Iterator[str]:
    admin_other = route.name.startswith("admin:") and not _admin_model(route)
    if admin_other and route.params and route.params != ("app_label",):
        return
    choices = [_choices(route, p, space, ids) for p in route.params]
    for values in itertools.product(*choices):
        yield route.url(dict(zip(route.params, values, strict=True)))


def _world_ids() -> list[int]:
    ids: set[int] = set()
    for model in project_models():
        ids |= set(model._default_manager.values_list("pk", flat=True))
    return sorted(ids)


CRAWLED = [r for r in ROUTES if r.name not in UNCRAWLED]
# Pages that must show the payload (escaped), or the sweep planted it where nothing looks.
MUST_SHOW = {
    "workspace",
    "drafts:detail",
    "prompts:detail",
    "knowledge:search",
    "knowledge:source",
    "campaigns:list",
    "campaigns:detail",
    "campaigns:review",
    "knowledge:ingestion",
}
# Pages that must show Markdown rendered from a payload (model output), inside hx-disable.
MUST_RENDER = {"drafts:detail", "drafts:shared", "prompts:run", "assistant:panel"}
# Patterns whose owner gets 404 by design.
NOT_FOUND_BY_DESIGN = {
    "api_ai:api-root": "django-ninja's prefix, there for reverse()",
    "audit:metrics": "404 without METRICS_TOKEN (tests/audit/test_metrics.py)",
}


def test_the_sweep_sees_the_studio():
    names = {r.name for r in CRAWLED}
    assert MUST_SHOW | {"drafts:shared", "prompts:edit", "assistant:panel"} <= names
    assert len(project_models()) >= 20


def test_every_model_has_a_row_holding_a_payload(world):
    """A model with no row in the world would be swept by nothing: give build_world one."""
    for model in project_models():
        rows = model._default_manager.all()
        assert rows.exists(), f"build_world() makes no {model.__name__}: add one"
        fields = [f for f in _text_fields(model) if not isinstance(f, models.JSONField)]
        if any((f.max_length or 999) >= len(PAYLOADS[0]) for f in fields):
            texts = [str(v) for row in rows.values(*[f.name for f in fields]) for v in row.values()]
            assert any(p in t for t in texts for p in PAYLOADS), f"{model.__name__}: no payload"


def _get(client: Client, url: str) -> tuple[object, list[str], int]:
    try:
        response = client.get(url)
    except Exception as error:  # noqa: BLE001 — a crash is a finding like any other
        return None, [f"raised {error!r}"], 0
    return response, *problems(response)


def test_no_page_shows_a_payload_as_markup(world, clients):
    ids = _world_ids()
    found: list[str] = []
    statuses: dict[str, set[int]] = {}
    shown: set[str] = set()
    rendered: set[str] = set()
    for route in CRAWLED:
        admin = route.name.startswith("admin:")
        crawler = clients["admin" if admin else "owner"]
        others = [] if admin else ["editor", "reviewer", "anonymous"]
        for url in _urls(route, world, ids):
            response, trouble, markdown = _get(crawler, url)
            found += [f"GET {url} (owner): {t}" for t in trouble]
            if response is None:
                continue
            if markdown:
                rendered.add(route.name)
            statuses.setdefault(route.name, set()).add(response.status_code)
            if _is_html(response) and SEEN in response.content.decode():
                shown.add(route.name)
            if response.status_code != 200:
                continue  # the other roles see at most what the owner sees
            for role in others:
                found += [f"GET {url} ({role}): {t}" for t in _get(clients[role], url)[1]]

    found = list(dict.fromkeys(found))  # one line per finding, however often it repeats
    assert not found, "payload markup reached a page:\n" + "\n".join(found[:40])
    blind = [
        name
        for name, seen in statuses.items()
        if seen - {405} and not seen - {404, 405} and name not in NOT_FOUND_BY_DESIGN
    ]
    assert not blind, f"the owner got 404 from every URL of {blind}: give the world an object"
    assert shown >= MUST_SHOW, f"the payload was not seen, escaped, on {MUST_SHOW - shown}"
    assert rendered >= MUST_RENDER, f"no Markdown of a payload on {MUST_RENDER - rendered}"


def test_refused_input_is_shown_back_as_text(world, clients):
    """What a form or importer refuses comes back in an error message: as text too."""
    editor, space = clients["editor"], world
    bad = [{"name": PAYLOADS[0], "label": PAYLOAD}]  # not an identifier: refused, and named
    data = json.loads(DEMO_FILE.read_text("utf-8"))[0] | {"slug": "refused", "variables": bad}
    upload = SimpleUploadedFile("t.json", json.dumps([data]).encode())
    form = {"name": "Refused", "purpose": "copy", "system_prompt": "S", "user_prompt": "U"}

    pages = [
        editor.post(f"/w/{space.pk}/templates/new/", form | {"variables": json.dumps(bad)}),
        editor.post(f"/w/{space.pk}/templates/import/", {"file": upload}, follow=True),
    ]

    assert [page.status_code for page in pages] == [200, 400]  # a refused import: 400, shown
    assert [problems(page)[0] for page in pages] == [[], []]
    assert SEEN in pages[0].content.decode()  # the editor shows the variables it refused
    assert not space.templates.filter(slug="refused").exists()
