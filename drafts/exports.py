"""A draft version as a file: Markdown (as written), HTML (sanitized) and DOCX (python-docx).

The DOCX is built from markdown-it's token stream, the same parser the pages use, so what a
reader sees in the studio is what Word shows: headings, paragraphs, bold/italic/code runs,
bullet and numbered lists, quotes, code blocks and tables.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.text import slugify
from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Pt
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .models import DraftVersion

_parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    filename: str


FORMATS = ("md", "html", "docx")


def export_version(version: DraftVersion, fmt: str) -> Export:
    """The version in one of ``FORMATS``; the file name says which draft and version."""
    stem = f"{slugify(version.draft.title, allow_unicode=True) or 'draft'}-v{version.number}"
    if fmt == "md":
        return Export(version.text.encode(), "text/markdown; charset=utf-8", f"{stem}.md")
    if fmt == "html":
        html = render_to_string("drafts/export.html", {"version": version})
        return Export(html.encode(), "text/html; charset=utf-8", f"{stem}.html")
    if fmt == "docx":
        docx = markdown_to_docx(version.text, title=version.draft.title)
        return Export(docx, DOCX_TYPE, f"{stem}.docx")
    raise ValueError(f"Unknown export format: {fmt}")


def markdown_to_docx(text: str, *, title: str = "") -> bytes:
    document = Document()
    document.core_properties.title = title
    _Writer(document).write(_parser.parse(text or ""))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class _Writer:
    """Walks markdown-it block tokens and writes paragraphs; inline tokens become runs."""

    def __init__(self, document: DocxDocument) -> None:
        self.doc = document
        self.lists: list[str] = []  # "bullet" / "ordered", innermost last
        self.quote = 0
        self.table: list[list[list[Token]]] | None = None
        self.row: list[list[Token]] = []
        self.pending_heading: int | None = None

    def write(self, tokens: list[Token]) -> None:
        for token in tokens:
            handler = getattr(self, f"_{token.type}", None)
            if handler:
                handler(token)

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
        width = max(len(r) for r in rows)
        table = self.doc.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, cell_tokens in enumerate(row):
                paragraph = table.cell(r, c).paragraphs[0]
                self._runs(paragraph, cell_tokens, bold=r == 0)

    def _inline(self, token: Token) -> None:
        if self.table is not None:
            self.row.append(token.children or [])
            return
        level = self.pending_heading
        if level is not None:
            self.pending_heading = None
            paragraph = self.doc.add_heading(level=min(level, 9))
        elif self.lists:
            style = "List Bullet" if self.lists[-1] == "bullet" else "List Number"
            depth = min(len(self.lists), 3)
            paragraph = self.doc.add_paragraph(style=style if depth == 1 else f"{style} {depth}")
        elif self.quote:
            paragraph = self.doc.add_paragraph(style="Quote")
        else:
            paragraph = self.doc.add_paragraph()
        self._runs(paragraph, token.children or [])

    def _fence(self, token: Token) -> None:
        paragraph = self.doc.add_paragraph()
        run = paragraph.add_run(token.content.rstrip("\n"))
        run.font.name = "Courier New"
        run.font.size = Pt(9)

    _code_block = _fence

    def _hr(self, token: Token) -> None:
        self.doc.add_paragraph("* * *")

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
                run = paragraph.add_run(child.content)
                run.bold, run.italic, run.font.strike = strong or None, em or None, strike or None
                if kind == "code_inline":
                    run.font.name = "Courier New"
