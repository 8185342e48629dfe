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

from ..forms import TemplateForm
from ..models import TemplateVersion
from ..variables import Variable

MAX_ROWS = 200
MAX_BYTES = 1024 * 1024
# Every column must name a variable; past this many the header is refused whole rather than
# listed back column by column.
MAX_COLUMNS = 100


@dataclass
class ParsedInputs:
    """Valid rows as ``(line, inputs)``, or the errors that refuse the whole file."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Unreadable(Exception):
    """The CSV reader gave up on the record that starts at ``line``."""

    def __init__(self, line: int, error: csv.Error) -> None:
        super().__init__(str(error))
        self.line = line


def parse_inputs(
    data: bytes, version: TemplateVersion, *, max_rows: int = MAX_ROWS
) -> ParsedInputs:
    """Parse and validate a CSV of inputs for ``version``; any error refuses every row.

    Line numbers are the file's (the header is line 1), as a spreadsheet shows them. A column
    the template lacks is an error; a missing column falls back to the variable's default.
    Blank lines are skipped.
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
    try:
        _parse(text, version, max_rows, result)
    except Unreadable as error:
        result.rows = []
        result.errors.append(_unreadable_message(error))
    return result


def _parse(text: str, version: TemplateVersion, max_rows: int, result: ParsedInputs) -> None:
    lines = _records(text)
    header = [name.strip() for name in next(lines, (1, []))[1]]
    # Stored versions are read through the schema: one saved before it may hold a bad entry.
    # A knowledge variable is no column: it is filled with passages when each row generates.
    variables = {v.name: v for v in version.variable_specs if not v.is_knowledge}
    if not any(header):
        result.errors.append(_("The file is empty: its first line must name the variables."))
        return
    if problems := _header_problems(header, variables):
        result.errors.extend(problems)
        return
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
        _validate_row(line, values, version, variables, result)
    if not result.rows and not result.errors:
        result.errors.append(_("The file has a header but no rows."))


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """``(first line, cells)`` per record (a quoted value may span lines); blank ones skipped.

    Raises Unreadable where the reader gives up (a value over ``csv.field_size_limit()``).
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise Unreadable(line, error) from error


def _unreadable_message(error: Unreadable) -> str:
    if "field limit" in str(error):
        return _("Line %(line)s: a value is longer than %(max)s characters.") % {
            "line": error.line,
            "max": csv.field_size_limit(),
        }
    return _("Line %(line)s: this is not readable as CSV.") % {"line": error.line}


def _header_problems(header: list[str], variables: dict[str, Variable]) -> list[str]:
    if len(header) > (most := max(MAX_COLUMNS, len(variables))):
        return [_("Too many columns: %(max)s at most.") % {"max": most}]
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
        if name not in header and var.required and not var.has_default
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
    variables: dict[str, Variable],
    result: ParsedInputs,
) -> None:
    data = {name: "" if var.default is None else var.default for name, var in variables.items()}
    data |= values
    form = TemplateForm(version, data)
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

    def clean_inputs(self):
        """Refuse an oversized upload by its declared size, before anything reads it."""
        upload = self.cleaned_data["inputs"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload
