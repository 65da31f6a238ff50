"""An uploaded document's text, in blocks that know their page and heading. Blocking: callers run it
in a thread. Every refusal is a SpekError that tells the person what to do.
"""

from pathlib import Path

from spek.documents import pdf, text, word
from spek.documents.blocks import DOCX, HTML, MARKDOWN, PDF, ExtractedDocument, TextBlock
from spek.documents.sniff import sniff
from spek.errors import BadUserInput

__all__ = ["ExtractedDocument", "TextBlock", "extract"]


def extract(path: Path, filename: str) -> ExtractedDocument:
    """The document at path; filename is the name it was uploaded as, for messages and as a hint."""
    sniffed = sniff(path, filename)
    if sniffed.content_type == PDF:
        document = pdf.extract(path, filename)
    elif sniffed.content_type == DOCX:
        document = word.extract(path, filename)
    elif sniffed.content_type == HTML:
        document = text.html(sniffed.text or "")
    elif sniffed.content_type == MARKDOWN:
        document = text.markdown(sniffed.text or "")
    else:
        document = text.plain(sniffed.text or "")
    if not any(block.text.strip() for block in document.blocks):
        raise BadUserInput(_no_text(filename, document.content_type))
    return document


def _no_text(filename: str, content_type: str) -> str:
    if content_type == PDF:
        return (
            f"{filename} has no text layer: its pages are images (a scan or a photo). Run text recognition (OCR) "
            "on it — most scanner apps and PDF editors can — and upload the result."
        )
    return f"{filename} contains no text: check that it is the right file and upload it again."
