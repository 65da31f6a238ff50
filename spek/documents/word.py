"""DOCX: paragraphs and tables in document order, heading styles as headings. The archive is checked
from its directory before anything is unpacked, so a zip bomb named .docx is refused at no cost.
"""

import zipfile
from pathlib import Path

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from spek.documents.blocks import DOCX, SUPPORTED, ExtractedDocument, TextBlock
from spek.errors import UnsupportedMedia

# Real documents stay far below these: text compresses about 5-10×, images hardly at all.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1024 * 1024  # small parts (styles, settings) may compress very well
MAX_MEMBERS = 10_000

_OTHER_OFFICE = {"xl/workbook.xml": "an Excel workbook", "ppt/presentation.xml": "a PowerPoint presentation"}


def check_archive(path: Path, filename: str) -> None:
    """Refuses a zip that is not a Word document or would unpack to too much; reads only its directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _damaged(filename) from error
    total = sum(member.file_size for member in members)
    ratio = max(
        (m.file_size / max(m.compress_size, 1) for m in members if m.file_size > RATIO_CHECKED_FROM_BYTES), default=0.0
    )
    if total > MAX_UNCOMPRESSED_BYTES or ratio > MAX_RATIO or len(members) > MAX_MEMBERS:
        raise UnsupportedMedia(
            f"{filename} is an archive that would unpack to {total / 1024 / 1024:.0f} MB, far more than a document "
            "holds, so it was not opened. If it is a real Word document, save it again from Word (with large "
            "pictures compressed) and upload it again."
        )
    names = {member.filename for member in members}
    if "word/document.xml" not in names:
        what = next((kind for part, kind in _OTHER_OFFICE.items() if part in names), "a ZIP archive")
        raise UnsupportedMedia(f"{filename} is {what}, not a Word document. {SUPPORTED}")


def extract(path: Path, filename: str) -> ExtractedDocument:
    try:
        document = docx.Document(str(path))
    # python-docx fails on a broken package with KeyError, ValueError, lxml's errors and more.
    except Exception as error:
        raise _damaged(filename) from error
    title = (document.core_properties.title or "").strip() or None
    blocks: list[TextBlock] = []
    heading: str | None = None
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = item.style.name if item.style is not None else ""
            if _is_heading(style):
                heading = text
                if style == "Title" and title is None:
                    title = text
            blocks.append(TextBlock(text, None, heading))
        else:
            blocks.extend(TextBlock(row, None, heading) for row in _rows(item))
    return ExtractedDocument(DOCX, title, blocks)


def _is_heading(style: str) -> bool:
    return style == "Title" or style.startswith("Heading")


def _rows(table: Table) -> list[str]:
    """One line per row, cells joined by " | "; a merged cell is listed by python-docx once per grid
    column it spans, and written once here.
    """
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: list[object] = []
        for cell in row.cells:
            if any(cell._tc is element for element in seen):
                continue
            seen.append(cell._tc)
            if text := " ".join(cell.text.split()):
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _damaged(filename: str) -> UnsupportedMedia:
    return UnsupportedMedia(
        f"{filename} could not be read: the Word document is damaged or incomplete. "
        "Open it in Word, save it again as .docx, and upload it again."
    )
