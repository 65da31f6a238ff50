"""The text formats: HTML (its main content, via trafilatura, as Markdown), Markdown and plain text.
Blocks are paragraphs; a Markdown heading names the blocks under it.
"""

import re

from spek.documents.blocks import HTML, MARKDOWN, TEXT, ExtractedDocument, TextBlock

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)\n", re.S)
_FRONT_TITLE = re.compile(r"^title:[ \t]*[\"']?(.+?)[\"']?[ \t]*$", re.M)


def plain(text: str) -> ExtractedDocument:
    paragraphs = (paragraph.strip() for paragraph in re.split(r"\n[ \t]*\n", text))
    return ExtractedDocument(TEXT, None, [TextBlock(p) for p in paragraphs if p])


def markdown(text: str) -> ExtractedDocument:
    title, blocks = _markdown_blocks(text)
    return ExtractedDocument(MARKDOWN, title, blocks)


def html(text: str) -> ExtractedDocument:
    # trafilatura and its date parser take a quarter of a second to import: only HTML pays for them.
    import trafilatura

    # Main content only (no navigation, cookie banners, footers), as Markdown to keep its headings.
    content = trafilatura.extract(text, output_format="markdown", include_tables=True, include_comments=False)
    if not content:
        # A page too small for trafilatura's notion of an article: all of its visible text, then.
        content = trafilatura.html2txt(text)
    metadata = trafilatura.extract_metadata(text)
    page_title = metadata.title.strip() if metadata is not None and metadata.title else None
    title, blocks = _markdown_blocks(content or "")
    return ExtractedDocument(HTML, page_title or title, blocks)


def _markdown_blocks(text: str) -> tuple[str | None, list[TextBlock]]:
    """Paragraphs of Markdown, with headings (ATX and Setext) as blocks of their own; the title is the
    front matter's or the first top-level heading.
    """
    title: str | None = None
    if front := _FRONT_MATTER.match(text):
        if found := _FRONT_TITLE.search(front.group(1)):
            title = found.group(1).strip()
        text = text[front.end() :]
    blocks: list[TextBlock] = []
    heading: str | None = None
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        if paragraph := "\n".join(lines).strip():
            blocks.append(TextBlock(paragraph, None, heading))
        lines.clear()

    def start(name: str, level: int) -> None:
        nonlocal heading, title
        flush()
        heading = name
        if level == 1 and title is None:
            title = name
        blocks.append(TextBlock(name, None, heading))

    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        if fenced or _FENCE.match(line):
            lines.append(line)
        elif atx := _ATX.match(line):
            start(atx.group(2).strip(), len(atx.group(1)))
        elif (setext := _SETEXT.match(line)) and len(lines) == 1 and lines[0].strip():
            name = lines.pop().strip()
            start(name, 1 if setext.group(1).startswith("=") else 2)
        elif not line.strip() or _RULE.match(line):
            flush()
        else:
            lines.append(line)
    flush()
    return title, blocks
