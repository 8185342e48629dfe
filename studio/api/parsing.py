"""Request bodies as JSON the way RFC 8259 writes it.

Python's ``json`` also reads ``NaN``, ``Infinity`` and ``-Infinity`` (and ``1e999`` as
infinity); a body holding one would
pass the schemas (a float is a float) and then fail where the studio writes JSON again (the
request to DeepSeek, a stored parameter): a 500 for the client's mistake. They are refused
here, with the rest of what cannot be parsed (django-ninja answers 400, "Cannot parse request
body").
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"{number} is out of range")
    return value


class StrictJSON(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return json.loads(request.body, parse_constant=_refuse, parse_float=_finite)
