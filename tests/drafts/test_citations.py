"""Citation markers (drafts/citations.py): [n] of a grounded text opens passage n in the
draft panel and in the live stream; an [n] no passage stands behind is flagged, never
linked; code and links keep theirs as text; sanitization holds; exports carry footnotes."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import qn

from drafts.actions import finish_generation
from drafts.citations import (
    Citations,
    Grounding,
    grounding_generation,
    link,
    markdown_footnotes,
)
from drafts.exports import export_version, markdown_to_docx
from drafts.markdown_html import render_markdown
from drafts.markdown_stream import BlockSplitter
from drafts.models import GroundingPassage
from tests.drafts.grounding_helpers import LUMEN, add_text, grounded_template
from tests.drafts.hostile import HOSTILE, Elements, assert_neutralised
from tests.generating import start_generation

CITED = Citations(key=7, count=2)


def elements(html: str, tag: str) -> list[dict[str, str | None]]:
    return [attrs for name, attrs in Elements(html).found if name == tag]


def test_known_markers_open_their_passage():
    html = link(str(render_markdown("Dims steplessly [1], lasts 40 hours [2].")), CITED)
    buttons = elements(html, "button")
    assert [b["popovertarget"] for b in buttons] == ["cite-7-1", "cite-7-2"]
    assert "[1]</button>" in html


def test_unknown_markers_are_flagged_not_linked():
    html = link(str(render_markdown("A claim [3] and [0].")), CITED)
    assert not elements(html, "button")
    flagged = [s["data-citation-unknown"] for s in elements(html, "span")]
    assert flagged == ["3", "0"]


def test_markers_in_code_and_links_stay_text():
    text = "`x[1]`\n\n```\nitems[2]\n```\n\n[see [1]](https://example.com) and [1]"
    html = link(str(render_markdown(text)), CITED)
    assert len(elements(html, "button")) == 1
    assert "<code>x[1]</code>" in html and "items[2]" in html


def test_an_ungrounded_text_is_left_alone():
    html = str(render_markdown("Footnote style [1]."))
    assert link(html, None) == html


def test_hostile_text_stays_inert_with_citations():
    html = link(str(render_markdown(HOSTILE + "\n\nSee [1] <b onclick=x>[2]</b>")), CITED)
    assert_neutralised(html)
    # Only the markers' own buttons: nothing the model wrote became an element of its own.
    assert {attrs.get("class") for attrs in elements(html, "button")} == {"citation"}


def test_attribute_text_is_never_rewritten():
    html = link(str(render_markdown('[a](https://e.com "t>[1]") [1]')), CITED)
    assert 'title="t&gt;[1]"' in html or 'title="t>[1]"' in html
    assert len(elements(html, "button")) == 1


def test_the_stream_links_markers_block_by_block():
    splitter = BlockSplitter(CITED)
    blocks = splitter.feed("Forty hours [1].\n\nUnknown [9].\n\n")
    html = "".join(b.html for b in blocks + splitter.close())
    assert 'popovertarget="cite-7-1"' in html
    assert 'data-citation-unknown="9"' in html
    plain = BlockSplitter().feed("Forty hours [1].\n\n")
    assert "button" not in "".join(b.html for b in plain)


@pytest.fixture
def grounded(workspace, user):
    add_text(workspace, user, LUMEN, title="Lumen lamp product sheet", tags=["lumen"])
    template = grounded_template(workspace)
    generation = start_generation(
        workspace=workspace,
        version=template.current_version(),
        inputs={"topic": "battery hours"},
        user=user,
    )
    return finish_generation(
        generation_id=generation.pk,
        status="done",
        text="# Lumen\n\nIt lasts 40 hours [1]. It flies [7].\n",
        reasoning="",
        fields={},
    )


@pytest.mark.django_db
def test_the_draft_panel_shows_popovers_and_sources(client, user, grounded):
    client.force_login(user)
    html = client.get(grounded.draft.get_absolute_url()).content.decode()
    first = grounded.grounding.get(number=1)
    popover = f'id="cite-{grounded.pk}-1"'
    assert popover in html and f'popovertarget="cite-{grounded.pk}-1"' in html
    assert "Lumen lamp product sheet (v1)" in html
    assert first.passage.get_absolute_url().replace("&", "&amp;") in html
    assert 'data-citation-unknown="7"' in html
    assert "data-sources" in html


@pytest.mark.django_db
def test_a_draft_without_matching_sources_says_so(client, user, workspace):
    add_text(workspace, user, LUMEN, title="Lumen", tags=["lumen"])
    template = grounded_template(workspace)
    generation = start_generation(
        workspace=workspace,
        version=template.current_version(),
        inputs={"topic": "quantum chromodynamics"},
        user=user,
    )
    finish_generation(
        generation_id=generation.pk, status="done", text="Text [1].", reasoning="", fields={}
    )
    client.force_login(user)
    html = client.get(generation.draft.get_absolute_url()).content.decode()
    assert "data-no-sources" in html and "No matching sources" in html
    assert 'data-citation-unknown="1"' in html


@pytest.mark.django_db
def test_chinese_panel(client, user, grounded):
    client.force_login(user)
    html = client.get(
        grounded.draft.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "来源" in html and "打开资料" in html and "资料 1" in html


@pytest.mark.django_db
def test_exports_keep_citations_as_footnotes(grounded):
    version = grounded.draft.versions.get()
    passage = grounded.grounding.get(number=1)

    markdown = export_version(version, "md").content.decode()
    assert "It lasts 40 hours [^1]. It flies [7]." in markdown
    assert "[^1]: Lumen lamp product sheet (v1)" in markdown
    assert " ".join(passage.text.split())[:40] in markdown

    html = export_version(version, "html").content.decode()
    assert '<a href="#fn-1" id="fnref-1">[1]</a>' in html
    assert 'id="fn-1"' in html and "Lumen lamp product sheet (v1)" in html
    assert 'data-citation-unknown="7"' in html
    assert "popovertarget" not in html

    document = Document(io.BytesIO(export_version(version, "docx").content))
    runs = [run for p in document.paragraphs for run in p.runs]
    [cited] = [run for run in runs if run.text == "[1]"]
    assert cited.font.superscript
    [reference] = cited._r.findall(qn("w:footnoteReference"))
    assert reference.get(qn("w:customMarkFollows")) == "1"  # Word shows [1], as the studio
    [part] = [r.target_part for r in document.part.rels.values() if r.reltype == RT.FOOTNOTES]
    notes = {n.get(qn("w:id")): n for n in parse_xml(part.blob).findall(qn("w:footnote"))}
    assert set(notes) == {"-1", "0", reference.get(qn("w:id"))}  # separators + one note
    note = "".join(t.text for t in notes[reference.get(qn("w:id"))].iter(qn("w:t")))
    assert note.startswith("[1] Lumen lamp product sheet (v1)")
    assert " ".join(passage.text.split())[:40] in note
    assert "[7]" in "".join(p.text for p in document.paragraphs)  # unknown: left as written


def test_a_passage_cited_twice_has_one_word_footnote(grounded):
    version = grounded.draft.versions.get()
    version.text = "Forty hours [1]. Charged by USB-C [1]."
    document = Document(
        io.BytesIO(
            markdown_to_docx(version.text, grounding=Grounding.of(grounding_generation(version)))
        )
    )
    marks = [r for p in document.paragraphs for r in p.runs if r.text == "[1]"]
    assert len(marks) == 2 and all(r.font.superscript for r in marks)
    references = [r._r.findall(qn("w:footnoteReference")) for r in marks]
    assert [len(found) for found in references] == [1, 0]  # one note, one reference to it
    [part] = [r.target_part for r in document.part.rels.values() if r.reltype == RT.FOOTNOTES]
    assert len(parse_xml(part.blob).findall(qn("w:footnote"))) == 3  # two separators and the note
    saved = io.BytesIO()
    document.save(saved)  # the part survives a round trip through python-docx
    with zipfile.ZipFile(saved) as archive:
        assert "word/footnotes.xml" in archive.namelist()
        assert "wordprocessingml.footnotes+xml" in archive.read("[Content_Types].xml").decode()


def test_markdown_footnotes_leave_code_alone():
    passage = GroundingPassage(
        number=1, source_title="Sheet", version_number=2, heading="Battery", text="40 h.", score=1
    )
    grounding = Grounding(Citations(key=1, count=1), [passage])
    text = "Lasts [1] and `a[1]`.\n\n```\nb[1]\n```\nAgain [1], not [2].\n"
    assert markdown_footnotes(text, grounding) == (
        "Lasts [^1] and `a[1]`.\n\n```\nb[1]\n```\nAgain [^1], not [2].\n\n"
        "[^1]: Sheet (v2) · Battery: “40 h.”\n"
    )
    assert markdown_footnotes(text, Grounding(None, [])) == text


@pytest.mark.django_db
def test_an_edited_version_cites_the_generation_before_it(client, user, grounded):
    from drafts.actions import add_version

    add_version(
        draft_id=grounded.draft_id,
        text="Edited: 40 hours [1].",
        source="edited",
        author_id=user.pk,
    )
    client.force_login(user)
    url = reverse("drafts:detail", args=[grounded.draft_id])
    html = client.get(url).content.decode()
    assert f'popovertarget="cite-{grounded.pk}-1"' in html
