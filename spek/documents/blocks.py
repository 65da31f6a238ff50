"""What extraction gives: a document's text in blocks, each with where it stands (page, heading)."""

from dataclasses import dataclass

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
MARKDOWN = "text/markdown"
TEXT = "text/plain"

# Said in every refusal of a type, so a person knows what to upload instead.
SUPPORTED = "Upload a PDF, a Word document (.docx), a web page (.html), Markdown (.md) or plain text (.txt)."


@dataclass(frozen=True)
class TextBlock:
    """A paragraph, a table row, a heading or a PDF page. heading: the nearest heading above it (a heading's
    own block names itself, so a section's title is in the text that is searched); page: 1-based, PDFs only.
    """

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True)
class ExtractedDocument:
    content_type: str
    title: str | None
    blocks: list[TextBlock]
