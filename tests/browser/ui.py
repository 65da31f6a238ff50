"""What the browser tests do in the web app the way a person would, and what they read back from it."""

import os
import re
import uuid
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

# README pictures are refreshed on request (`SPEK_UPDATE_SCREENSHOTS=1 make test`), so that an
# ordinary test run leaves the working tree as it found it.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("SPEK_UPDATE_SCREENSHOTS") == "1"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"
TRANSCRIBED_WITHIN_MS = 120_000

# What the stack's fake LLM writes of every transcript (see conftest.py).
FAKE_NOTE = {
    "title": "Internet outage call",
    "summary": "A customer reports the internet down since morning. Support finds an outage in the area.",
    "topics": [
        {"topic": "The outage", "points": ["Internet down since this morning", "Outage in the customer's area"]},
        {"topic": "Account", "points": ["The customer gave an account number"]},
    ],
    "decisions": ["Wait for the outage to be fixed"],
    "action_items": ["Check the connection again in two hours"],
    "tags": ["networking", "outage", "support"],
}

# What it answers to every chat question that found sources (see conftest.py): one word every CHAT_WORD_DELAY
# seconds, citing the first source. A question about CHAT_FAILS_ON gets an error from it instead.
CHAT_ANSWER = (
    "According to your material, the lighthouse keeper checks the lamp every night and writes each check "
    "in the harbour log before the first ferry leaves in the morning [1]."
)
CHAT_WORD_DELAY = 0.1
CHAT_FAILS_ON = "ferry timetable"


def script_errors(page: Page) -> list[str]:
    """The page's uncaught script errors, collected as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def screenshot(page: Page, name: str) -> None:
    """A picture for the README, from the real app in the middle of a test (taken either way)."""
    picture = page.screenshot()
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(picture)


def sign_up(page: Page) -> str:
    """A new account made through the sign-up form; its email."""
    email = f"web-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/#/sign-up")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Upload recordings")).to_be_visible()
    return email


def stored_session(page: Page) -> dict:
    """The tokens the app keeps for the signed-in person."""
    return page.evaluate("JSON.parse(localStorage.getItem('spek.session'))")


def finished(item: Locator) -> str:
    """How an upload's progress item ended (COMPLETED, FAILED, CANCELLED, or ERROR when refused), once it has."""
    expect(item).to_have_attribute(
        "data-status", re.compile("^(COMPLETED|FAILED|CANCELLED|ERROR)$"), timeout=TRANSCRIBED_WITHIN_MS
    )
    return item.get_attribute("data-status")
