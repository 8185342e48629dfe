from django import template
from django.utils.safestring import SafeString

from drafts import citations, markdown_html
from drafts.models import DraftVersion, Generation

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Model output as sanitized HTML."""
    return markdown_html.render_markdown(text)


@register.filter
def plain_text(text: str) -> str:
    """Markdown as the words a reader sees, for one-line excerpts (escaped as any text)."""
    return markdown_html.plain_text(text or "")


@register.filter
def version_html(version: DraftVersion) -> SafeString:
    """A draft version's text as sanitized HTML, rendered once per version (cached)."""
    return markdown_html.version_html(version)


@register.filter
def seconds(milliseconds: int | None) -> str:
    """1234 → "1.2 s" (blank when unknown)."""
    return "" if milliseconds is None else f"{milliseconds / 1000:.1f} s"


@register.simple_tag
def grounding(*, version: DraftVersion | None = None, generation: Generation | None = None):
    """What a text's citation markers point at: the passages given to ``generation`` (a live
    one), or to the generation ``version``'s text came from (``citations.Grounding``)."""
    if generation is None:
        generation = citations.grounding_generation(version)
    return citations.Grounding.of(generation)


@register.filter
def cite(html: str, found) -> SafeString:
    """Sanitized HTML with its ``[n]`` markers linked to the passages ``found`` (a
    ``Grounding``; anything else leaves the HTML as it is)."""
    return citations.link(html, getattr(found, "citations", None))


@register.filter
def cite_notes(html: str, found) -> SafeString:
    """As ``cite``, for an exported file: the markers link to its footnotes."""
    return citations.link(html, getattr(found, "citations", None), footnotes=True)
