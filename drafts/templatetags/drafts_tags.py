from django import template
from django.utils.safestring import SafeString

from drafts.rendering import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Model output as sanitized HTML."""
    return render_markdown(text)


@register.filter
def seconds(milliseconds: int | None) -> str:
    """1234 → "1.2 s" (blank when unknown)."""
    return "" if milliseconds is None else f"{milliseconds / 1000:.1f} s"
