"""Reads only read: every URL pattern that answers GET, requested by its owner, runs no INSERT,
UPDATE or DELETE — also over a world with a generation whose runner is gone (an orphan), one
that another worker runs, a sectioned draft and suggestions in both states, and experiment
columns nobody runs.

The patterns come from ``get_resolver()`` (``tests/test_isolation.py``), so a GET view added
tomorrow is crawled tomorrow; each one must find something to show (not 404 for every id), so
the crawl cannot pass by pointing at nothing. Lost generations are settled by the sweeper
(``drafts.sweeper``), never by a page. The statements every database connection runs during a
request are watched with ``connection.execute_wrapper``; ALLOWED lists, with the reason, the
only writes a GET may make.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from asgiref.sync import SyncToAsync
from django.core.cache import cache
from django.db import connections
from django.db.backends.signals import connection_created
from django.test import Client
from django.utils import timezone

from drafts import generation as runner
from drafts.actions import add_version
from drafts.models import Draft, Generation, ShareLink, Suggestion
from drafts.suggestions import start_suggestion
from prompts.experiments.models import ExperimentRun
from prompts.models import PromptTemplate
from studio.audit.origin import Origin
from studio.workspaces.actions import invite
from studio.workspaces.models import Workspace
from tests.generating import start_generation
from tests.test_isolation import ROUTES, Route, owner, user, world  # noqa: F401, F811

WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# The only writes a GET may make, and why.
ALLOWED = {
    # An API key's "last used" (at most once a minute per key, ApiKey.touch): authentication
    # bookkeeping its owner reads on the keys page, like a session's last login; not app data.
    re.compile(r'UPDATE "api_apikey" SET "last_used" = '),
}
SECTIONED = "# Aurora lamp\n\nIntro.\n\n## Light\n\nWarm light.\n\n## Sound\n\nQuiet.\n"
LONG_AGO = timedelta(seconds=runner.HEARTBEAT_TTL + 60)
# Parameters that only ever hold one kind of value get only those (the rest: every id).
KINDS = {"fmt": ["md", "html", "docx"], "number": [1, 2]}


@pytest.fixture
def reads_world(world, user, settings) -> dict[str, list]:  # noqa: F811
    """``tests/test_isolation.py``'s world, plus generations in every state a page can meet."""
    settings.RATELIMIT_ENABLE = False
    # No Redis relay: following another worker's generation would stream heartbeats for as
    # long as it runs; without it, the watcher of one gets its final event (empty) at once.
    settings.REDIS_URL = ""
    space = Workspace.objects.for_user(user).get()
    version = PromptTemplate.objects.filter(workspace=space).get().current_version()
    inputs = {
        v["name"]: v.get("default") or (v.get("choices") or ["x"])[0] for v in version.variables
    }

    def generation(**fields) -> Generation:
        made = start_generation(workspace=space, version=version, inputs=inputs, user=user)
        Generation.objects.filter(pk=made.pk).update(created=timezone.now() - LONG_AGO, **fields)
        return made

    lost = generation(status="running", text="Lost half-way")  # a crashed worker's: an orphan
    elsewhere = generation(status="running", text="Still going")  # another worker runs it
    cache.set(runner.alive_key(elsewhere.pk), 1, 3600)
    sectioned = Draft.objects.get(pk=generation(status="done").draft_id)
    for text in (SECTIONED, SECTIONED + "\n## Price\n\nFair.\n"):
        add_version(draft_id=sectioned.pk, text=text, source="edited", author_id=user.pk)
    section_lost = start_suggestion(
        origin=Origin(), loop=None, draft=sectioned, user=user, kind="regenerate", section_index=1
    )
    rewrite_running = start_suggestion(
        origin=Origin(), loop=None, draft=sectioned, user=user, kind="shorter"
    )
    for suggestion in (section_lost, rewrite_running):
        Generation.objects.filter(pk=suggestion.generation_id).update(
            status="running", text="Half", created=timezone.now() - LONG_AGO
        )
    cache.set(runner.alive_key(rewrite_running.generation_id), 1, 3600)
    Generation.objects.filter(variant_run__isnull=False).update(created=timezone.now() - LONG_AGO)
    assert Generation.objects.filter(variant_run__isnull=False, status="queued").exists()
    active = set(Generation.objects.filter(status__in=Generation.ACTIVE).values_list("pk"))
    assert {(lost.pk,), (section_lost.generation_id,)} <= active
    new = [
        lost.pk,
        lost.draft_id,
        elsewhere.pk,
        elsewhere.draft_id,
        sectioned.pk,
        section_lost.pk,
        rewrite_running.pk,
    ]
    invitation = invite(workspace=space, who="newcomer@example.com", role="editor", invited_by=user)
    return {
        "ids": sorted(set(world) | set(new)),
        "workspaces": [space.pk],
        "drafts": [lost.draft_id, elsewhere.draft_id, sectioned.pk],
        # Share links' and emailed invitations' (each route finds its own kind).
        "token": [*ShareLink.objects.values_list("token", flat=True), invitation.token()],
    }


@contextmanager
def watching_writes(writes: list[str]) -> Iterator[None]:
    """Every INSERT/UPDATE/DELETE meanwhile goes into ``writes`` (unless ALLOWED): on this
    thread's connections, on asgiref's single thread's (where the test client runs a view's
    ``sync_to_async`` code) and on any connection opened meanwhile, in whatever thread."""

    def watch(execute, sql, params, many, context):
        if WRITE.match(sql) and not any(allowed.match(sql) for allowed in ALLOWED):
            writes.append(sql)
        return execute(sql, params, many, context)

    watched = []

    def add(connection) -> None:
        connection.execute_wrappers.append(watch)
        watched.append(connection)

    def add_all() -> None:
        for connection in connections.all():
            add(connection)

    def add_new(sender, connection, **kwargs) -> None:
        if connection not in watched:
            add(connection)

    add_all()
    SyncToAsync.single_thread_executor.submit(add_all).result(timeout=10)
    connection_created.connect(add_new)
    try:
        yield
    finally:
        connection_created.disconnect(add_new)
        for connection in watched:
            if watch in connection.execute_wrappers:
                connection.execute_wrappers.remove(watch)


def _read(response) -> int:
    """The status, with a stream read to its end (it may write as it goes)."""
    if getattr(response, "streaming", False):
        with warnings.catch_warnings():  # a sync client reads an async stream: it says so
            warnings.simplefilter("ignore")
            b"".join(response)
    response.close()
    return response.status_code


def _urls(route: Route, found: dict[str, list[int]]) -> Iterator[str]:
    def values(name: str) -> list[object]:
        if name in KINDS:
            return KINDS[name]
        if name == "ws":
            return found["workspaces"]
        if name == "token":  # a share link's
            return found["token"]
        return found["ids"][:1] if route.name.startswith("admin:") else found["ids"]

    for combination in itertools.product(*(values(name) for name in route.params)):
        yield route.url(dict(zip(route.params, combination, strict=True)))


def _extra_urls(found: dict[str, list[int]]) -> list[tuple[str, dict[str, str]]]:
    """Query strings and htmx partials that take other paths through the same views."""
    space = found["workspaces"][0]
    urls = [(f"/w/{space}/?draft={pk}", {}) for pk in found["drafts"]]
    urls += [(f"/w/{space}/", {"HX-Request": "true", "HX-Target": "recent-drafts"})]
    for pk in found["drafts"]:
        urls += [(f"/drafts/{pk}/", {"HX-Request": "true"}), (f"/drafts/{pk}/?versions=all", {})]
    return urls + [(f"/drafts/{found['drafts'][2]}/?v=1", {})]  # an older version


@pytest.fixture
def superuser_owner(owner, user) -> Client:  # noqa: F811
    """The owner, also staff: the admin's pages answer them rather than sending them away."""
    type(user).objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    return owner


# Committed: the test client runs views' synchronous code on asgiref's thread, whose
# connection must see the world (and views give it back: release_connections).
@pytest.mark.django_db(transaction=True)
def test_no_get_writes(reads_world, superuser_owner):
    client = superuser_owner
    unread: list[str] = []
    for route in ROUTES:
        found, answers_get, writes = False, False, {}
        for url in _urls(route, reads_world):
            caught: list[str] = []
            with watching_writes(caught):
                status = _read(client.get(url))
            answers_get |= status != 405
            found |= status not in (404, 405)
            if caught:
                writes[url] = caught
        assert not writes, f"GET {route.template} wrote: {writes}"
        if answers_get and not found and route.params and not route.name.startswith("admin:"):
            unread.append(route.template)
    for url, headers in _extra_urls(reads_world):
        caught = []
        with watching_writes(caught):
            status = _read(client.get(url, headers=headers))
        assert status == 200 and not caught, f"GET {url} ({headers}) gave {status}, wrote {caught}"
    assert not unread, f"the owner got 404 for every id (give the world something): {unread}"


def test_the_crawl_sees_the_orphans_it_is_about(reads_world, superuser_owner):
    """The world really holds what the crawl must not settle, and pages show it read-only."""
    lost_draft = reads_world["drafts"][0]
    page = superuser_owner.get(f"/drafts/{lost_draft}/").content.decode()

    assert "data-recovering" in page and "Lost half-way" in page
    sectioned = superuser_owner.get(f"/drafts/{reads_world['drafts'][2]}/").content.decode()
    assert sectioned.count("data-recovering") == 1 and "sse-connect" in sectioned
    run = superuser_owner.get(ExperimentRun.objects.get().get_absolute_url()).content.decode()
    assert run.count("data-recovering") == 2 and "sse-connect" not in run  # no stream opens
    assert Generation.objects.filter(status="running").count() == 4  # none settled
    assert Suggestion.objects.filter(status="running").count() == 2


def test_a_write_on_a_get_is_caught(reads_world, owner):  # noqa: F811
    """The watch itself: a GET that writes (as a page once settled orphans) is reported."""
    from drafts import panels

    real = panels.draft_panel_context

    def settling(draft, **kwargs):
        Draft.objects.filter(pk=draft.pk).update(title="written on a GET")
        return real(draft, **kwargs)

    caught: list[str] = []
    with pytest.MonkeyPatch.context() as patch, watching_writes(caught):
        patch.setattr(panels, "draft_panel_context", settling)
        patch.setattr("drafts.views.workspace.draft_panel_context", settling)
        _read(owner.get(f"/drafts/{reads_world['drafts'][2]}/"))

    assert caught and caught[0].startswith('UPDATE "drafts_draft"')
