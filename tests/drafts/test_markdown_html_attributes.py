"""Model output rendered as Markdown never carries an attribute htmx or a script would act on."""

from html.parser import HTMLParser

import pytest

from drafts.markdown_html import render_markdown

# What a model (or a prompt injected into it) might write to plant behaviour in the page.
HOSTILE = [
    '<span hx-post="/w/1/members/" hx-trigger="load" hx-vals=\'{"role":"owner"}\'>x</span>',
    '<div data-hx-get="/x" data-x="1">x</div>',
    '<meta http-equiv="refresh" content="0;url=/x">',
    '<a href="/x" hx-get="/x" onclick="x()">a</a>',
    '[a](javascript:alert(1)) [b](/x "t") ![c](/x.png) <img src=x onerror=x()>',
    '| a |\n|:-:|\n| <td hx-get="/x">b</td> |',
    "```js hx-get=/x\ncode\n```",  # a fence's info string becomes a class attribute
]
# Everything render_markdown may put on an element.
ALLOWED = {"href", "title", "align", "rel"}


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.pairs += [(name, value or "") for name, value in attrs]


@pytest.mark.parametrize("text", HOSTILE)
def test_rendered_markdown_has_no_htmx_data_or_event_attributes(text):
    """The sanitizer's allowlist (drafts.markdown_html) keeps links, titles and table alignment."""
    parser = _Attributes()
    parser.feed(render_markdown(text))
    assert {name for name, _ in parser.pairs} <= ALLOWED
    assert not [v for n, v in parser.pairs if n == "href" and v.lower().startswith("javascript")]
