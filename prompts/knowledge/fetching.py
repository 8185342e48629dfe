"""A URL's document, where this server may reach the network (KNOWLEDGE_FETCH_ALLOWED).

Off by default: a studio inside a company network could otherwise be asked to read its own
intranet (SSRF). When on, only http(s) to a public address is fetched, without following
redirects elsewhere, and no more than KNOWLEDGE_MAX_BYTES is read.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from .parsing import MEDIA_TYPES, Document, SourceError, kind_for, parse


def fetch(url: str) -> Document:
    """The document at ``url``, parsed, or SourceError saying why not."""
    if not settings.KNOWLEDGE_FETCH_ALLOWED:
        raise SourceError(
            _(
                "This server may not fetch URLs (KNOWLEDGE_FETCH_ALLOWED is off). Download the "
                "page and upload the file instead."
            )
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(_("Only http and https URLs can be fetched."))
    if not _public(parts.hostname):
        raise SourceError(_("%(host)s is not a public address.") % {"host": parts.hostname})
    try:
        data, media_type = _download(url)
    except httpx.HTTPError as error:
        raise SourceError(
            _("The URL could not be fetched: %(error)s") % {"error": error.__class__.__name__}
        ) from None
    kind = MEDIA_TYPES.get(media_type) or kind_for(parts.path or "page.html")
    return parse(data, kind=kind, url=url)


def _public(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        raise SourceError(_("%(host)s could not be found.") % {"host": host}) from None
    return bool(addresses) and all(ipaddress.ip_address(a).is_global for a in addresses)


def _download(url: str) -> tuple[bytes, str]:
    limit = settings.KNOWLEDGE_MAX_BYTES
    timeout = settings.KNOWLEDGE_FETCH_TIMEOUT
    with httpx.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
        if response.status_code != 200:
            raise SourceError(
                _("The URL answered %(status)s, not a document.") % {"status": response.status_code}
            )
        received = bytearray()
        for block in response.iter_bytes():
            received += block
            if len(received) > limit:
                raise SourceError(
                    _("The document is larger than the %(limit)s bytes this studio accepts.")
                    % {"limit": limit}
                )
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return bytes(received), media_type
