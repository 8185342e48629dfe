"""Fetching a URL: refused with a clear error unless KNOWLEDGE_FETCH_ALLOWED, and then only
public http(s) addresses, within the size limit."""

import httpx
import pytest
import respx

from prompts.knowledge import fetching
from prompts.knowledge.fetching import fetch
from prompts.knowledge.parsing import Kind, SourceError


@pytest.fixture
def public(monkeypatch):
    """Every host resolves to a public address (no DNS in the tests)."""
    monkeypatch.setattr(
        fetching.socket, "getaddrinfo", lambda host, port: [(0, 0, 0, "", ("93.184.216.34", 0))]
    )


def test_fetching_is_off_by_default_and_says_so(settings):
    assert settings.KNOWLEDGE_FETCH_ALLOWED is False
    with respx.mock(assert_all_called=False) as network:
        route = network.get("https://example.com/sheet.html")
        with pytest.raises(SourceError, match="may not fetch URLs.*KNOWLEDGE_FETCH_ALLOWED"):
            fetch("https://example.com/sheet.html")
    assert not route.called


def test_an_allowed_fetch_parses_by_content_type(settings, public):
    settings.KNOWLEDGE_FETCH_ALLOWED = True
    page = "<title>Sheet</title><script>x()</script><p>Twelve hours.</p>"
    with respx.mock() as network:
        network.get("https://example.com/lumen").respond(
            200, text=page, headers={"Content-Type": "text/html; charset=utf-8"}
        )
        document = fetch("https://example.com/lumen")
    assert (document.kind, document.url) == (Kind.HTML, "https://example.com/lumen")
    assert document.text == "# Sheet\n\nTwelve hours."


def test_an_allowed_fetch_refuses_private_addresses_other_schemes_and_errors(
    settings, monkeypatch, public
):
    settings.KNOWLEDGE_FETCH_ALLOWED = True
    with pytest.raises(SourceError, match="Only http and https"):
        fetch("file:///etc/passwd")
    with respx.mock() as network:
        network.get("https://example.com/down").mock(side_effect=httpx.ConnectError("no"))
        network.get("https://example.com/gone").respond(404)
        network.get("https://example.com/big").respond(200, content=b"x" * 2048)
        with pytest.raises(SourceError, match="could not be fetched: ConnectError"):
            fetch("https://example.com/down")
        with pytest.raises(SourceError, match="answered 404"):
            fetch("https://example.com/gone")
        settings.KNOWLEDGE_MAX_BYTES = 1024
        with pytest.raises(SourceError, match="larger than the 1024 bytes"):
            fetch("https://example.com/big")
    monkeypatch.setattr(
        fetching.socket, "getaddrinfo", lambda host, port: [(0, 0, 0, "", ("10.0.0.5", 0))]
    )
    with pytest.raises(SourceError, match="intranet.example is not a public address"):
        fetch("http://intranet.example/")
