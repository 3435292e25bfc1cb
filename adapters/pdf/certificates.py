"""Certificates of completion as PDF: an HTML template rendered by WeasyPrint, with a QR code of
the public verification URL. Rendering blocks (about 0.2 s), so it runs in a worker thread."""

from __future__ import annotations

from html import escape

import anyio.to_thread
import segno

from domain.credentials.model import CertificateDocument

# Fonts are the system's (fontconfig): the production image installs DejaVu (Latin, Greek,
# Cyrillic, Arabic, Hebrew) and Noto CJK, so names in any of those scripts render.
TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><style>
@page {{ size: A4 landscape; margin: 18mm; }}
body {{ font-family: "DejaVu Sans", "Noto Sans CJK SC", "Noto Sans", sans-serif; color: #1d2433; text-align: center; }}
.frame {{ border: 3px solid #1d4ed8; padding: 14mm 10mm; height: 150mm; }}
h1 {{ font-size: 30pt; letter-spacing: 1pt; margin: 0 0 8mm; }}
.name {{ font-size: 26pt; font-weight: bold; margin: 6mm 0; }}
.course {{ font-size: 18pt; margin: 4mm 0 10mm; }}
.meta {{ font-size: 11pt; color: #4b5563; }}
.qr {{ margin-top: 6mm; }}
</style></head><body><div class="frame">
<h1>Certificate of Completion</h1>
<p class="meta">This certifies that</p>
<p class="name" dir="auto">{name}</p>
<p class="meta">has completed</p>
<p class="course" dir="auto">{course}</p>
<p class="meta">Completed on {date} &#183; Certificate number {number}</p>
<div class="qr">{qr}</div>
<p class="meta">Verify at {url}</p>
</div></body></html>
"""


def certificate_html(document: CertificateDocument) -> str:
    qr = segno.make(document.verify_url, error="m").svg_inline(scale=3)
    return TEMPLATE.format(
        name=escape(document.student_name),
        course=escape(document.course_title),
        date=escape(document.completion_date),
        number=escape(document.certificate_number),
        url=escape(document.verify_url),
        qr=qr,
    )


def _render(html: str) -> bytes:
    from weasyprint import HTML  # imported on first use: it loads pango and fontconfig

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


class WeasyPrintRenderer:
    async def render(self, document: CertificateDocument) -> bytes:
        return await anyio.to_thread.run_sync(_render, certificate_html(document))
