"""A batch's inputs from CSV: the header names the template's variables; every row is checked
by the same form (types, choices, lengths, blocked patterns, context size) as one run's inputs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .forms import TemplateForm
from .models import TemplateVersion

MAX_ROWS = 200
MAX_BYTES = 1024 * 1024


@dataclass
class ParsedInputs:
    """Valid rows as ``(line, inputs)``, or the errors that refuse the whole file."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_inputs(
    data: bytes, version: TemplateVersion, *, max_rows: int = MAX_ROWS, workspace=None
) -> ParsedInputs:
    """Parse and validate a CSV of inputs for ``version``; any error refuses every row.

    Line numbers are the file's (the header is line 1), as a spreadsheet shows them. A column
    the template lacks is an error; a missing column falls back to the variable's default.
    Blank lines are skipped. ``workspace``: whose brand voices a ``brand_voice`` column may
    name (default: the template's workspace).
    """
    result = ParsedInputs()
    if len(data) > MAX_BYTES:
        result.errors.append(_("The file is larger than 1 MB."))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append(_("The file is not UTF-8 text: save it as “CSV UTF-8”."))
        return result
    lines = _records(text)
    header = [name.strip() for name in next(lines, (1, []))[1]]
    variables = {v["name"]: v for v in version.variables}
    if not any(header):
        result.errors.append(_("The file is empty: its first line must name the variables."))
        return result
    if problems := _header_problems(header, variables):
        result.errors.extend(problems)
        return result
    for count, (line, cells) in enumerate(lines, start=1):
        if count > max_rows:
            result.errors.append(_("Too many rows: %(max)s at most per batch.") % {"max": max_rows})
            break
        if len(cells) > len(header):
            result.errors.append(
                _("Line %(line)s: more values than columns (a comma inside a value needs quotes).")
                % {"line": line}
            )
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
        _validate_row(line, values, version, variables, result, workspace)
    if not result.rows and not result.errors:
        result.errors.append(_("The file has a header but no rows."))
    return result


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """``(first line, cells)`` per record (a quoted value may span lines); blank ones skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield line, cells
        line = reader.line_num + 1


def _header_problems(header: list[str], variables: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    expected = ", ".join(variables)
    if unknown := [name for name in header if name not in variables]:
        problems.append(
            _("Unknown column(s) %(unknown)s: the template's variables are %(expected)s.")
            % {"unknown": ", ".join(unknown), "expected": expected}
        )
    if len(set(header)) != len(header):
        problems.append(_("A column appears twice in the header."))
    missing = [
        name
        for name, var in variables.items()
        if name not in header and var.get("required", True) and var.get("default") in (None, "")
    ]
    if missing:
        problems.append(
            _("Missing column(s) %(missing)s: every row needs them.")
            % {"missing": ", ".join(missing)}
        )
    return problems


def _validate_row(
    line: int,
    values: dict[str, str],
    version: TemplateVersion,
    variables: dict[str, dict[str, Any]],
    result: ParsedInputs,
    workspace=None,
) -> None:
    data = {name: var.get("default", "") for name, var in variables.items()} | values
    form = TemplateForm(version, data, workspace=workspace)
    if form.is_valid():
        result.rows.append((line, form.cleaned_data))
        return
    for name, messages in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        where = f"{label}: " if label else ""
        for message in messages:
            result.errors.append(
                _("Line %(line)s: %(where)s%(message)s")
                % {"line": line, "where": where, "message": message}
            )


INPUT = (
    "mt-1 w-full rounded-md border border-slate-300 bg-white px-2 py-1 "
    "dark:border-slate-700 dark:bg-slate-800"
)


class BatchUploadForm(forms.Form):
    """A name and the CSV file; the file's rows are checked by ``parse_inputs``."""

    name = forms.CharField(
        label=gettext_lazy("Batch name"),
        max_length=120,
        widget=forms.TextInput(attrs={"class": INPUT}),
    )
    inputs = forms.FileField(
        label=gettext_lazy("Inputs (CSV)"),
        help_text=gettext_lazy(
            "First line: the template's variable names. Then one row per input set."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv", "class": "mt-1 text-sm"}),
    )
