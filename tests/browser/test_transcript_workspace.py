"""One person's session in the browser: upload a two-voice call into a notebook, watch it being
transcribed, then play, seek, edit, rename, search and export its transcript."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
import srt
from playwright.sync_api import Browser, Download, Locator, Page, expect

from tests.audio import SUPPORT_CALL, dialogue, talking_over
from tests.browser.ui import DESKTOP, PHONE, TRANSCRIBED_WITHIN_MS, finished, screenshot, script_errors, sign_up

TITLE = "support-call"


@pytest.fixture(scope="module")
def call_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _ = dialogue(SUPPORT_CALL[:4], tmp_path_factory.mktemp("audio") / f"{TITLE}.wav")
    return path


@pytest.fixture(scope="module")
def workspace(browser: Browser, app_url: str, call_audio: Path) -> Iterator[Page]:
    """A new person who has made a notebook and just uploaded the call into it, with two speakers."""
    context = browser.new_context(base_url=app_url, viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors = script_errors(page)
    sign_up(page)
    page.get_by_label("New notebook").fill("Support calls")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("button", name="Support calls")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("Notebook", exact=True)).to_have_value(re.compile(".+"))  # uploads go into it
    page.get_by_label("Audio or video files").set_input_files(call_audio)
    page.get_by_label("Speakers", exact=True).fill("2")
    page.get_by_role("button", name="Upload and transcribe").click()
    yield page
    context.close()
    assert errors == [], f"uncaught script errors in the page: {errors}"


def open_transcript(page: Page) -> None:
    """From the recordings list, as a person would, once the call has been transcribed."""
    page.goto("/#/")
    row = page.locator(".recording-row", has_text=TITLE)
    expect(row.locator(".badge")).to_have_text("Completed", timeout=TRANSCRIBED_WITHIN_MS)
    row.get_by_role("link", name=TITLE).click()
    expect(page.locator(".segment").first).to_be_visible()


def segment(page: Page, text: str) -> Locator:
    return page.locator(".segment", has_text=text)


def download(page: Page, format: str) -> Download:
    with page.expect_download(timeout=15_000) as info:
        page.get_by_role("group", name="Download as").get_by_role("button", name=format).click()
    return info.value


def test_upload_progress_is_live_with_stage_names_until_done(workspace: Page) -> None:
    item = workspace.locator(".progress-item", has_text=f"{TITLE}.wav")
    # Mid-way, not only at the end: the subscription feeds the bar while the worker transcribes.
    expect(item.locator(".stages .current")).to_have_text("Transcribing", timeout=60_000)
    expect(item.locator(".state")).to_have_text(re.compile(r"^Transcribing · \d+ %"))
    screenshot(workspace, "upload-progress")

    assert finished(item) == "COMPLETED", item.inner_text()
    expect(item.locator(".state")).to_have_text("Completed · 100 %")
    expect(item.locator("progress")).to_have_js_property("value", 100)
    stages = ["Decoding", "Normalizing", "Detecting speech", "Transcribing", "Diarizing", "Saving", "Indexing"]
    expect(item.locator(".stages li")).to_have_text(stages)
    expect(item.locator(".stages li.done")).to_have_count(len(stages))

    # Listed while its notebook is the one chosen: the upload went into that notebook.
    expect(workspace.get_by_role("button", name="Support calls")).to_have_attribute("aria-pressed", "true")
    row = workspace.locator(".recording-row", has_text=TITLE)
    expect(row.locator(".badge")).to_have_text("Completed")
    expect(row.locator(".duration")).to_have_text("00:14")
    screenshot(workspace, "recordings")


def test_transcript_shows_speakers_and_times(workspace: Page) -> None:
    open_transcript(workspace)
    expect(segment(workspace, "support line").locator(".time")).to_have_text("[00:00]")
    expect(segment(workspace, "support line").locator("select.speaker")).to_have_value("SPEAKER_00")
    names = workspace.locator(".segment select.speaker option:checked").all_inner_texts()
    assert set(names) == {"Speaker 1", "Speaker 2"}


def test_play_highlights_the_word_and_clicking_a_word_seeks(workspace: Page) -> None:
    open_transcript(workspace)
    audio = workspace.locator("audio")
    expect(audio).to_be_attached()
    workspace.wait_for_function("document.querySelector('audio').readyState >= 1")  # metadata loaded
    audio.evaluate("a => a.play()")
    expect(workspace.locator(".word.current")).to_have_count(1)
    expect(workspace.locator(".segment.current")).to_have_count(1)
    audio.evaluate("a => a.pause()")

    word = segment(workspace, "internet").locator(".word", has_text="internet")
    word.click()
    start = float(word.get_attribute("data-start"))
    assert audio.evaluate("a => a.currentTime") == pytest.approx(start, abs=0.05)
    expect(word).to_have_class(re.compile(r"\bcurrent\b"))
    expect(segment(workspace, "internet")).to_have_class(re.compile(r"\bcurrent\b"))
    screenshot(workspace, "transcript")

    segment(workspace, "support line").get_by_role("button", name="Play from 00:00").click()
    assert audio.evaluate("a => a.currentTime") == pytest.approx(0, abs=0.05)


def test_segment_text_is_edited_in_place(workspace: Page) -> None:
    open_transcript(workspace)
    line = segment(workspace, "sorry to hear")
    line.get_by_role("button", name=re.compile("^Edit text")).click()
    editor = line.get_by_role("textbox")
    expect(editor).to_be_focused()
    editor.fill("")
    editor.press("Enter")
    expect(line.get_by_role("alert")).to_have_text("Segment text cannot be empty.")  # the server's words
    expect(editor).to_be_focused()
    editor.fill("Not saved.")
    editor.press("Escape")
    expect(line.locator(".text")).to_contain_text("sorry to hear")

    line.get_by_role("button", name=re.compile("^Edit text")).click()
    line.get_by_role("textbox").fill("I am so sorry to hear that.")
    line.get_by_role("textbox").press("Enter")
    expect(line.locator(".text")).to_have_text("I am so sorry to hear that.")
    expect(line.get_by_role("button", name=re.compile("^Edit text"))).to_be_focused()

    workspace.reload()
    expect(segment(workspace, "I am so sorry to hear that.")).to_have_count(1)


def test_segment_speaker_is_changed_in_place(workspace: Page) -> None:
    open_transcript(workspace)
    line = segment(workspace, "account number")
    before = line.locator("select.speaker").input_value()
    after = "SPEAKER_00" if before == "SPEAKER_01" else "SPEAKER_01"
    line.locator("select.speaker").select_option(after)
    expect(workspace.get_by_role("status")).to_have_text(re.compile("^Speaker changed to"))
    workspace.reload()
    expect(segment(workspace, "account number").locator("select.speaker")).to_have_value(after)


def test_renamed_speaker_is_shown_by_name(workspace: Page) -> None:
    open_transcript(workspace)
    name = segment(workspace, "how can I help").locator("select.speaker option:checked").inner_text()
    workspace.get_by_text("Speakers (2)").click()
    workspace.get_by_label(re.compile(f"^{name}")).fill("Operator")
    workspace.get_by_role("button", name=f"Rename {name}").click()
    expect(segment(workspace, "how can I help").locator("select.speaker option:checked")).to_have_text("Operator")
    workspace.reload()
    expect(segment(workspace, "how can I help").locator("select.speaker option:checked")).to_have_text("Operator")


def test_search_highlights_matches_and_jumps_to_them(workspace: Page) -> None:
    open_transcript(workspace)
    workspace.get_by_label("Search in transcript").fill("INTERNET")
    workspace.get_by_label("Search in transcript").press("Enter")
    expect(workspace.locator(".search-summary")).to_have_text("1 segment matches “INTERNET”.")
    result = workspace.locator(".results .result")
    expect(result.locator("mark")).to_have_text("internet")
    expect(segment(workspace, "internet").locator(".word.hit")).to_have_text("internet")
    result.click()
    expect(segment(workspace, "internet").locator(".time")).to_be_focused()

    workspace.get_by_label("Search in transcript").press("Escape")
    expect(workspace.locator(".word.hit")).to_have_count(0)


def test_whole_transcript_exports_in_every_format(workspace: Page) -> None:
    open_transcript(workspace)
    names = set(workspace.locator(".segment select.speaker option:checked").all_inner_texts())
    workspace.get_by_text("Export", exact=True).click()

    subtitles = download(workspace, "SRT")
    assert subtitles.suggested_filename.endswith(".srt")
    cues = list(srt.parse(Path(subtitles.path()).read_text(encoding="utf-8")))
    spoken = " ".join(" ".join(cue.content for cue in cues).split())  # cues wrap lines
    assert "support line" in spoken and "internet" in spoken
    assert any(name in spoken for name in names)

    document = docx.Document(download(workspace, "DOCX").path())
    text = "\n".join(p.text for p in document.paragraphs)
    assert TITLE in text and "internet" in text
    assert all(name in text for name in names)

    assert Path(download(workspace, "VTT").path()).read_text(encoding="utf-8").startswith("WEBVTT")
    exported = json.loads(Path(download(workspace, "JSON").path()).read_text(encoding="utf-8"))
    assert "internet" in json.dumps(exported)
    assert "internet" in Path(download(workspace, "TXT").path()).read_text(encoding="utf-8")


def test_selected_segments_export_alone(workspace: Page) -> None:
    open_transcript(workspace)
    segment(workspace, "internet").get_by_role("checkbox").check()
    segment(workspace, "how can I help").get_by_role("checkbox").check()
    workspace.get_by_text("Export", exact=True).click()
    expect(workspace.get_by_label("Selected segments (2)")).to_be_checked()
    workspace.get_by_label("Start a part’s times at 00:00").check()

    cues = list(srt.parse(Path(download(workspace, "SRT").path()).read_text(encoding="utf-8")))
    spoken = " ".join(" ".join(cue.content for cue in cues).split())  # cues wrap lines
    assert "how can I help" in spoken and "internet" in spoken
    assert "support line" not in spoken
    assert cues[0].start.total_seconds() == 0


def test_time_range_exports_alone(workspace: Page) -> None:
    open_transcript(workspace)
    workspace.get_by_text("Export", exact=True).click()
    workspace.get_by_label("Time range").check()
    workspace.get_by_label("From", exact=True).fill("00:06")
    workspace.get_by_label("to", exact=True).fill("00:09")
    text = Path(download(workspace, "TXT").path()).read_text(encoding="utf-8")
    assert "internet" in text and "support line" not in text and "account number" not in text


def test_transcript_fits_a_phone(workspace: Page) -> None:
    open_transcript(workspace)
    workspace.set_viewport_size(PHONE)
    try:
        expect(workspace.locator(".segment").first).to_be_visible()
        assert workspace.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(workspace, "phone-transcript")
    finally:
        workspace.set_viewport_size(DESKTOP)


def test_a_segment_spoken_over_says_who_else_was_talking(browser: Browser, app_url: str, tmp_path: Path) -> None:
    """Two voices talking at once for 2 s: the segments there say "with" the other speaker's name."""
    path, _, _ = talking_over(tmp_path / "talking-over.wav", 2.0)
    context = browser.new_context(base_url=app_url, viewport=DESKTOP)
    page = context.new_page()
    errors = script_errors(page)
    sign_up(page)
    page.get_by_label("Audio or video files").set_input_files(path)
    page.get_by_role("button", name="Upload and transcribe").click()
    row = page.locator(".recording-row", has_text="talking-over")
    expect(row.locator(".badge")).to_have_text("Completed", timeout=TRANSCRIBED_WITHIN_MS)
    row.get_by_role("link", name="talking-over").click()
    overlapped = page.locator(".segment .overlap")
    expect(overlapped.first).to_be_visible()
    for segment_over in overlapped.all():
        speaker = segment_over.locator("xpath=..").locator("select.speaker option:checked").inner_text()
        assert re.fullmatch(r"with Speaker \d", segment_over.inner_text()), segment_over.inner_text()
        assert segment_over.inner_text() != f"with {speaker}"
    expect(page.locator(".segment").filter(has_not=page.locator(".overlap")).first).to_be_visible()
    context.close()
    assert errors == [], f"uncaught script errors in the page: {errors}"
