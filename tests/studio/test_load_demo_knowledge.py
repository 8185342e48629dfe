"""The demo workspace's knowledge: loaded with the demo login through the knowledge app's own
ingest (chunked, indexed, searchable in English and Chinese), idempotently; a grounded
request built from its passages gets an answer that cites them."""

from __future__ import annotations

import asyncio
import shutil
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from prompts.knowledge.models import Passage, Source
from prompts.knowledge.search import search
from studio.management.commands import load_demo_knowledge
from studio.workspaces.models import Workspace
from tests.deepseek.simulator.citations import block, check_citations
from tests.deepseek.simulator.conftest import chat
from tests.deepseek.simulator.demo import check_answer, inputs, messages

pytestmark = pytest.mark.django_db


def demo_workspace() -> Workspace:
    user = get_user_model().objects.get(username="demo")
    return Workspace.objects.for_user(user).get()


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def top(query: str) -> tuple[str, str]:
    hit = search(Passage.objects.searchable(demo_workspace()), query, limit=1)[0]
    return hit.passage.version.source.title, hit.passage.heading


def test_the_demo_login_comes_with_the_lumen_sheet_and_the_cli_reference_in_two_languages():
    assert "Demo knowledge ready (4 added, 0 updated)." in run("ensure_demo_user")
    sources = Source.objects.filter(workspace=demo_workspace()).order_by("pk")
    assert [(s.title, s.tags, s.owner.username) for s in sources] == [
        ("Lumen lamp product sheet", ["lumen"], "demo"),
        ("Lumen 台灯产品说明", ["lumen-zh"], "demo"),
        ("Lumen CLI reference", ["cli"], "demo"),
        ("Lumen 命令行参考", ["cli-zh"], "demo"),
    ]
    assert all(s.versions.get().passages.count() >= 7 for s in sources)  # one per heading
    assert top("How long does the battery last?") == (
        "Lumen lamp product sheet",
        "Lumen lamp product sheet › Battery and charging",
    )
    assert top("电池能用多久") == ("Lumen 台灯产品说明", "Lumen 台灯产品说明 › 电池与充电")
    assert top("set the brightness from the command line")[0] == "Lumen CLI reference"
    assert top("用命令设置色温") == ("Lumen 命令行参考", "Lumen 命令行参考 › 设置色温")


def test_loading_again_changes_nothing_and_a_changed_file_is_a_new_version(tmp_path, monkeypatch):
    run("ensure_demo_user")
    assert "(0 added, 0 updated)" in run("ensure_demo_user")
    assert "(0 added, 0 updated)" in run("load_demo_knowledge")
    assert Passage.objects.count() == sum(
        s.versions.get().passages.count() for s in Source.objects.all()
    )

    copy = tmp_path / "knowledge"
    shutil.copytree(load_demo_knowledge.KNOWLEDGE_DIR, copy)
    sheet = copy / "lumen-product-sheet.md"
    sheet.write_text(sheet.read_text("utf-8") + "\n## Recycling\n\nReturn it to any store.\n")
    monkeypatch.setattr(load_demo_knowledge, "KNOWLEDGE_DIR", copy)
    assert "(0 added, 1 updated)" in run("load_demo_knowledge")
    changed = Source.objects.get(title="Lumen lamp product sheet")
    assert [v.number for v in changed.versions.all()] == [2, 1]  # v1 kept: drafts may cite it
    assert top("recycling") == ("Lumen lamp product sheet", "Lumen lamp product sheet › Recycling")


def test_there_is_no_demo_knowledge_without_the_demo_workspace():
    with pytest.raises(CommandError, match="ensure_demo_user"):
        run("load_demo_knowledge")
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("slug", "query"),
    [
        ("doc-section", "set the brightness with the dim command"),
        ("doc-section-zh", "用 dim 命令设置亮度"),
        ("product-description", "battery charging brightness"),
        ("product-description-zh", "电池 充电 亮度"),
    ],
)
def test_the_simulator_cites_the_demo_passages(slug, query):
    """The passages a search finds, numbered as the studio numbers them, in a template's
    request: the answer keeps the template's shape and quotes them, each with its number."""
    run("ensure_demo_user")
    hits = search(Passage.objects.searchable(demo_workspace()), query, limit=3)
    given = [(f"{h.passage.version.source.title} (v1)", h.passage.text) for h in hits]
    sources = block(given, chinese=slug.endswith("-zh"))
    messages_ = messages(slug, inputs(slug), knowledge=sources)
    assert "</sources>" not in messages_[-1]["content"].splitlines()[-1]  # in the placeholder
    answer = asyncio.run(chat(messages_, temperature=0.7)).content
    check_answer(slug, inputs(slug), answer)
    assert check_citations(answer, given)
    if slug.startswith("doc-section"):
        assert "```bash\nlumen dim 40 --fade 2s\n```" in answer  # the reference's example
