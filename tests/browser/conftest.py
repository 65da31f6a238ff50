"""The web app in headless Chromium (Debian's, driven by Playwright) against a real `spek up`."""

import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from starlette.responses import JSONResponse, Response

from spek.embedded import wait_for_exit
from tests.browser.ui import CHAT_ANSWER, CHAT_FAILS_ON, CHAT_WORD_DELAY, DESKTOP, FAKE_NOTE, script_errors
from tests.fake_llm import FakeServer, as_json, fake_openai, llm_settings
from tests.support import UNLIMITED, GraphQLClient, free_port, spek_process, wait_until_ready

CHROMIUM = "/usr/bin/chromium"
# Short-lived access tokens, so every test also runs through the app's refresh on expiry.
ACCESS_TOKEN_TTL_SECONDS = 6


def fake_answer(body: dict[str, Any]) -> str | Response:
    """The same note of every transcript; the same answer to every chat question (asked as a stream), except a
    question about CHAT_FAILS_ON, which the model refuses."""
    if not body.get("stream"):
        return as_json(FAKE_NOTE)
    if CHAT_FAILS_ON in body["messages"][-1]["content"]:
        return JSONResponse({"error": {"message": "this model is out of order"}}, status_code=400)
    return CHAT_ANSWER


@pytest.fixture(scope="package")
def llm_server() -> Iterator[FakeServer]:
    """The stack's LLM: an OpenAI-compatible server on loopback (chat answers sent word by word)."""
    with fake_openai(fake_answer, CHAT_WORD_DELAY) as fake:
        yield fake


@pytest.fixture(scope="package")
def app_url(tmp_path_factory: pytest.TempPathFactory, llm_server: FakeServer) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("spek-browser")
    port = free_port()
    env = {
        "SPEK_DATA_DIR": str(data_dir),
        "SPEK_PORT": str(port),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SPEK_ACCESS_TOKEN_TTL": str(ACCESS_TOKEN_TTL_SECONDS),
        # A note is written after every transcript (SPEK_NOTES is on by default), by the fake LLM: quick, and
        # always the same note, so the notes screens can be checked exactly.
        **llm_settings(llm_server),
        **UNLIMITED,
    }
    log = data_dir / "up.log"
    process = spek_process("up", env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_ready(base_url, process)
        except (RuntimeError, TimeoutError) as e:
            raise RuntimeError(f"spek up did not get ready: {e}; its log ends:\n{log.read_text()[-4000:]}") from None
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        wait_for_exit(process, 60)


@pytest.fixture(scope="package")
def api(app_url: str) -> GraphQLClient:
    return GraphQLClient(app_url)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Tests start playback from script, which Chromium's autoplay policy would refuse.
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--autoplay-policy=no-user-gesture-required"])
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, app_url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=app_url, viewport=DESKTOP, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors = script_errors(page)
    yield page
    assert errors == [], f"uncaught script errors in the page: {errors}"
