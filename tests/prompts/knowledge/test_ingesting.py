"""Long documents are read by the background worker (the real django-tasks-db backend and
``manage.py db_worker``, as batches are): the upload answers at once, the ingestion's page
shows its progress and then the source, or why it failed with nothing stored; a worker that
stopped mid-way is swept. A 200-page PDF and a 5 MB Markdown file go all the way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from prompts.knowledge import actions, ingesting
from prompts.knowledge.actions import Upload
from prompts.knowledge.models import Ingestion, Passage, Source, SourceVersion
from prompts.knowledge.parsing import Kind
from prompts.knowledge.queueing import start_ingestion
from prompts.knowledge.search import search
from studio.workspaces.actions import add_member
from tests.prompts.batch_helpers import run_worker

from .documents import big_markdown, blank_pdf, long_pdf, zip_bomb

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def progress(monkeypatch):
    """Every progress report the worker writes, as the page would read it back:
    (step, done, total, percent)."""
    seen: list[tuple[str, int, int, int]] = []
    report = ingesting._Reporter.__call__

    def recording(self, done: int, total: int) -> None:
        report(self, done, total)
        row = Ingestion.objects.filter(pk=self.pk)
        seen.append(row.values_list("step", "done", "total", "percent").get())

    monkeypatch.setattr(ingesting, "PROGRESS_EVERY", 0)
    monkeypatch.setattr(ingesting._Reporter, "__call__", recording)
    return seen


@pytest.fixture
def reports(monkeypatch):
    """Every progress report the worker makes (step, done, total), written or not (it writes
    at most every PROGRESS_EVERY seconds)."""
    seen: list[tuple[str, int, int]] = []
    report = ingesting._Reporter.__call__

    def recording(self, done: int, total: int) -> None:
        seen.append((self.step, done, total))
        report(self, done, total)

    monkeypatch.setattr(ingesting._Reporter, "__call__", recording)
    return seen


def _add(client, workspace, name: str, data: bytes, HTTP_ACCEPT_LANGUAGE="en", **fields):
    form = {"title": "", "tags": "", "text_format": "text", **fields}
    form["file"] = SimpleUploadedFile(name, data)
    url = f"/w/{workspace.pk}/knowledge/new/"
    return client.post(url, form, HTTP_ACCEPT_LANGUAGE=HTTP_ACCEPT_LANGUAGE)


def test_a_200_page_pdf_is_read_in_the_background_with_its_progress(owner, workspace, progress):
    response = _add(owner, workspace, "manual.pdf", long_pdf(200), tags="manual")

    ingestion = Ingestion.objects.get()
    assert response.status_code == 302 and response["Location"] == ingestion.get_absolute_url()
    assert not Source.objects.exists()  # nothing searchable before it is done
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "prompts.knowledge.tasks.ingest"
    page = owner.get(response["Location"]).content.decode()
    assert 'data-ingestion-status="queued"' in page and 'hx-trigger="every 1s"' in page

    run_worker()

    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL
    ingestion.refresh_from_db()
    version = SourceVersion.objects.get()
    assert (ingestion.status, ingestion.version, ingestion.source) == (
        "done",
        version,
        version.source,
    )
    assert (version.pages, version.source.tags, bytes(ingestion.data)) == (200, ["manual"], b"")
    pages = [done for step, done, total, _ in progress if step == "parsing" and total == 200]
    assert pages == list(range(0, 201)) or pages == list(range(1, 201))
    percents = [percent for *_, percent in progress]
    assert percents == sorted(percents) and percents[-1] == 95
    assert ingestion.percent == 100
    hits = search(Passage.objects.searchable(workspace), "chapter 150")
    assert any("Page 150 " in hit.passage.text for hit in hits)
    done = owner.get(ingestion.get_absolute_url(), headers=HX).content.decode()
    assert 'data-ingestion-status="done"' in done and "every 1s" not in done
    assert version.source.get_absolute_url() in done and "<html" not in done


def test_a_5_mb_markdown_file_is_read_in_parts_and_stored_whole(owner, workspace, reports):
    data = big_markdown(5 * 1024 * 1024)
    assert len(data) >= 5 * 1024 * 1024
    _add(owner, workspace, "reference.md", data, title="CLI reference")
    run_worker()

    ingestion = Ingestion.objects.get()
    assert ingestion.status == "done", ingestion.error
    version = SourceVersion.objects.get()
    assert version.source.title == "CLI reference" and version.size == len(data)
    parts = [done for step, done, total in reports if step == "parsing" and total > 1]
    assert parts[-1] >= 10 and parts == list(range(1, parts[-1] + 1))  # ~256 K characters each
    assert version.passages.count() == ingestion.total > 10_000
    assert "lumen set --level 50\n\nlumen get" in version.text  # a code block, whole, as written
    last = version.text.rsplit("## Section ", 1)[1].split("\n", 1)[0]
    assert search(Passage.objects.searchable(workspace), f"section {last}")
    assert search(Passage.objects.searchable(workspace), "无级调光")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("scan.pdf", blank_pdf(25), "no text layer"),
        ("notes.txt", b"\n" * 600_000, "no text to search"),
    ],
)
def test_a_document_that_fails_says_why_and_stores_nothing(owner, workspace, name, data, message):
    response = _add(owner, workspace, name, data)
    run_worker()

    ingestion = Ingestion.objects.get()
    assert ingestion.status == "failed" and message in ingestion.error
    assert bytes(ingestion.data) == b""  # the upload is not kept
    assert not Source.objects.exists() and not SourceVersion.objects.exists()
    page = owner.get(response["Location"]).content.decode()
    assert message in page and "Nothing of this document was stored." in page
    assert "every 1s" not in page
    listed = owner.get(f"/w/{workspace.pk}/knowledge/").content.decode()
    assert ingestion.get_absolute_url() in listed  # the failure is listed with the sources


def test_a_failure_while_storing_stores_nothing(owner, workspace, monkeypatch):
    def broken(passages, **kwargs):
        raise IntegrityError("disk full")

    monkeypatch.setattr(actions.Passage.objects, "bulk_create", broken)
    _add(owner, workspace, "manual.pdf", long_pdf(30))
    run_worker()

    ingestion = Ingestion.objects.get()
    assert ingestion.status == "failed" and "an error in the studio" in ingestion.error
    assert not Source.objects.exists() and not Passage.objects.exists()


def test_what_can_be_refused_at_once_is_refused_in_the_form(owner, workspace, settings):
    settings.KNOWLEDGE_BACKGROUND_BYTES = 1024
    for name, data, message in [
        ("bomb.docx", zip_bomb(60 * 1024 * 1024), "zip bomb"),
        ("latin1.txt", "café ".encode("latin-1") * 1000, "not valid UTF-8"),
        ("broken.pdf", b"%PDF-1.4 nothing else" * 100, "not a valid PDF"),
    ]:
        response = _add(owner, workspace, name, data)
        assert response.status_code == 200 and message in response.content.decode(), name
    assert not Ingestion.objects.exists() and not DBTaskResult.objects.exists()


def test_hostile_markup_in_a_long_document_is_never_stored(owner, workspace, settings):
    settings.KNOWLEDGE_BACKGROUND_BYTES = 1024
    script = '<script>alert("x")</script><p onclick="steal()">Battery <b>twelve</b> hours.</p>'
    _add(owner, workspace, "page.html", (script * 100).encode())
    _add(owner, workspace, "notes.md", ("# Notes\n\n" + script + "\n\n").encode() * 100)
    run_worker()

    assert list(Ingestion.objects.values_list("status", flat=True)) == ["done", "done"]
    for version in SourceVersion.objects.all():
        stored = version.text + "".join(version.passages.values_list("text", flat=True))
        assert "Battery twelve hours." in stored
        assert not any(bad in stored for bad in ("<script", "alert", "onclick", "steal", "<p"))


def test_a_new_version_in_the_background(owner, store, workspace):
    source = store().source
    response = owner.post(
        source.get_absolute_url(),
        {
            "upload": "",
            "file": SimpleUploadedFile("manual.pdf", long_pdf(25)),
            "text_format": "text",
        },
    )
    ingestion = Ingestion.objects.get()
    assert response["Location"] == ingestion.get_absolute_url()
    assert ingestion.get_absolute_url() in owner.get(source.get_absolute_url()).content.decode()
    assert source.versions.count() == 1
    run_worker()

    assert [v.number for v in source.versions.all()] == [2, 1]
    assert source.current_version().pages == 25
    assert source.versions.get(number=1).passages.exists()  # the old version stays


def test_a_stalled_ingestion_is_shown_stopped_then_swept(owner, workspace, user):
    ingestion = start_ingestion(
        workspace=workspace, user=user, upload=Upload(long_pdf(25), Kind.PDF, "manual.pdf")
    )
    long_ago = timezone.now() - timedelta(hours=1)
    Ingestion.objects.filter(pk=ingestion.pk).update(status="running", progressed=long_ago)

    page = owner.get(ingestion.get_absolute_url()).content.decode()
    assert 'data-ingestion-status="stalled"' in page and "every 1s" not in page
    assert "seems to have stopped" in page
    assert Ingestion.objects.get().status == "running"  # a GET writes nothing

    assert ingesting.sweep_stalled() == [ingestion.pk]
    ingestion.refresh_from_db()
    assert ingestion.status == "failed" and "was restarted or stopped" in ingestion.error
    assert bytes(ingestion.data) == b""
    assert ingesting.ingest(ingestion.pk) == "skipped"  # its task, should it run after all
    assert not Source.objects.exists()


def test_a_live_ingestion_is_left_alone_by_the_sweep(workspace, user):
    ingestion = start_ingestion(
        workspace=workspace, user=user, upload=Upload(long_pdf(25), Kind.PDF, "manual.pdf")
    )
    Ingestion.objects.filter(pk=ingestion.pk).update(status="running")
    assert ingesting.sweep_stalled() == []
    async_to_sync(ingesting.sweep_at_startup)()
    assert Ingestion.objects.get().status == "running"


def test_the_worker_sweeps_before_it_reads(workspace, user):
    stalled = start_ingestion(
        workspace=workspace, user=user, upload=Upload(long_pdf(25), Kind.PDF, "a.pdf")
    )
    Ingestion.objects.filter(pk=stalled.pk).update(
        status="running", progressed=timezone.now() - timedelta(hours=1)
    )
    start_ingestion(workspace=workspace, user=user, upload=Upload(long_pdf(25), Kind.PDF, "b.pdf"))
    run_worker()
    assert dict(Ingestion.objects.values_list("filename", "status")) == {
        "a.pdf": "failed",
        "b.pdf": "done",
    }


def test_reviewers_follow_an_ingestion_and_other_workspaces_do_not(
    client, workspace, user, other_user, django_user_model
):
    ingestion = start_ingestion(
        workspace=workspace, user=user, upload=Upload(long_pdf(25), Kind.PDF, "manual.pdf")
    )
    add_member(workspace=workspace, user=other_user, role="reviewer")
    client.force_login(other_user)
    assert client.get(ingestion.get_absolute_url()).status_code == 200
    assert client.post(ingestion.get_absolute_url()).status_code == 405
    client.force_login(django_user_model.objects.create_user("stranger", password="pw-x-123"))
    assert client.get(ingestion.get_absolute_url()).status_code == 404


def test_chinese_uploaders_read_the_failure_in_chinese(owner, workspace, settings):
    owner.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    _add(owner, workspace, "scan.pdf", blank_pdf(25), HTTP_ACCEPT_LANGUAGE="zh-hans")
    run_worker()
    assert "文字层" in Ingestion.objects.get().error


async def test_the_starting_studio_sweeps_stalled_ingestions(monkeypatch):
    """The ASGI lifespan (``manage.py serve``) runs the sweep once as it starts."""
    import asyncio
    import threading

    from asgiref.testing import ApplicationCommunicator

    from studio.asgi import application

    swept = threading.Event()
    monkeypatch.setattr(ingesting, "sweep_stalled", lambda: swept.set() or [])
    lifespan = ApplicationCommunicator(application, {"type": "lifespan"})
    await lifespan.send_input({"type": "lifespan.startup"})
    assert (await lifespan.receive_output(5))["type"] == "lifespan.startup.complete"
    assert await asyncio.to_thread(swept.wait, 5)
    await lifespan.send_input({"type": "lifespan.shutdown"})
    assert (await lifespan.receive_output(10))["type"] == "lifespan.shutdown.complete"
