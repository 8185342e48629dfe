"""Uploaded, pasted or fetched documents to plain text with Markdown-style headings.

Every format ends as the same thing, a ``Document``: plain text in which headings are lines
starting with ``#``, paragraphs are separated by blank lines and code (HTML's ``<pre>``,
Markdown's code blocks) is fenced with ``` and keeps its lines (chunking.py splits on all three,
and never reads a ``#`` comment in code as a heading).
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
from collections.abc import Callable
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

from .chunking import FENCE


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


# ``progress(done, total)``: called as a long document is read (a PDF's pages, a large
# Markdown file's parts), so a background ingestion can say how far it is.
Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


def parse(
    data: bytes,
    *,
    kind: str,
    filename: str = "",
    url: str = "",
    progress: Progress = _no_progress,
) -> Document:
    """``data`` as a Document, or SourceError (too large, unreadable, no text)."""
    _check_size(data)
    pages = None
    if kind == Kind.PDF:
        text, pages = _pdf(data, progress)
    elif kind == Kind.DOCX:
        text = _docx(data)
    else:
        text = _decode(data)
        if kind == Kind.HTML:
            text = html_to_text(text)
        elif kind == Kind.MARKDOWN:
            text = markdown_to_text(text, progress)
        else:
            text = _tidy(text)
    progress(1, 1)
    if not text.strip():
        raise SourceError(_("The document has no text to search."))
    digest = hashlib.sha256(data).hexdigest()
    return Document(kind, text, len(data), digest, filename, url, pages, _first_heading(text))


def _check_size(data: bytes) -> None:
    if len(data) > settings.KNOWLEDGE_MAX_BYTES:
        raise SourceError(
            _("The document is %(size)s bytes; the most this studio accepts is %(limit)s.")
            % {"size": len(data), "limit": settings.KNOWLEDGE_MAX_BYTES}
        )


def precheck(data: bytes, *, kind: str) -> bool:
    """Whether ``data`` is long enough to be read in the background (over
    ``KNOWLEDGE_BACKGROUND_BYTES``, or a PDF of more than ``KNOWLEDGE_BACKGROUND_PAGES``
    pages); one that is gets the checks that need no parsing now, so that an upload that
    can be refused at once is (SourceError): its size, its encoding, a PDF's page count and
    password, a DOCX's unpacked size."""
    _check_size(data)
    pages = _pdf_pages(_pdf_reader(data)) if kind == Kind.PDF else 0
    background = (
        len(data) > settings.KNOWLEDGE_BACKGROUND_BYTES
        or pages > settings.KNOWLEDGE_BACKGROUND_PAGES
    )
    if background and kind == Kind.DOCX:
        _docx_archive(data)
    elif background and kind != Kind.PDF:
        _decode(data)
    return background


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
    prose = re.sub(rf"^{FENCE}$.*?^{FENCE}$", "", text, flags=re.MULTILINE | re.DOTALL)
    match = re.search(r"^#{1,6} +(.+)$", prose, re.MULTILINE)
    return match.group(1).strip()[:200] if match else ""


# --- HTML and Markdown -----------------------------------------------------------------------

# The structure worth keeping once nh3 has removed everything else (scripts with their text).
_KEPT_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "li", "ul", "ol", "div", "pre"}
_KEPT_TAGS |= {"table", "tr", "td", "th", "blockquote", "section", "article", "title"}
_DROPPED_WITH_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "svg"}
# Elements that end a paragraph (a list item or table cell only continues its list or row).
_BLOCKS = _KEPT_TAGS - {"br", "li", "td", "th", "title"}


# Marks a line of code (in <pre>) whose spaces html_to_text keeps: a control character, which
# _tidy removes from any document before it is read, so no document can forge it.
_VERBATIM = "\x01"


class _Text(HTMLParser):
    """Sanitized HTML to text: a heading becomes a ``#`` line, a block its own paragraph."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] | None = None
        self.pre = 0  # inside how many <pre> (code keeps its lines)

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "pre" and not self.pre:
            self.parts.append(f"\n\n{_VERBATIM}{FENCE}\n{_VERBATIM}")
        if tag == "pre":
            self.pre += 1
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
        elif tag in _BLOCKS and tag != "pre":
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.pre == 1:
            if self.parts[-1].endswith("\n" + _VERBATIM):  # the code's own last line break
                self.parts[-1] = self.parts[-1][: -len(_VERBATIM) - 1]
            self.parts.append(f"\n{_VERBATIM}{FENCE}")
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        if tag == "title" and self.title is not None:
            self.parts.append("\n\n# " + " ".join("".join(self.title).split()) + "\n\n")
            self.title = None
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.title is not None:
            self.title.append(data)
        elif self.pre:
            # Code keeps its lines and their indentation: each line marked as verbatim.
            self.parts.append(data.replace("\n", "\n" + _VERBATIM))
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
    lines = [
        line.rstrip().removeprefix(_VERBATIM)
        if line.startswith(_VERBATIM)
        else " ".join(line.split())
        for line in "".join(parser.parts).split("\n")
    ]
    return _tidy("\n".join(lines).replace("\n- \n", "\n"))


_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table"])
# A large Markdown file is rendered in parts of about this many characters, each ending at a
# blank line outside any fenced code block, so that its progress can be told.
MARKDOWN_PART_CHARS = 256 * 1024
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_to_text(text: str, progress: Progress = _no_progress) -> str:
    """Markdown as text: rendered, raw HTML included, then sanitized like any HTML."""
    parts = _markdown_parts(_tidy(text))
    texts = []
    for done, part in enumerate(parts, start=1):
        texts.append(html_to_text(_markdown.render(part)))
        progress(done, len(parts))
    return _tidy("\n\n".join(texts))


def _markdown_parts(text: str) -> list[str]:
    """``text`` cut at blank lines outside fenced code into parts of about
    MARKDOWN_PART_CHARS (one part when it is shorter)."""
    parts: list[str] = []
    lines: list[str] = []
    size, fenced = 0, False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        if not line.strip() and not fenced and size >= MARKDOWN_PART_CHARS:
            parts.append("\n".join(lines))
            lines, size = [], 0
            continue
        lines.append(line)
        size += len(line) + 1
    parts.append("\n".join(lines))
    return parts


# --- DOCX and PDF ----------------------------------------------------------------------------


def _docx_archive(data: bytes) -> None:
    """SourceError unless ``data`` is a zip that unpacks to at most the limit."""
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


def _docx(data: bytes) -> str:
    _docx_archive(data)
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


def _pdf_reader(data: bytes) -> PdfReader:
    try:
        return PdfReader(io.BytesIO(data))
    except PdfReadError:
        raise SourceError(_("The file is not a valid PDF document.")) from None


def _pdf_pages(reader: PdfReader) -> int:
    """The page count, or SourceError (encrypted, unreadable, over KNOWLEDGE_MAX_PAGES)."""
    try:
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
    return pages


def _pdf(data: bytes, progress: Progress = _no_progress) -> tuple[str, int]:
    reader = _pdf_reader(data)
    pages = _pdf_pages(reader)
    texts = []
    try:
        for number, page in enumerate(reader.pages, start=1):
            texts.append(page.extract_text() or "")
            progress(number, pages)
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
