"""Document extraction and chunking on real files made here: what an uploaded document becomes, and
every file that is refused with a message a person can act on. Pure: no server, database or network.
"""

import random
import struct
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from spek.documents.blocks import DOCX, HTML, MARKDOWN, PDF, TEXT
from spek.documents.chunking import Chunk, chunk, document_text
from spek.documents.extract import ExtractedDocument, TextBlock, extract
from spek.errors import BadUserInput, ErrorCode, SpekError, UnsupportedMedia
from tests.documents import pdf_file

# ---------------------------------------------------------------------------------------------- files


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _scanned_pdf() -> bytes:
    """A page that shows text only as pixels, as a scanner makes it."""
    image = Image.new("L", (800, 300), 255)
    ImageDraw.Draw(image).text((40, 120), "Quarterly results, scanned", fill=0, font=ImageFont.load_default(size=40))
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=190)
    return bytes(pdf.output())


def _docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Field trial report"
    document.add_heading("Field trial report", level=0)
    document.add_paragraph("This report covers the spring trial.")
    document.add_heading("Methods", level=1)
    document.add_paragraph("We planted three varieties in raised beds.")
    table = document.add_table(rows=3, cols=2)
    for row, (variety, days) in zip(table.rows, [("Variety", "Days"), ("Sungold", "57"), ("Roma", "75")]):
        row.cells[0].text, row.cells[1].text = variety, days
    document.add_heading("Results", level=2)
    document.add_paragraph("Sungold ripened first.")
    out = BytesIO()
    document.save(out)
    return out.getvalue()


ARTICLE_PAGE = """<!DOCTYPE html>
<html><head><title>Growing tomatoes | Garden Blog</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/shop">Shop</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies.</div>
<main><article>
<h1>Growing tomatoes on a balcony</h1>
<p>Tomatoes need at least six hours of direct sunlight every day. Pick a south-facing balcony if you can,
and choose a container of at least twenty litres so the roots stay cool.</p>
<h2>Watering</h2>
<p>Water deeply in the morning so the leaves dry before evening. Irregular watering makes the fruit crack,
so keep the soil evenly moist through the whole season.</p>
</article></main>
<footer><p>Copyright 2024 Garden Blog. All rights reserved. Privacy policy. Terms of service.</p></footer>
</body></html>"""

MARKDOWN_NOTES = """---
title: Release checklist
---
Intro line before any heading.

# Preparing

Run the tests.
Tag the commit.

```sh
# not a heading: a comment in a code block
make test
```

Publishing
----------

Upload the wheel to the index.
"""


def _text_of(document: ExtractedDocument) -> str:
    return "\n".join(block.text for block in document.blocks)


def _refusal(path: Path, kind: type[SpekError]) -> str:
    with pytest.raises(kind) as raised:
        extract(path, path.name)
    assert raised.value.code in (ErrorCode.UNSUPPORTED_MEDIA, ErrorCode.BAD_USER_INPUT)
    assert path.name in raised.value.message  # the person sees which of their files it is
    return raised.value.message


# ------------------------------------------------------------------------------------------ extraction


def test_a_pdf_gives_the_text_of_each_page_with_its_number(tmp_path: Path) -> None:
    pages = ["Chapter one starts here. Alpha beta gamma.", "Chapter two continues. Delta epsilon."]
    document = extract(_write(tmp_path, "book.pdf", pdf_file(pages, title="Annual report")), "book.pdf")

    assert document.content_type == PDF
    assert document.title == "Annual report"
    assert [block.page for block in document.blocks] == [1, 2]
    assert [" ".join(block.text.split()) for block in document.blocks] == pages


def test_a_pdf_page_without_text_is_skipped_but_numbers_stay_true(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.cell(text="First page.")
    pdf.add_page()  # blank
    pdf.add_page()
    pdf.cell(text="Third page.")
    document = extract(_write(tmp_path, "gaps.pdf", bytes(pdf.output())), "gaps.pdf")

    assert [(block.page, block.text) for block in document.blocks] == [(1, "First page."), (3, "Third page.")]


def test_a_word_document_keeps_order_headings_and_table_rows(tmp_path: Path) -> None:
    document = extract(_write(tmp_path, "trial.docx", _docx()), "trial.docx")

    assert document.content_type == DOCX
    assert document.title == "Field trial report"
    assert [(block.text, block.heading) for block in document.blocks] == [
        ("Field trial report", "Field trial report"),
        ("This report covers the spring trial.", "Field trial report"),
        ("Methods", "Methods"),
        ("We planted three varieties in raised beds.", "Methods"),
        ("Variety | Days", "Methods"),
        ("Sungold | 57", "Methods"),
        ("Roma | 75", "Methods"),
        ("Results", "Results"),
        ("Sungold ripened first.", "Results"),
    ]
    assert all(block.page is None for block in document.blocks)


def test_a_merged_table_cell_is_read_once(tmp_path: Path) -> None:
    word = docx.Document()
    table = word.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 2))
    merged.text = "Whole width"
    for cell, text in zip(table.rows[1].cells, ["a", "b", "b"]):
        cell.text = text
    out = BytesIO()
    word.save(out)
    document = extract(_write(tmp_path, "merged.docx", out.getvalue()), "merged.docx")

    # Equal neighbouring cells that are not merged both stay.
    assert [block.text for block in document.blocks] == ["Whole width", "a | b | b"]


def test_a_web_page_gives_its_article_without_navigation_or_footer(tmp_path: Path) -> None:
    document = extract(_write(tmp_path, "tomatoes.html", ARTICLE_PAGE.encode()), "tomatoes.html")

    assert document.content_type == HTML
    assert document.title and "Growing tomatoes" in document.title
    text = _text_of(document)
    assert "six hours of direct sunlight" in text and "Irregular watering" in text
    for boilerplate in ("About us", "cookies", "Copyright", "Privacy policy"):
        assert boilerplate not in text
    watering = next(block for block in document.blocks if "Irregular watering" in block.text)
    sunlight = next(block for block in document.blocks if "direct sunlight" in block.text)
    assert (sunlight.heading, watering.heading) == ("Growing tomatoes on a balcony", "Watering")


def test_markdown_headings_name_the_blocks_under_them(tmp_path: Path) -> None:
    document = extract(_write(tmp_path, "checklist.md", MARKDOWN_NOTES.encode()), "checklist.md")

    assert document.content_type == MARKDOWN
    assert document.title == "Release checklist"  # from the front matter, which is not text
    assert "title:" not in _text_of(document)
    headings = {block.text.split("\n")[0]: block.heading for block in document.blocks}
    assert headings["Intro line before any heading."] is None
    assert headings["Run the tests."] == "Preparing"
    assert headings["```sh"] == "Preparing"  # the "#" line inside the code block is no heading
    assert headings["Upload the wheel to the index."] == "Publishing"  # Setext heading


def test_plain_text_in_utf8_keeps_cyrillic_and_its_paragraphs(tmp_path: Path) -> None:
    text = "Привет, мир! Это первый абзац.\r\n\r\nВторой абзац: ёлка и йогурт.\n"
    document = extract(_write(tmp_path, "заметка.txt", text.encode()), "заметка.txt")

    assert document.content_type == TEXT
    assert document.title is None
    assert document.blocks == [
        TextBlock("Привет, мир! Это первый абзац.", None, None),
        TextBlock("Второй абзац: ёлка и йогурт.", None, None),
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "windows-1251"])
def test_text_in_other_encodings_is_decoded(tmp_path: Path, encoding: str) -> None:
    text = "Протокол собрания. Решили перенести запуск на вторник, потому что сервер ещё не готов.\n"
    document = extract(_write(tmp_path, "protocol.txt", (text * 3).encode(encoding)), "protocol.txt")

    assert document.content_type == TEXT
    assert document.blocks[0].text.startswith("Протокол собрания.")


@pytest.mark.parametrize(
    ("name", "make", "content_type"),
    [
        ("slides.docx", lambda: pdf_file(["A PDF named .docx."]), PDF),
        ("scan.pdf", _docx, DOCX),
        ("page.txt", lambda: ARTICLE_PAGE.encode(), HTML),
        ("fragment.txt", lambda: ("<div><p>One.</p><p>Two.</p><ul><li>x</li><li>y</li></ul></div>" * 3).encode(), HTML),
        ("notes.txt", lambda: b"# Agenda\n\nBudget first.\n", MARKDOWN),
        ("readme.md", lambda: b"No markers here, but the name says Markdown.\n", MARKDOWN),
        ("page.html", lambda: b"Just a sentence, whatever the name says.\n", TEXT),
    ],
)
def test_the_type_comes_from_the_bytes_not_the_name(
    tmp_path: Path, name: str, make: Callable[[], bytes], content_type: str
) -> None:
    assert extract(_write(tmp_path, name, make()), name).content_type == content_type


# ---------------------------------------------------------------------------------------------- refusals


def test_a_password_protected_pdf_is_refused_with_what_to_do(tmp_path: Path) -> None:
    message = _refusal(
        _write(tmp_path, "salaries.pdf", pdf_file(["Secret numbers."], password="hunter2")), UnsupportedMedia
    )
    assert "password-protected" in message and "remove the password" in message


def test_a_scanned_pdf_without_text_is_refused_with_ocr_advice(tmp_path: Path) -> None:
    message = _refusal(_write(tmp_path, "scan.pdf", _scanned_pdf()), BadUserInput)
    assert "no text layer" in message and "OCR" in message


def test_a_damaged_pdf_is_refused(tmp_path: Path) -> None:
    data = b"%PDF-1.7\n" + random.Random(1).randbytes(4096)
    assert "damaged" in _refusal(_write(tmp_path, "broken.pdf", data), UnsupportedMedia)


def test_a_truncated_word_document_is_refused(tmp_path: Path) -> None:
    data = _docx()
    assert "damaged" in _refusal(_write(tmp_path, "cut.docx", data[: len(data) // 2]), UnsupportedMedia)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert "empty" in _refusal(_write(tmp_path, "nothing.pdf", b""), BadUserInput)


def test_a_file_of_only_whitespace_is_refused_as_having_no_text(tmp_path: Path) -> None:
    assert "no text" in _refusal(_write(tmp_path, "blank.txt", b" \n\n\t \n"), BadUserInput)


@pytest.mark.parametrize(
    "bytes_from",
    [
        lambda data: data,
        # No NUL or control byte at all: what charset detection is left to judge.
        lambda data: bytes(byte | 0x80 for byte in data),
    ],
)
def test_random_bytes_are_refused(tmp_path: Path, bytes_from: Callable[[bytes], bytes]) -> None:
    data = bytes_from(random.Random(7).randbytes(64 * 1024))
    message = _refusal(_write(tmp_path, "report.pdf", data), UnsupportedMedia)
    assert "Upload a PDF, a Word document" in message


def test_an_image_renamed_docx_is_refused_as_an_image(tmp_path: Path) -> None:
    image = BytesIO()
    Image.new("RGB", (4, 4), "red").save(image, "PNG")
    assert "PNG image" in _refusal(_write(tmp_path, "photo.docx", image.getvalue()), UnsupportedMedia)


def test_a_zip_that_is_not_a_word_document_is_refused(tmp_path: Path) -> None:
    archive = BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("holiday/notes.txt", "Not a Word document.")
    assert "not a Word document" in _refusal(_write(tmp_path, "notes.docx", archive.getvalue()), UnsupportedMedia)


def test_a_zip_bomb_named_docx_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    archive = BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zipped:
        zipped.writestr("[Content_Types].xml", "<Types/>")
        zipped.writestr("word/document.xml", bytes(20 * 1024 * 1024))  # 20 MB of zeros: about 20 kB packed
    path = _write(tmp_path, "bomb.docx", archive.getvalue())
    assert path.stat().st_size < 100 * 1024

    # Unpacked, the zeros would fail as XML and be called damaged: this message comes from the directory.
    assert "would unpack to 20 MB" in _refusal(path, UnsupportedMedia)


def test_an_archive_declaring_more_than_200_mb_is_refused_on_its_directory_alone(tmp_path: Path) -> None:
    archive = BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("word/document.xml", "<w:document/>")
        zipped.writestr("word/media/image1.png", b"tiny")
    data = bytearray(archive.getvalue())
    # The directory now says the picture is 300 MB packed into 10 MB: a 30× ratio, under the ratio limit.
    entry = data.rindex(b"PK\x01\x02")
    struct.pack_into("<II", data, entry + 20, 10 * 1024 * 1024, 300 * 1024 * 1024)
    assert "would unpack to 300 MB" in _refusal(_write(tmp_path, "big.docx", bytes(data)), UnsupportedMedia)


# ---------------------------------------------------------------------------------------------- chunking

SENTENCES = [f"Sentence number {i} talks about topic {i % 7} in plain words." for i in range(60)]


def _overlap(document: str, first: Chunk, second: Chunk) -> str:
    return " ".join(document[second.start_char : first.end_char].split())


def test_chunks_are_about_the_size_asked_and_cut_between_sentences() -> None:
    blocks = [TextBlock(" ".join(SENTENCES))]
    chunks = chunk(blocks, size=300, overlap=80)

    assert len(chunks) > 5
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(len(c.text) >= 300 - 60 for c in chunks[:-1])  # full but for less than one sentence
    for c in chunks:
        assert c.text.startswith("Sentence number ") and c.text.endswith("plain words.")
    assert chunks[-1].text.endswith(SENTENCES[-1])


def test_consecutive_chunks_overlap_by_about_the_overlap_asked() -> None:
    blocks = [TextBlock(" ".join(SENTENCES))]
    text = document_text(blocks)
    chunks = chunk(blocks, size=300, overlap=130)

    for first, second in zip(chunks, chunks[1:]):
        shared = _overlap(text, first, second)
        assert 60 <= len(shared) <= 130  # one or two whole sentences of about 60 characters
        assert first.text.endswith(shared) and second.text.startswith(shared)


def test_without_overlap_chunks_follow_each_other() -> None:
    blocks = [TextBlock(" ".join(SENTENCES))]
    chunks = chunk(blocks, size=300, overlap=0)

    assert " ".join(c.text for c in chunks) == " ".join(SENTENCES)


def test_a_heading_change_starts_a_new_chunk() -> None:
    blocks = [
        TextBlock("Intro", None, "Intro"),
        TextBlock("Short opening words.", None, "Intro"),
        TextBlock("Methods", None, "Methods"),
        TextBlock("We measured twice.", None, "Methods"),
    ]
    chunks = chunk(blocks, size=1000, overlap=200)

    assert [(c.text, c.heading) for c in chunks] == [
        ("Intro Short opening words.", "Intro"),
        ("Methods We measured twice.", "Methods"),
    ]


def test_a_chunk_keeps_the_page_where_it_starts() -> None:
    page_one = " ".join(SENTENCES[:6])  # about 370 characters
    page_two = " ".join(SENTENCES[6:12])
    chunks = chunk([TextBlock(page_one, 1), TextBlock(page_two, 2)], size=500, overlap=0)

    assert [(c.page, c.text.split(".")[0]) for c in chunks] == [
        (1, "Sentence number 0 talks about topic 0 in plain words"),  # runs on into page 2
        (2, "Sentence number 9 talks about topic 2 in plain words"),
    ]
    assert chunks[0].text.endswith(SENTENCES[8])  # nine sentences of about 54 characters


def test_a_long_text_without_sentences_is_cut_between_words() -> None:
    rng = random.Random(3)
    words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 12))) for _ in range(700)]
    text = " ".join(words)[:5000].rsplit(" ", 1)[0]
    chunks = chunk([TextBlock(text)], size=1000, overlap=200)

    assert 5 <= len(chunks) <= 8
    padded = f" {text} "
    for c in chunks:
        assert 800 <= len(c.text) <= 1000 or c is chunks[-1]
        assert f" {c.text} " in padded  # whole words only
    assert chunks[0].text.startswith(words[0] + " ") and chunks[-1].text.endswith(text.rsplit(" ", 1)[1])
    for first, second in zip(chunks, chunks[1:]):
        assert 150 <= len(_overlap(text, first, second)) <= 200


def test_a_word_longer_than_a_chunk_is_cut_into_pieces() -> None:
    token = "x" * 2500
    chunks = chunk([TextBlock(f"See {token} now.")], size=1000, overlap=0)

    assert all(len(c.text) <= 1000 for c in chunks)
    assert "".join(c.text.replace(" ", "") for c in chunks) == f"See{token}now."


def test_chunk_text_has_normalized_whitespace_and_offsets_point_into_the_document() -> None:
    blocks = [TextBlock("First   line\nwraps here.\tThen more.", 1), TextBlock("  Next\n\n\nparagraph.  ", 1)]
    text = document_text(blocks)
    chunks = chunk(blocks, size=40, overlap=15)

    for c in chunks:
        assert "  " not in c.text and "\n" not in c.text and "\t" not in c.text
        assert " ".join(text[c.start_char : c.end_char].split()) == c.text
    assert " ".join(c.text for c in chunk(blocks, size=1000)) == "First line wraps here. Then more. Next paragraph."


def test_an_extracted_document_chunks_with_its_pages_and_headings(tmp_path: Path) -> None:
    pages = [" ".join(SENTENCES[:20]), " ".join(SENTENCES[20:40])]
    pdf = extract(_write(tmp_path, "long.pdf", pdf_file(pages)), "long.pdf")
    word = extract(_write(tmp_path, "trial.docx", _docx()), "trial.docx")

    pdf_chunks = chunk(pdf.blocks, size=500, overlap=100)
    assert {c.page for c in pdf_chunks} == {1, 2}
    assert any("Sentence number 25 " in c.text and c.page == 2 for c in pdf_chunks)
    assert [c.heading for c in chunk(word.blocks)] == ["Field trial report", "Methods", "Results"]


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_impossible_chunk_sizes_are_a_programming_error(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk([TextBlock("Text.")], size=size, overlap=overlap)
