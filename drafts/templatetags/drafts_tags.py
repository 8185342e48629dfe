from django import template
from django.utils.safestring import SafeString

from drafts import markdown_html
from drafts.models import DraftVersion

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
