"""HTTP helpers for views: the htmx request type and numbers from requests (long responses that
hold no thread: ``studio.tuning.threadless``)."""

import re

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# The largest id or number a request may name: PostgreSQL's bigint, and what SQLite stores.
MAX_REQUEST_NUMBER = 2**63 - 1
_ASCII_NUMBER = re.compile(r"[0-9]{1,19}")


def request_number(raw: str | None, *, maximum: int = MAX_REQUEST_NUMBER) -> int | None:
    """A non-negative whole number from a query string, form field or header; else None.

    ASCII digits only: ``str.isdigit()`` also accepts superscripts (``²``) and other scripts'
    digits, some of which ``int()`` then refuses (a 500); a bound keeps the number within what
    the database and ``int()`` take.
    """
    if raw is None or not _ASCII_NUMBER.fullmatch(raw):
        return None
    number = int(raw)
    return number if number <= maximum else None
