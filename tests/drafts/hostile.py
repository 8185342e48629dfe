"""Hostile text for the views that show model or user text, and a check that none of it
stays active once rendered (shared by the view tests of compare, conflicts and suggestions)."""

from html.parser import HTMLParser

HOSTILE = (
    "# Plan\n\nSome **bold** text.\n\n<script>alert(1)</script>\n\n"
    '<img src="https://evil.example/x.png" onerror="alert(2)">\n\n'
    '[click](javascript:alert(3)) <a hx-get="/admin/">x</a>\n\n![pic](https://evil.example/p.png)'
)


class Elements(HTMLParser):
    """Every element and its attributes, as a browser would build them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_neutralised(html: str) -> None:
    """No script, no remote image, no event handler, no javascript: link, no htmx attribute."""
    for tag, attrs in Elements(html).found:
        assert tag not in {"script", "img", "iframe", "object"}, tag
        for name, value in attrs.items():
            # hx-disable is the page's own wrapper around the text: it only switches htmx off.
            htmx = name.startswith(("on", "hx-", "sse-")) and name != "hx-disable"
            assert not htmx, (tag, name)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, value)
