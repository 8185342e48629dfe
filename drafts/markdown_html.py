"""Markdown to HTML for model output, which is untrusted input: always sanitized.

Rendering is bounded: text over ``MAX_MARKDOWN_CHARS`` is shown in full but unformatted, and
a draft version's HTML (its text never changes) is rendered once and kept in the cache, so
the draft page, the share page and the HTML export of a version do not render it per view.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import nh3
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from studio import degraded

if TYPE_CHECKING:
    from .models import DraftVersion

# CommonMark plus tables and strikethrough; raw HTML in the source is escaped, not passed on,
# and nh3 then removes anything unsafe that Markdown itself could produce (e.g. javascript:).
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)
_ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip

# markdown-it is pure Python: with nh3 it formats about 0.4 MB per CPU second here (800 KB of
# prose or of table: 1.1–1.4 s CPU, twice that in wall time on a busy machine, in one thread
# that a departed client does not stop). 1 MB keeps one render to a few seconds, and the cache
# makes it once per version. Model answers are tens of KB; only pasted or scripted text gets
# near. Longer text is still shown, all of it, as plain text (linear and cheap).
MAX_MARKDOWN_CHARS = 1_000_000
# Part of every cache key: bump it when the HTML changes (tags, parser options, the notice).
RENDERER = 1
CACHE_SECONDS = 24 * 60 * 60


def too_long(text: str) -> bool:
    """Whether ``text`` is past what is formatted as Markdown (shown as plain text instead)."""
    return len(text) > MAX_MARKDOWN_CHARS


def render_markdown(text: str) -> SafeString:
    """Render Markdown to sanitized HTML that is safe to put in a page."""
    text = text or ""
    if too_long(text):
        return _unformatted(text)
    return sanitize(_markdown.render(text))


def sanitize(html: str, marks: dict[str, set[str]] | None = None) -> SafeString:
    """``html`` with only what Markdown output may hold (and ``marks``: extra tags and their
    allowed attributes, e.g. a diff's ``del``/``ins`` with a class)."""
    key = tuple(sorted((tag, frozenset(names)) for tag, names in (marks or {}).items()))
    return mark_safe(_cleaner(key).clean(html))  # noqa: S308 — sanitized just here


@functools.cache
def _cleaner(marks: tuple[tuple[str, frozenset[str]], ...]) -> nh3.Cleaner:
    """The sanitizer for these marks, built once: ``nh3.clean`` builds one per call from its
    arguments, 2.5× the work of cleaning a streamed block (docs/decisions/0035-*.md)."""
    return nh3.Cleaner(
        tags=_ALLOWED_TAGS | {tag for tag, _ in marks},
        attributes={"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}
        | {tag: set(names) for tag, names in marks},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(text: str) -> str:
    """A clean text projection of Markdown for one-line excerpts: the words as a reader sees
    them (no ``#``, ``**``, link targets or table pipes), blocks joined by spaces."""
    blocks = []
    for token in _markdown.parse(text[:MAX_MARKDOWN_CHARS]):
        if token.type == "inline":
            children = token.children or ()
            blocks.append("".join(" " if c.type.endswith("break") else c.content for c in children))
        elif token.type in {"fence", "code_block"}:
            blocks.append(token.content)
    return " ".join(" ".join(blocks).split())


def _unformatted(text: str) -> SafeString:
    """The whole text, escaped, with a notice saying why it is not formatted."""
    notice = _(
        "This text is too long to format (over %(limit)s characters): "
        "it is shown in full as plain text."
    ) % {"limit": f"{MAX_MARKDOWN_CHARS:,}"}
    return format_html('<p role="note"><em>{}</em></p>\n<pre>{}</pre>\n', notice, text)


def cached[T](version: DraftVersion, part: str, build: Callable[[], T]) -> T:
    """``build()`` for this version, computed once and then read from the cache.

    A version's text never changes. The key still carries a digest of the text, so that two
    databases sharing one cache (or a restored one that reuses ids) never show each other's
    text; the language is in it for the notice of over-long text.
    """
    return cached_for(f"{version.pk}:{part}", version.text, build)


def cached_for[T](name: str, text: str, build: Callable[[], T]) -> T:
    """``build()`` of ``text`` (what ``name`` names: a version's part, a suggestion's diff),
    computed once per text and language, then read from the cache (see ``cached``)."""
    digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
    key = f"drafts:html:{RENDERER}:{name}:{get_language()}:{digest}"
    # While the shared cache is down, this worker's memory stands in (studio.degraded).
    found = degraded.run(lambda cache: cache.get(key), what="markdown")
    if found is None:
        found = build()
        degraded.run(lambda cache: cache.set(key, found, CACHE_SECONDS), what="markdown")
    return found


def version_html(version: DraftVersion) -> SafeString:
    """The version's text as sanitized HTML, rendered once per version."""
    return cached(version, "html", lambda: render_markdown(version.text))
