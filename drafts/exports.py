"""A draft version as a file: Markdown (as written), HTML (sanitized) and DOCX (python-docx).

The DOCX is built from markdown-it's token stream, the same parser the pages use, so what a
reader sees in the studio is what Word shows: headings, paragraphs, bold/italic/code runs,
bullet and numbered lists, quotes, code blocks and tables.

Every reader may export, so a DOCX is bounded: in linear time (python-docx's by-index and
by-name lookups re-walk the document, so they are avoided), under caps on its size and table
cells, and within a time budget; over any of them the reader gets ``ExportRefused``'s message
instead of a half file. The Markdown export is always there and holds everything.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.text import slugify
from django.utils.translation import gettext as _
from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.table import CT_Tbl
from docx.shared import Emu, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

from . import citations, markdown_html
from .citations import Grounding
from .models import DraftVersion

_parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Filled in linear time, a python-docx cell costs about 60 µs of CPU (bench/exports.py: 5,000
# cells 0.3 s; 20,000 in one table 1.3 s, or in 10,000 small tables 3.4 s). 20,000 cells is
# four times the 5,000 of a long report table and keeps any table within a few seconds. The
# document's size is capped by the pages' own Markdown cap (markdown_html.MAX_MARKDOWN_CHARS,
# 1 MB), which keeps the parse to about a second.
MAX_DOCX_CELLS = 20_000
# CPU seconds of its thread one DOCX may use before it is abandoned, checked between blocks
# and table rows. 1 MB of prose takes about 6 s and the largest table 1–3 s, so the budget
# stops only documents of very many tiny blocks (1 MB of one-word list items would need
# about 30 s), and a departed client no longer keeps a thread busy for minutes. CPU time, not
# wall time: the same document exports, or does not, however busy the server is.
TIME_BUDGET_SECONDS = 15.0
_CELLS = {"th_open", "td_open"}
# What XML 1.0 cannot hold (lxml refuses it): C0 controls but tab, LF and CR; surrogates; the
# two non-characters U+FFFE and U+FFFF. A model (or a paste) can produce any of them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class ExportRefused(Exception):
    """This version cannot be exported in this format; ``message`` says why, for the user."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _XML_ILLEGAL.sub("", text)


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    filename: str


FORMATS = ("md", "html", "docx")


def opens_with_a_title(text: str) -> bool:
    """Whether the text's first line is a top-level Markdown heading (``# …``)."""
    first = text.lstrip().partition("\n")[0]
    return first.startswith("# ") or first == "#"


def export_version(version: DraftVersion, fmt: str) -> Export:
    """The version in one of ``FORMATS``; the file name says which draft and version. A
    Markdown or HTML file opens with the draft's title, unless the text has a title of its
    own (a first ``# heading``); HTML's ``<title>`` is always the draft's. A grounded text's
    citation markers become footnotes quoting their passages, in each format."""
    title = version.draft.title
    grounding = Grounding.of(citations.grounding_generation(version))
    heading = "" if opens_with_a_title(version.text) else title
    stem = f"{slugify(title, allow_unicode=True) or 'draft'}-v{version.number}"
    if fmt == "md":
        body = citations.markdown_footnotes(version.text, grounding)
        text = f"# {' '.join(heading.split())}\n\n{body}" if heading else body
        return Export(text.encode(), "text/markdown; charset=utf-8", f"{stem}.md")
    if fmt == "html":
        context = {"version": version, "heading": heading, "found": grounding}
        html = render_to_string("drafts/export.html", context)
        return Export(html.encode(), "text/html; charset=utf-8", f"{stem}.html")
    if fmt == "docx":
        author = version.author.get_full_name() or version.author.get_username()
        docx = markdown_to_docx(
            version.text, title=version.draft.title, author=author, grounding=grounding
        )
        return Export(docx, DOCX_TYPE, f"{stem}.docx")
    raise ValueError(f"Unknown export format: {fmt}")


def markdown_to_docx(
    text: str, *, title: str = "", author: str = "", grounding: Grounding | None = None
) -> bytes:
    """The DOCX of ``text``; ExportRefused when it is over a cap or over the time budget.
    With ``grounding``, the first marker citing a passage is a Word footnote quoting it,
    marked ``[n]`` as in the studio (later markers citing it again are the same mark in
    superscript: a footnote has one reference)."""
    deadline = time.thread_time() + TIME_BUDGET_SECONDS
    text = xml_safe(text or "")
    if markdown_html.too_long(text):
        raise ExportRefused(
            _(
                "This version is too long for a Word file (%(size)s characters; the limit is "
                "%(limit)s). Export it as Markdown or HTML instead."
            )
            % {"size": f"{len(text):,}", "limit": f"{markdown_html.MAX_MARKDOWN_CHARS:,}"}
        )
    tokens = _parser.parse(text)
    cells = sum(1 for token in tokens if token.type in _CELLS)
    if cells > MAX_DOCX_CELLS:
        raise ExportRefused(
            _(
                "This version has %(cells)s table cells; Word files are made of versions with "
                "up to %(limit)s. Export it as Markdown or HTML instead."
            )
            % {"cells": f"{cells:,}", "limit": f"{MAX_DOCX_CELLS:,}"}
        )
    document = Document()
    document.core_properties.title = xml_safe(title)
    # python-docx's template names itself as the author; Word shows who wrote the version.
    properties = document.core_properties
    properties.author = properties.last_modified_by = xml_safe(author)
    writer = _Writer(document, deadline)
    if grounding is not None and grounding.passages:
        writer.passages = {p.number: p for p in grounding.passages}
        writer.cited = set(writer.passages)
    writer.write_all(tokens)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class Footnotes:
    """A document's footnotes part (python-docx has no API for it; its template has none):
    one Word footnote per passage cited, with a custom mark (``[n]``) so that Word shows the
    number the studio, the Markdown and the HTML show, rather than its own count."""

    _PART = (
        f"<w:footnotes {nsdecls('w')}>"
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        "</w:footnote>"
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        "<w:continuationSeparator/></w:r></w:p></w:footnote>"
        "</w:footnotes>"
    )

    def __init__(self, document: DocxDocument) -> None:
        package = document.part.package
        self.part = XmlPart(
            PackURI("/word/footnotes.xml"),
            CONTENT_TYPE.WML_FOOTNOTES,
            parse_xml(self._PART),
            package,
        )
        document.part.relate_to(self.part, RELATIONSHIP_TYPE.FOOTNOTES)
        self.ids: dict[int, int] = {}  # passage number → footnote id

    def add(self, number: int, mark: str, text: str):
        """The reference to a new footnote for passage ``number`` quoting ``text``, or None
        when it has one already."""
        if number in self.ids:
            return None
        self.ids[number] = note_id = len(self.ids) + 1
        note = parse_xml(
            f'<w:footnote {nsdecls("w")} w:id="{note_id}"><w:p>'
            '<w:r><w:rPr><w:vertAlign w:val="superscript"/><w:sz w:val="20"/></w:rPr></w:r>'
            '<w:r><w:rPr><w:sz w:val="20"/></w:rPr></w:r></w:p></w:footnote>'
        )
        mark_run, text_run = note.findall(f".//{qn('w:r')}")
        mark_run.append(_text_element(mark))
        text_run.append(_text_element(" " + xml_safe(text)))
        self.part.element.append(note)
        reference = OxmlElement("w:footnoteReference")
        reference.set(qn("w:customMarkFollows"), "1")
        reference.set(qn("w:id"), str(note_id))
        return reference


def _text_element(text: str):
    element = OxmlElement("w:t")
    element.text = text
    element.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return element


def _over_budget() -> ExportRefused:
    return ExportRefused(
        _(
            "Making the Word file took longer than %(seconds)s seconds of processing, so it "
            "was stopped. Export it as Markdown or HTML instead."
        )
        % {"seconds": f"{TIME_BUDGET_SECONDS:g}"}
    )


class _Writer:
    """Walks markdown-it block tokens and writes paragraphs; inline tokens become runs."""

    def __init__(self, document: DocxDocument, deadline: float) -> None:
        self.doc = document
        self.deadline = deadline
        self.style_ids: dict[str, str] = {}
        # python-docx adds each block before the section properties that end the body, which
        # it finds by scanning every block already there: quadratic in a long document (800
        # KB of prose ran out of a 20 s budget, 10,000 small tables took 21 s of CPU). New
        # blocks go before this empty paragraph instead, in constant time; it is taken out
        # when the document is written.
        self.end = document.add_paragraph()
        section = document.sections[-1]
        self.width = Emu(section.page_width - section.left_margin - section.right_margin)
        self.lists: list[str] = []  # "bullet" / "ordered", innermost last
        self.quote = 0
        self.table: list[list[list[Token]]] | None = None
        self.row: list[list[Token]] = []
        self.pending_heading: int | None = None
        self.cited: set[int] = set()  # the passage numbers a marker may cite
        self.passages: dict[int, object] = {}  # number → GroundingPassage, for the footnotes
        self.footnotes: Footnotes | None = None  # made at the first marker

    def write_all(self, tokens: list[Token]) -> None:
        self.write(tokens)
        self.end._p.getparent().remove(self.end._p)

    def write(self, tokens: list[Token]) -> None:
        for token in tokens:
            self._check_time()
            handler = getattr(self, f"_{token.type}", None)
            if handler:
                handler(token)

    def _text_runs(self, paragraph, text: str):
        """The runs of one text: its known citation markers as footnote references."""
        if not self.cited or "[" not in text:
            return [paragraph.add_run(text)]
        runs, last = [], 0
        for match in citations.MARKER.finditer(text):
            if int(match[1]) not in self.cited:
                continue
            if match.start() > last:
                runs.append(paragraph.add_run(text[last : match.start()]))
            self._cite(paragraph, int(match[1]), match[0])
            last = match.end()
        if last < len(text):
            runs.append(paragraph.add_run(text[last:]))
        return runs

    def _cite(self, paragraph, number: int, mark: str) -> None:
        run = paragraph.add_run()
        run.font.superscript = True
        if self.footnotes is None:
            self.footnotes = Footnotes(self.doc)
        note = self.footnotes.add(number, mark, self.passages[number].note_text())
        if note is not None:  # the first time this passage is cited: its footnote
            run._r.append(note)
        run._r.append(_text_element(mark))

    def _heading_open(self, token: Token) -> None:
        self.pending_heading = int(token.tag[1])

    def _bullet_list_open(self, token: Token) -> None:
        self.lists.append("bullet")

    def _ordered_list_open(self, token: Token) -> None:
        self.lists.append("ordered")

    def _bullet_list_close(self, token: Token) -> None:
        self.lists.pop()

    _ordered_list_close = _bullet_list_close

    def _blockquote_open(self, token: Token) -> None:
        self.quote += 1

    def _blockquote_close(self, token: Token) -> None:
        self.quote -= 1

    def _table_open(self, token: Token) -> None:
        self.table = []

    def _tr_open(self, token: Token) -> None:
        self.row = []

    def _tr_close(self, token: Token) -> None:
        if self.table is not None:
            self.table.append(self.row)

    def _table_close(self, token: Token) -> None:
        rows = self.table or []
        self.table = None
        if not rows:
            return
        table = self._table(len(rows), max(len(r) for r in rows))
        # One pass over the rows, each row's cells read once: table.cell(r, c) rebuilds the
        # list of every cell of the table on each call (quadratic: 5,000 cells took minutes).
        for r, (row_tokens, row) in enumerate(zip(rows, table.rows, strict=True)):
            self._check_time()
            for cell_tokens, cell in zip(row_tokens, row.cells, strict=False):
                self._runs(cell.paragraphs[0], cell_tokens, bold=r == 0)

    def _inline(self, token: Token) -> None:
        if self.table is not None:
            self.row.append(token.children or [])
            return
        level = self.pending_heading
        if level is not None:
            self.pending_heading = None
            paragraph = self._paragraph(f"Heading {min(level, 9)}")
        elif self.lists:
            style = "List Bullet" if self.lists[-1] == "bullet" else "List Number"
            depth = min(len(self.lists), 3)
            paragraph = self._paragraph(style if depth == 1 else f"{style} {depth}")
        elif self.quote:
            paragraph = self._paragraph("Quote")
        else:
            paragraph = self._paragraph()
        self._runs(paragraph, token.children or [])

    def _paragraph(self, style: str = "") -> Paragraph:
        """A new paragraph in ``style``.

        python-docx resolves a style given by name (or object) by scanning every style of the
        document for the default one, on each paragraph: most of a long document's time. The
        id is looked up once per name here and set on the paragraph's properties directly.
        """
        paragraph = self.end.insert_paragraph_before()
        if style:
            paragraph._p.style = self._style_id(style)
        return paragraph

    def _table(self, rows: int, cols: int) -> Table:
        """A new table in the Table Grid style: Document.add_table's, in constant time (the
        same scan for the body's end as for paragraphs, and the same style lookup)."""
        tbl = CT_Tbl.new_tbl(rows, cols, self.width)
        self.end._p.addprevious(tbl)
        tbl.tblStyle_val = self._style_id("Table Grid")
        return Table(tbl, self.doc)

    def _style_id(self, name: str) -> str:
        if name not in self.style_ids:
            self.style_ids[name] = self.doc.styles[name].style_id
        return self.style_ids[name]

    def _check_time(self) -> None:
        if time.thread_time() > self.deadline:
            raise _over_budget()

    def _fence(self, token: Token) -> None:
        paragraph = self._paragraph()
        run = paragraph.add_run(token.content.rstrip("\n"))
        run.font.name = "Courier New"
        run.font.size = Pt(9)

    _code_block = _fence

    def _hr(self, token: Token) -> None:
        self._paragraph().add_run("* * *")

    def _runs(self, paragraph, children: list[Token], *, bold: bool = False) -> None:
        strong, em, strike = bold, False, False
        for child in children:
            kind = child.type
            if kind == "strong_open":
                strong = True
            elif kind == "strong_close":
                strong = bold
            elif kind == "em_open":
                em = True
            elif kind == "em_close":
                em = False
            elif kind == "s_open":
                strike = True
            elif kind == "s_close":
                strike = False
            elif kind == "hardbreak":
                paragraph.add_run().add_break()
            elif kind == "softbreak":
                paragraph.add_run(" ")
            elif kind in {"text", "code_inline"}:
                if kind == "text":
                    runs = self._text_runs(paragraph, child.content)
                else:
                    runs = [paragraph.add_run(child.content)]
                for run in runs:
                    # Only what is on: setting None still adds an empty properties element.
                    if strong:
                        run.bold = True
                    if em:
                        run.italic = True
                    if strike:
                        run.font.strike = True
                    if kind == "code_inline":
                        run.font.name = "Courier New"
