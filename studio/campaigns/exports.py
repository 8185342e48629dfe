"""The campaign as one ZIP for the people who publish it and the people who sign it off.

- ``deliverables/NN-<channel>.md`` and ``.docx``: each deliverable's newest version, through
  the drafts' own export (``drafts.exports.export_version``: the same Markdown, citations as
  footnotes, the same DOCX writer and its caps);
- ``google-ads-responsive-search-ad.csv``: the headlines and descriptions in the columns
  Google Ads Editor imports for a responsive search ad (Campaign, Ad group, Headline 1–15,
  Description 1–4, Final URL);
- ``social-posts.csv``: one row per post (X, LinkedIn, Meta) with its length and limit;
- ``brief.html``: one page for stakeholders, the brief and the copy deck with each item's
  check. Model output is untrusted: it goes through the studio's sanitized Markdown rendering
  or Django's escaping, and the page forbids scripts and remote loads (its CSP).

CSV cells that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``) get a
leading apostrophe: the copy is the model's text, and a file opened in a spreadsheet must not
run it. The CSVs are UTF-8 with a byte-order mark, so Excel reads Chinese correctly.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from dataclasses import dataclass, replace

from django.template.loader import render_to_string
from django.utils.text import slugify

from drafts.exports import ExportRefused, export_version

from .board import Row, board_rows
from .models import Campaign

ZIP_TYPE = "application/zip"
HEADLINES, DESCRIPTIONS = 15, 4  # what one responsive search ad holds
SOCIAL = ("x_post", "linkedin_post", "meta_primary_text", "meta_headline")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CampaignExport:
    content: bytes
    filename: str
    content_type: str = ZIP_TYPE


def cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(_FORMULA) else text


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([[cell(str(value)) for value in row] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def _items(rows: list[Row], channel: str) -> list[str]:
    return [
        item.text
        for row in rows
        if row.deliverable.channel == channel and row.report is not None
        for item in row.report.items
    ]


def google_ads_csv(campaign: Campaign, rows: list[Row]) -> bytes | None:
    """One responsive search ad: the campaign's headlines and descriptions in Google Ads
    Editor's columns (the first 15 and 4; blank columns for fewer). None without any."""
    headlines = _items(rows, "google_ads_headline")[:HEADLINES]
    descriptions = _items(rows, "google_ads_description")[:DESCRIPTIONS]
    if not headlines and not descriptions:
        return None
    header = ["Campaign", "Ad group"]
    header += [f"Headline {n}" for n in range(1, HEADLINES + 1)]
    header += [f"Description {n}" for n in range(1, DESCRIPTIONS + 1)]
    header += ["Final URL"]
    row = [campaign.title, campaign.product or campaign.title]
    row += _pad(headlines, HEADLINES) + _pad(descriptions, DESCRIPTIONS) + [""]
    return _csv([header, row])


def _pad(items: list[str], size: int) -> list[str]:
    return items + [""] * (size - len(items))


def social_csv(rows: list[Row]) -> bytes | None:
    """One row per social post: network, post number, text, length and limit."""
    lines = [
        [row.deliverable.channel_name, n, item.text, item.length, item.limit or ""]
        for row in rows
        if row.deliverable.channel in SOCIAL and row.report is not None
        for n, item in enumerate(row.report.items, 1)
    ]
    return _csv([["Network", "Post", "Text", "Length", "Limit"], *lines]) if lines else None


def _stem(number: int, row: Row) -> str:
    name = slugify(row.deliverable.channel_name, allow_unicode=True) or "deliverable"
    return f"{number:02d}-{name}"


def export_campaign(campaign: Campaign) -> CampaignExport:
    """The campaign's ZIP (see the module's docstring). A deliverable not generated yet is
    listed in the brief and has no files; one too large for a Word file has its Markdown."""
    rows = [_saved(row) for row in board_rows(campaign)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, row in enumerate(rows, 1):
            if row.latest is None:
                continue
            stem = f"deliverables/{_stem(number, row)}"
            archive.writestr(f"{stem}.md", export_version(row.latest, "md").content)
            with contextlib.suppress(ExportRefused):  # too large for Word: its Markdown stays
                archive.writestr(f"{stem}.docx", export_version(row.latest, "docx").content)
        for name, data in (
            ("google-ads-responsive-search-ad.csv", google_ads_csv(campaign, rows)),
            ("social-posts.csv", social_csv(rows)),
        ):
            if data is not None:
                archive.writestr(name, data)
        archive.writestr("brief.html", brief_html(campaign, rows).encode())
    name = slugify(campaign.title, allow_unicode=True) or "campaign"
    return CampaignExport(buffer.getvalue(), f"{name}.zip")


def _saved(row: Row) -> Row:
    """The row with the check of its newest saved version (not of a text still streaming)."""
    latest = row.latest
    return replace(row, report=row.deliverable.check_text(latest.text) if latest else None)


def brief_html(campaign: Campaign, rows: list[Row]) -> str:
    """The one-page brief and copy deck."""
    return render_to_string("campaigns/export_brief.html", {"campaign": campaign, "rows": rows})
