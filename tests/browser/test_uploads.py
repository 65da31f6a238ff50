"""Uploads beyond the happy path, in the browser: several files dropped at once, a file that is not
audio, and cancel, retry and delete from the recordings list."""

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.audio import SUPPORT_CALL, speak
from tests.browser.ui import finished, sign_up


@pytest.fixture(scope="module")
def short_speech(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("short")
    return [
        speak(text, folder / f"{name}.wav")
        for name, text in (("first", "Hello from the first file."), ("second", "And this is the second one."))
    ]


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough (about 20 s) that a Cancel pressed at once arrives while the worker is still on it."""
    return speak(" ".join(text for _, text in SUPPORT_CALL), tmp_path_factory.mktemp("long") / "long-talk.wav")


def drop_files(page: Page, selector: str, files: list[Path]) -> None:
    """Drag files from the desktop and drop them on the element, as a browser delivers them."""
    payload = [{"name": f.name, "data": base64.b64encode(f.read_bytes()).decode()} for f in files]
    transfer = page.evaluate_handle(
        """files => { const t = new DataTransfer();
             for (const f of files) t.items.add(new File([Uint8Array.from(atob(f.data), c => c.charCodeAt(0))], f.name, { type: 'audio/wav' }));
             return t; }""",
        payload,
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_several_dropped_files_go_up_as_one_batch(page: Page, short_speech: list[Path]) -> None:
    sign_up(page)
    drop_files(page, ".dropzone", short_speech)
    expect(page.locator(".chosen li")).to_have_count(2)
    page.get_by_role("button", name="Upload and transcribe").click()
    for path in short_speech:
        item = page.locator(".progress-item", has_text=path.name)
        assert finished(item) == "COMPLETED", item.inner_text()
        expect(item.locator(".state")).to_have_text("Completed · 100 %")
    expect(page.locator(".recording-row .badge")).to_have_text(["Completed", "Completed"])


def test_a_file_that_is_not_audio_gets_a_readable_error(page: Page, tmp_path: Path) -> None:
    sign_up(page)
    fake = tmp_path / "notes.mp3"
    fake.write_text("These are my notes, not a recording.")
    page.get_by_label("Audio or video files").set_input_files(fake)
    page.get_by_role("button", name="Upload and transcribe").click()
    item = page.locator(".progress-item", has_text="notes.mp3")
    assert finished(item) == "ERROR"
    message = item.locator(".state").inner_text()
    assert "UNSUPPORTED_MEDIA" not in message and len(message) > 20, message
    expect(page.locator(".upload-form .form-error")).to_have_text(message)
    expect(page.get_by_text("No recordings yet.")).to_be_visible()


def test_cancel_retry_and_delete_from_the_list(page: Page, long_speech: Path) -> None:
    sign_up(page)
    page.get_by_label("Audio or video files").set_input_files(long_speech)
    page.get_by_role("button", name="Upload and transcribe").click()
    page.locator(".progress-item").get_by_role("button", name="Cancel").click()
    expect(page.locator(".progress-item .state")).to_have_text("Cancelled")

    row = page.locator(".recording-row", has_text="long-talk")
    expect(row.locator(".badge")).to_have_text("Cancelled")
    row.get_by_role("button", name="Retry long-talk").click()
    expect(row.locator(".badge")).not_to_have_text("Cancelled")
    expect(page.get_by_role("status")).to_have_text("Retrying long-talk")

    # Esc closes the confirmation and keeps the recording; confirming deletes it.
    row.get_by_role("button", name="Delete long-talk").click()
    dialog = page.get_by_role("dialog", name="Delete this recording?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Delete long-talk").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    expect(page.get_by_text(re.compile("^No recordings yet"))).to_be_visible()
