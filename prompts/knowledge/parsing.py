"""Uploaded, pasted or fetched documents to plain text with Markdown-style headings.

Every format ends as the same thing, a ``Document``: plain text in which headings are lines
starting with ``#`` and paragraphs are separated by blank lines (chunking.py splits on both).
Nothing here writes: a file that breaks a limit or cannot be read raises ``SourceError`` with
a message for the person who uploaded it, before any row exists.

Hostile input: HTML (and the HTML Markdown renders, raw HTML included) goes through nh3 first,
which drops scripts and styles with their content; only then is the sanitized markup turned
into text. A DOCX is a zip: its members' uncompressed sizes are added up before python-docx
opens it, so a zip bomb is refused unread. A PDF's pages are counted before any is read.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePath

import docx
import nh3
from django.conf import settings
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from pypdf import PdfReader
from pypdf.errors import PdfReadError


class SourceError(Exception):
    """A document the studio will not store, with the reason (shown to the user)."""


class Kind:
    MARKDOWN, TEXT, HTML, DOCX, PDF = "markdown", "text", "html", "docx", "pdf"


EXTENSIONS = {
    ".md": Kind.MARKDOWN,
    ".markdown": Kind.MARKDOWN,
    ".txt": Kind.TEXT,
    ".text": Kind.TEXT,
    ".html": Kind.HTML,
    ".htm": Kind.HTML,
    ".docx": Kind.DOCX,
    ".pdf": Kind.PDF,
}
# Content types a fetched URL may answer with.
MEDIA_TYPES = {
    "text/markdown": Kind.MARKDOWN,
    "text/plain": Kind.TEXT,
    "text/html": Kind.HTML,
    "application/xhtml+xml": Kind.HTML,
    "application/pdf": Kind.PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": Kind.DOCX,
}


@dataclass(frozen=True)
class Document:
    """A parsed document, ready to be stored as a source version."""

    kind: str
    text: str
    size: int  # bytes received
    sha256: str
    filename: str = ""
    url: str = ""
    pages: int | None = None
    title: str = field(default="")  # a title found in the document (HTML <title>, a # heading)


def kind_for(filename: str) -> str:
    """The kind a file's extension names, or SourceError listing the ones accepted."""
    kind = EXTENSIONS.get(PurePath(filename).suffix.lower())
    if kind is None:
        raise SourceError(
            _("%(name)s: not a format the studio reads (Markdown, text, HTML, DOCX or PDF).")
            % {"name": filename}
        )
    return kind


def parse(data: bytes, *, kind: str, filename: str = "", url: str = "") -> Document:
    """``data`` as a Document, or SourceError (too large, unreadable, no text)."""
    if len(data) > settings.KNOWLEDGE_MAX_BYTES:
        raise SourceError(
            _("The document is %(size)s bytes; the most this studio accepts is %(limit)s.")
            % {"size": len(data), "limit": settings.KNOWLEDGE_MAX_BYTES}
        )
    pages = None
    if kind == Kind.PDF:
        text, pages = _pdf(data)
    elif kind == Kind.DOCX:
        text = _docx(data)
    else:
        text = _decode(data)
        if kind == Kind.HTML:
            text = html_to_text(text)
        elif kind == Kind.MARKDOWN:
            text = markdown_to_text(text)
        else:
            text = _tidy(text)
    if not text.strip():
        raise SourceError(_("The document has no text to search."))
    digest = hashlib.sha256(data).hexdigest()
    return Document(kind, text, len(data), digest, filename, url, pages, _first_heading(text))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(
            _(
                "The document is not valid UTF-8 (byte %(at)s): save it as UTF-8 and upload "
                "it again."
            )
            % {"at": error.start}
        ) from None


def _tidy(text: str) -> str:
    """Line endings unified, control characters (NUL…) dropped, runs of blank lines shortened."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _first_heading(text: str) -> str:
    match = re.search(r"^#{1,6} +(.+)$", text, re.MULTILINE)
    return match.group(1).strip()[:200] if match else ""


# --- HTML and Markdown -----------------------------------------------------------------------

# The structure worth keeping once nh3 has removed everything else (scripts with their text).
_KEPT_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "li", "ul", "ol", "div", "pre"}
_KEPT_TAGS |= {"table", "tr", "td", "th", "blockquote", "section", "article", "title"}
_DROPPED_WITH_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "svg"}
# Elements that end a paragraph (a list item or table cell only continues its list or row).
_BLOCKS = _KEPT_TAGS - {"br", "li", "td", "th", "title"}


class _Text(HTMLParser):
    """Sanitized HTML to text: a heading becomes a ``#`` line, a block its own paragraph."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "title":
            self.title = []
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.title is not None:
            self.parts.append("\n\n# " + " ".join("".join(self.title).split()) + "\n\n")
            self.title = None
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.title is not None:
            self.title.append(data)
        else:
            # Inside a block, source line breaks are only spaces.
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    """HTML as text: sanitized by nh3 first (no script, style or their content survives)."""
    clean = nh3.clean(
        markup, tags=_KEPT_TAGS, attributes={}, clean_content_tags=_DROPPED_WITH_CONTENT
    )
    parser = _Text()
    parser.feed(clean)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return _tidy("\n".join(lines).replace("\n- \n", "\n"))


_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table"])


def markdown_to_text(text: str) -> str:
    """Markdown as text: rendered, raw HTML included, then sanitized like any HTML."""
    return html_to_text(_markdown.render(_tidy(text)))


# --- DOCX and PDF ----------------------------------------------------------------------------


def _docx(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise SourceError(_("The file is not a valid DOCX document.")) from None
    if unpacked > settings.KNOWLEDGE_MAX_UNPACKED_BYTES:
        raise SourceError(
            _(
                "The DOCX file unpacks to %(size)s bytes, more than the %(limit)s this studio "
                "reads (a compressed file this large may be a zip bomb)."
            )
            % {"size": unpacked, "limit": settings.KNOWLEDGE_MAX_UNPACKED_BYTES}
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 — python-docx raises many kinds for a broken file
        raise SourceError(_("The file is not a valid DOCX document.")) from None
    lines = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = re.fullmatch(r"Heading ([1-6])", style)
        text = paragraph.text.strip()
        if not text:
            continue
        lines.append(f"{'#' * int(level.group(1))} {text}" if level else text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" ".join(cell.text.strip() for cell in row.cells))
    return _tidy("\n\n".join(lines))


def _pdf(data: bytes) -> tuple[str, int]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SourceError(_("The PDF is encrypted: upload a copy without a password."))
        pages = len(reader.pages)
    except PdfReadError:
        raise SourceError(_("The file is not a valid PDF document.")) from None
    if pages > settings.KNOWLEDGE_MAX_PAGES:
        raise SourceError(
            _("The PDF has %(pages)s pages; the most this studio reads is %(limit)s.")
            % {"pages": pages, "limit": settings.KNOWLEDGE_MAX_PAGES}
        )
    try:
        texts = [page.extract_text() or "" for page in reader.pages]
    except Exception:  # noqa: BLE001 — a damaged page can fail in many ways inside pypdf
        raise SourceError(_("The PDF could not be read: a page is damaged.")) from None
    text = _tidy("\n\n".join(texts))
    if not text.strip():
        raise SourceError(
            _(
                "The PDF has no text layer (a scanned document?): nothing to search. "
                "Run it through OCR first, or upload the text."
            )
        )
    return text, pages
