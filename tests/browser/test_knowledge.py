"""Notes, documents and search over everything, in the browser against the real stack: notes written by
the stack's LLM (a fake OpenAI-compatible server on loopback, see conftest.py) after each transcript."""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.audio import SUPPORT_CALL, dialogue
from tests.browser.ui import DESKTOP, FAKE_NOTE, PASSWORD, finished, script_errors, sign_up
from tests.documents import pdf_file
from tests.support import GraphQLClient

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
CREATE_PAGE = 'mutation($nb: ID!, $content: String!) { createPage(notebookId: $nb, title: "Keeper rota", content: $content, tags: ["duty"]) { id } }'
NOTED_WITHIN_MS = 90_000


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def search(page: Page, text: str, kinds: list[str] | None = None, match: str | None = None) -> Locator:
    """Search everything from the nav; the hits."""
    nav(page, "Search")
    page.get_by_label("Search everything").fill(text)
    if kinds:
        for kind in ("Notes", "Pages", "Documents", "Transcripts"):
            page.get_by_role("group", name="Look in").get_by_label(kind).set_checked(kind in kinds)
    if match:
        page.get_by_label("Match").select_option(label=match)
    page.get_by_role("button", name="Search", exact=True).click()
    # The first search by meaning loads the embedding model into the API process: that takes a while.
    expect(page.get_by_role("status").filter(has_text=re.compile("result|Nothing found"))).to_be_visible(timeout=90_000)
    return page.locator(".hit")


# ------------------------------------------------------------------ documents


def test_a_document_is_uploaded_searched_opened_and_deleted(page: Page, tmp_path: Path) -> None:
    sign_up(page)
    nav(page, "Documents")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Documents")).to_have_attribute(
        "aria-current", "page"
    )
    handbook = tmp_path / "handbook.md"
    handbook.write_text(
        "# Harbour handbook\n\nWelcome to the harbour.\n\n## Lamp duty\n\nThe lighthouse keeper checks the lamp every night.\n"
    )
    page.get_by_label("Document", exact=True).set_input_files(handbook)
    page.get_by_role("button", name="Upload document").click()
    item = page.locator(".progress-item", has_text="handbook.md")
    assert finished(item) == "COMPLETED", item.inner_text()
    expect(item.locator(".state")).to_have_text("Completed · 100 %")
    expect(item.locator(".stages li")).to_contain_text(["Embedding"])
    row = page.locator(".document-row", has_text="handbook")
    expect(row.locator(".badge")).to_have_text("Completed")
    expect(row.locator(".chunks")).to_have_text(re.compile(r"^\d+ passages?$"))

    hits = search(page, "lighthouse", kinds=["Documents"], match="Exact words")
    expect(hits).to_have_count(1)
    expect(hits.locator(".badge")).to_have_text("Document")
    expect(hits.locator(".hit-title")).to_have_text("Harbour handbook")
    expect(hits.locator(".result-meta")).to_have_text("Lamp duty")
    expect(hits.locator("mark").first).to_have_text(re.compile("lighthouse", re.I))
    hits.get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"#/documents/[^?]+\?q=lighthouse&mode=KEYWORD&passage="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour handbook")
    chosen = page.locator(".passage[aria-current=true]")
    expect(chosen.locator(".result-meta")).to_have_text("Lamp duty")
    expect(chosen.locator("mark").first).to_have_text(re.compile("lighthouse", re.I))

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete this document?").get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile("#/documents$"))
    expect(page.get_by_text("No documents yet.")).to_be_visible()
    expect(search(page, "lighthouse")).to_have_count(0)


def test_a_document_spek_cannot_read_is_refused_with_the_reason(page: Page, tmp_path: Path) -> None:
    sign_up(page)
    nav(page, "Documents")
    locked = tmp_path / "salaries.pdf"
    locked.write_bytes(pdf_file(["Salaries for next year."], password="secret"))
    page.get_by_label("Document", exact=True).set_input_files(locked)
    page.get_by_role("button", name="Upload document").click()
    item = page.locator(".progress-item", has_text="salaries.pdf")
    assert finished(item) == "ERROR"
    message = item.locator(".state").inner_text()
    assert message.startswith("Spek cannot read this file.") and "password" in message, message
    expect(page.locator(".document-upload .form-error")).to_have_text(message)
    expect(page.get_by_text("No documents yet.")).to_be_visible()


# ------------------------------------------------------------------ notes


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("calls")
    return [
        dialogue(SUPPORT_CALL[:4], folder / "first-call.wav")[0],
        dialogue(SUPPORT_CALL[4:], folder / "second-call.wav")[0],
    ]


@pytest.fixture(scope="module")
def noted(browser: Browser, app_url: str, calls: list[Path]) -> Iterator[tuple[Page, str]]:
    """A new person who uploaded two calls, both transcribed and noted; the page and their email."""
    context = browser.new_context(base_url=app_url, viewport=DESKTOP)
    page = context.new_page()
    errors = script_errors(page)
    email = sign_up(page)
    page.get_by_label("Audio or video files").set_input_files(calls)
    page.get_by_label("Speakers", exact=True).fill("2")
    page.get_by_role("button", name="Upload and transcribe").click()
    for call in calls:
        assert finished(page.locator(".progress-item", has_text=call.name)) == "COMPLETED"
    nav(page, "Notes")
    # Notes are written after the transcripts: the list shows what there is when it is opened.
    rows = page.locator(".note-row")
    page.wait_for_timeout(500)
    for _ in range(NOTED_WITHIN_MS // 1000):
        if rows.count() == 2:
            break
        page.wait_for_timeout(1000)
        page.reload()
        rows.first.or_(page.locator(".empty")).wait_for()
    expect(rows).to_have_count(2)
    yield page, email
    context.close()
    assert errors == [], f"uncaught script errors in the page: {errors}"


def test_the_notes_list_shows_each_note_and_filters(noted: tuple[Page, str]) -> None:
    page, _ = noted
    nav(page, "Notes")
    rows = page.locator(".note-row")
    expect(rows).to_have_count(2)
    expect(rows.locator(".note-title")).to_have_text([FAKE_NOTE["title"]] * 2)
    expect(rows.first.locator(".tag")).to_have_text(FAKE_NOTE["tags"])
    expect(rows.first.locator("time")).to_have_text(re.compile(r"\d"))
    expect(rows.locator(".badge.unread")).to_have_count(2)

    star = rows.first.get_by_role("button", name=f"Favourite: {FAKE_NOTE['title']}")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Favourites only").check()
    expect(page).to_have_url(re.compile(r"#/notes\?favorite=1$"))
    expect(page.locator(".note-row")).to_have_count(1)
    expect(page.locator(".note-row").get_by_role("button", name=re.compile("^Favourite"))).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_label("Favourites only").uncheck()
    expect(page.locator(".note-row")).to_have_count(2)
    page.get_by_label("Tag", exact=True).select_option("outage")
    expect(page).to_have_url(re.compile(r"#/notes\?tag=outage$"))
    expect(page.locator(".note-row")).to_have_count(2)
    page.get_by_label("Tag", exact=True).select_option("")
    page.locator(".note-row").first.get_by_role("link", name="Notes tagged support").click()
    expect(page.get_by_label("Tag", exact=True)).to_have_value("support")


def test_a_note_shows_its_parts_related_notes_and_its_recording(noted: tuple[Page, str]) -> None:
    page, _ = noted
    nav(page, "Notes")
    page.locator(".note-row").first.get_by_role("link", name=FAKE_NOTE["title"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FAKE_NOTE["title"])
    expect(page.locator(".meta")).to_contain_text("Written by fake-notes")
    expect(page.locator(".summary")).to_have_text(FAKE_NOTE["summary"])
    expect(page.locator(".note-view .tag")).to_have_text(FAKE_NOTE["tags"])
    expect(page.locator(".phrases li").first).to_be_visible()
    tones = page.locator(".tone")
    expect(tones.locator(".tone-speaker")).to_have_text(["Speaker 1", "Speaker 2"])
    for label in tones.locator(".tone-label").all_inner_texts():
        assert label in ("Positive", "Neutral", "Negative"), label
    for score in tones.locator(".tone-score").all_inner_texts():
        assert re.fullmatch(r"[+−]?[01]\.\d\d", score), score
    content = page.locator(".markdown")
    expect(content.get_by_role("heading", name="Key points")).to_be_visible()
    expect(content.get_by_role("heading", name="The outage")).to_be_visible()  # key points grouped by topic
    expect(content.locator("li", has_text="Internet down since this morning")).to_be_visible()
    expect(content.locator("li.task")).to_contain_text(["To do: " + FAKE_NOTE["action_items"][0]])

    # Both notes tell of the same call: each is the other's related note, once both are embedded.
    related = page.locator(".related li")
    for _ in range(60):
        if related.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
        page.locator(".note-head").wait_for()
    expect(related).to_have_count(1)
    expect(related).to_contain_text(re.compile(r"\d+ % related · same tag"))
    here = page.url
    related.get_by_role("link").click()
    expect(page).not_to_have_url(here)
    expect(page.get_by_role("heading", level=1)).to_have_text(FAKE_NOTE["title"])

    page.locator("a.source").click()
    expect(page.locator(".segment").first).to_be_visible()
    note_link = page.get_by_role("link", name=f"Open the note: {FAKE_NOTE['title']}")
    expect(note_link).to_be_visible()
    note_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FAKE_NOTE["title"])


def test_a_note_is_edited_safely_found_and_deleted(noted: tuple[Page, str]) -> None:
    page, _ = noted
    nav(page, "Notes")
    page.locator(".note-row").last.get_by_role("link").first.click()
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Title").fill("Outage, Tuesday")
    page.get_by_label("Tags").fill("Calls, Urgent")
    script = "<img src=x onerror=\"document.title='hacked'\">"
    page.get_by_label("Content").fill(f"# Call\n\n**Lighthouse** words and {script} here\n\n1. first\n2. second")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Outage, Tuesday")
    expect(page.locator(".meta")).to_contain_text("Edited by you")
    expect(page.locator(".note-view .tag")).to_have_text(["Calls", "Urgent"])
    content = page.locator(".markdown")
    expect(content.locator("strong")).to_have_text("Lighthouse")
    expect(content.locator("p")).to_have_text(f"Lighthouse words and {script} here")
    expect(content.locator("img")).to_have_count(0)
    expect(content.locator("ol li")).to_have_text(["first", "second"])
    assert page.title() != "hacked"

    hits = search(page, "tuesday", kinds=["Notes"], match="Exact words")
    expect(hits).to_have_count(1)
    expect(hits.locator(".hit-title")).to_have_text("Outage, Tuesday")
    expect(hits.locator(".badge")).to_have_text("Note")
    hits.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outage, Tuesday")

    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete this note?")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    page.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile("#/notes$"))
    expect(page.locator(".note-row")).to_have_count(1)
    expect(page.locator(".note-title")).to_have_text(FAKE_NOTE["title"])


def test_a_transcript_hit_plays_the_recording_from_its_time(noted: tuple[Page, str]) -> None:
    page, _ = noted
    hits = search(page, "account number", kinds=["Transcripts"], match="Exact words")
    expect(hits).to_have_count(1)
    expect(hits.locator(".badge")).to_have_text("Transcript")
    expect(hits.locator(".result-meta")).to_have_text(re.compile(r"^at \d\d:\d\d$"))
    expect(hits.locator("mark").first).to_have_text(re.compile("account|number", re.I))
    href = hits.first.get_by_role("link").get_attribute("href")
    start = float(parse_qs(urlsplit(href.lstrip("#")).query)["t"][0])
    hits.first.get_by_role("link").click()
    expect(page.locator(".segment.current")).to_have_count(1)
    assert page.locator("audio").evaluate("a => a.currentTime") == pytest.approx(start, abs=0.05)
    expect(page.locator(".segment.current")).to_contain_text("account number")

    # The note of this recording is written (again) from its transcript tools, with the job's progress.
    tool = page.get_by_role("region", name="Note")
    tool.get_by_role("button", name=re.compile("^Write")).click()
    expect(tool.locator(".state")).to_have_text("The note is ready.", timeout=NOTED_WITHIN_MS)
    tool.get_by_role("link", name=re.compile("^Open the note")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FAKE_NOTE["title"])


def test_a_page_hit_opens_the_notebook_page(noted: tuple[Page, str], api: GraphQLClient) -> None:
    page, email = noted
    token = api.data(LOGIN, {"e": email, "p": PASSWORD})["login"]["accessToken"]
    notebook = api.data('mutation { createNotebook(title: "Harbour") { id } }', None, token)["createNotebook"]["id"]
    api.data(CREATE_PAGE, {"nb": notebook, "content": "## Rota\n\n- **Anna** keeps the lamp on Mondays"}, token)

    hits = search(page, "lamp", kinds=["Pages"])
    expect(hits).to_have_count(1)
    expect(hits.locator(".badge")).to_have_text("Page")
    hits.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keeper rota")
    expect(page.locator(".page-view .tag")).to_have_text(["duty"])
    expect(page.locator(".markdown").get_by_role("heading", name="Rota")).to_be_visible()
    expect(page.locator(".markdown li strong")).to_have_text("Anna")
    page.get_by_role("link", name="← Harbour").click()
    expect(page.get_by_role("button", name="Harbour")).to_have_attribute("aria-pressed", "true")
