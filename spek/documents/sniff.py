"""The real type of an uploaded file, from its bytes: the name's extension is only a hint for Markdown."""

import codecs
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from spek.documents import word
from spek.documents.blocks import DOCX, HTML, MARKDOWN, PDF, SUPPORTED, TEXT
from spek.errors import BadUserInput, UnsupportedMedia

HEAD_BYTES = 8192
SNIFF_CHARS = 65536  # markup and control characters are judged on the start of the text

# Longest first: a UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]

# Files people upload by mistake, named so the refusal says what the file is.
_BINARY = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-format (.doc) or password-protected Office file"),
    (b"{\\rtf", "a Rich Text (.rtf) file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
]

_MARKDOWN_NAMES = (".md", ".markdown", ".mdown", ".mkd")
_HTML_START = re.compile(r"\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)[\s>]", re.I | re.S)
_HTML_TAG = re.compile(
    r"</?(html|head|body|div|p|span|a|h[1-6]|ul|ol|li|table|tr|td|th|article|section|nav|header|footer|main"
    r"|script|style|meta|link|title|br|img|em|strong|b|i|form|input|button)\b[^>]*>",
    re.I,
)
_MARKDOWN_MARK = re.compile(
    r"^ {0,3}#{1,6}[ \t]+\S"  # ATX heading
    r"|^ {0,3}(```|~~~)"  # fenced code
    r"|\[[^\]\n]+\]\([^)\s]+\)"  # link
    r"|^\S[^\n]*\n {0,3}(=+|-+)[ \t]*$",  # Setext heading
    re.M,
)


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    text: str | None = None  # the decoded text, for the text formats: read once, here


def sniff(path: Path, filename: str) -> Sniffed:
    if path.stat().st_size == 0:
        raise BadUserInput(f"{filename} is empty (0 bytes): check that it is the right file and upload it again.")
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    # The PDF header may follow some junk; readers accept it within the first kilobyte.
    if b"%PDF-" in head[:1024]:
        return Sniffed(PDF)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        word.check_archive(path, filename)
        return Sniffed(DOCX)
    for magic, what in _BINARY:
        if head.startswith(magic):
            raise UnsupportedMedia(f"{filename} is {what}, not a document Spek can read. {SUPPORTED}")
    text = _decode(path, head, filename)
    return Sniffed(_text_type(text, filename), text)


def _decode(path: Path, head: bytes, filename: str) -> str:
    encoding = next((name for bom, name in _BOMS if head.startswith(bom)), None)
    # Without a byte-order mark saying UTF-16/32, text in any encoding has next to no control bytes
    # (NUL least of all): binary is refused on its first bytes, before the rest is read.
    if encoding is None and (b"\x00" in head or _control_bytes(head) > 0.01 * len(head)):
        raise _not_text(filename)
    data = path.read_bytes()
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError:
        if encoding is not None:
            raise _not_text(filename) from None
        text = _legacy(data, filename)
    if _control_share(text[:SNIFF_CHARS]) > 0.01:
        raise _not_text(filename)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _legacy(data: bytes, filename: str) -> str:
    """Text in a legacy encoding (Windows-1251, Shift JIS…), as charset-normalizer guesses it; its
    guess is decoded strictly, as it may name an encoding the bytes do not fit.
    """
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise _not_text(filename)
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        raise _not_text(filename) from None


def _control_bytes(data: bytes) -> int:
    """C0 control bytes other than whitespace: the same in every ASCII-compatible encoding."""
    return sum(1 for byte in data if (byte < 0x20 and byte not in b"\t\n\v\f\r") or byte == 0x7F)


def _control_share(text: str) -> float:
    controls = sum(1 for c in text if c not in "\t\n\r\f\v" and unicodedata.category(c) == "Cc")
    return controls / max(len(text), 1)


def _not_text(filename: str) -> UnsupportedMedia:
    return UnsupportedMedia(
        f"{filename} is not a document Spek can read (it is neither text nor a known format). {SUPPORTED}"
    )


def _text_type(text: str, filename: str) -> str:
    sample = text[:SNIFF_CHARS]
    if _HTML_START.match(sample):
        return HTML
    tags = [match.group(0) for match in _HTML_TAG.finditer(sample)]
    # A page without <html> (a fragment) is still mostly markup; Markdown with a stray <br> is not.
    if len(tags) >= 5 and sum(len(tag) for tag in tags) >= 0.1 * len(sample.strip()):
        return HTML
    if filename.lower().endswith(_MARKDOWN_NAMES) or _MARKDOWN_MARK.search(sample):
        return MARKDOWN
    return TEXT
