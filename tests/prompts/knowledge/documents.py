"""Documents built in memory for the knowledge tests: PDFs with and without text, DOCX files,
and a zip bomb posing as a DOCX."""

from __future__ import annotations

import io
import zipfile

import docx
from pypdf import PdfWriter


def pdf_with_text(*pages: str) -> bytes:
    """A small valid PDF whose pages carry ``pages`` as real text (Helvetica, ASCII)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]  # the page tree is filled in below
    kids = []
    for text in pages:
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
        objects.append(
            f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream"
        )
        content = len(objects)
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
            ">> >> >> "
            f"/Contents {content} 0 R >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    out.write(trailer.encode())
    return out.getvalue()


def blank_pdf(pages: int = 1) -> bytes:
    """A PDF of blank pages: no text layer, as a scan without OCR reads."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_file(*paragraphs: tuple[str, str]) -> bytes:
    """A DOCX of (style, text) paragraphs: ("Heading 1", "Title"), ("Normal", "Body")."""
    document = docx.Document()
    for style, text in paragraphs:
        document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb(unpacked: int) -> bytes:
    """A small zip named like a DOCX whose one member unpacks to ``unpacked`` bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * unpacked)
    return out.getvalue()


def long_pdf(pages: int = 200) -> bytes:
    """A PDF of ``pages`` pages, each with its own line of text ("Page 7 …")."""
    return pdf_with_text(
        *(
            f"Page {n} of the Lumen manual: chapter {n} covers dimming step {n}."
            for n in range(1, pages + 1)
        )
    )


def big_markdown(size: int) -> bytes:
    """UTF-8 Markdown of about ``size`` bytes: headed sections in English and Chinese, with a
    fenced code block now and then (never cut when the parser splits a large file)."""
    parts, total, n = [], 0, 0
    while total < size:
        n += 1
        part = (
            f"## Section {n}\n\nThe Lumen lamp dims steplessly; section {n} covers setting "
            f"number {n}. 台灯支持无级调光，长按按钮即可调节亮度。\n\n"
        )
        if n % 50 == 0:
            part += f"```\nlumen set --level {n}\n\nlumen get\n```\n\n"
        parts.append(part)
        total += len(part.encode())
    return "".join(parts).encode()
