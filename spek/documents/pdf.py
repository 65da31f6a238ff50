"""PDF: the text layer of each page with pypdfium2, opened from the file (not read into memory),
one page in memory at a time.
"""

import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from spek.documents.blocks import PDF, ExtractedDocument, TextBlock
from spek.errors import UnsupportedMedia

# PDFium marks unmapped glyphs and some hyphens with control characters; they are noise in text.
_NOISE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def extract(path: Path, filename: str) -> ExtractedDocument:
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as error:
        if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise UnsupportedMedia(
                f"{filename} is password-protected: remove the password (in your PDF viewer, save or print it "
                "as a new PDF without one) and upload it again."
            ) from error
        raise _damaged(filename) from error
    try:
        title = (document.get_metadata_value("Title") or "").strip() or None
        blocks = []
        for index in range(len(document)):
            text = _page_text(document, index)
            if text:
                blocks.append(TextBlock(text, index + 1, None))
    except pdfium.PdfiumError as error:
        raise _damaged(filename) from error
    finally:
        document.close()
    return ExtractedDocument(PDF, title, blocks)


def _page_text(document: pdfium.PdfDocument, index: int) -> str:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            text: str = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    return _NOISE.sub("", text.replace("\r\n", "\n")).strip()


def _damaged(filename: str) -> UnsupportedMedia:
    return UnsupportedMedia(
        f"{filename} could not be read: the PDF is damaged or incomplete. "
        "Open it in a PDF viewer, save or export it again, and upload the new file."
    )
