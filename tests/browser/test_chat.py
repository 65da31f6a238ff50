"""Chat in the browser against the real stack: questions answered by the chat worker from the person's own
documents and pages, with the stack's fake LLM (see conftest.py) streaming CHAT_ANSWER word by word."""

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from spek.chat.answer import NOTHING_FOUND
from tests.browser.ui import CHAT_ANSWER, PASSWORD, finished, sign_up
from tests.support import GraphQLClient

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
CREATE_NOTEBOOK = "mutation($title: String!) { createNotebook(title: $title) { id } }"
CREATE_PAGE = 'mutation($nb: ID!, $content: String!) { createPage(notebookId: $nb, title: "Keeper rota", content: $content) { id } }'
ROTA = "## Rota\n\n- **Anna** keeps the lamp on Mondays\n\nThe ferry timetable is kept in the harbour office."
# The first answer waits for the chat worker to load the embedding model.
ANSWERED_WITHIN_MS = 90_000

# Every text the newest answer showed, in order: kept by the page as it changes.
RECORD_ANSWER_TEXTS = """() => {
  window.answerTexts = [];
  new MutationObserver(() => {
    const text = document.querySelector('.messages .message.assistant:last-child .answer-text')?.textContent;
    if (text && window.answerTexts.at(-1) !== text) window.answerTexts.push(text);
  }).observe(document.querySelector('.messages'), { childList: true, subtree: true, characterData: true });
}"""
# Each WebSocket the page opens, and the variables of each subscription it starts.
TRACK_SOCKETS = """(() => {
  const Native = window.WebSocket;
  window.sockets = [];
  window.subscribed = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.sockets.push(this); }
    send(data) {
      const message = JSON.parse(data);
      if (message.type === 'subscribe') window.subscribed.push(message.payload.variables);
      return super.send(data);
    }
  };
})();"""


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def open_chat(page: Page) -> None:
    nav(page, "Chat")
    expect(page.get_by_role("heading", level=1)).to_have_text("New conversation")
    expect(page.get_by_text("No conversations yet.")).to_be_visible()


def ask(page: Page, question: str) -> Locator:
    """Type the question and press Enter; the answer's message."""
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    expect(page.locator(".message.user").last).to_have_text(f"You{question}")
    return page.locator(".message.assistant").last


def answered(answer: Locator, status: str = "COMPLETED") -> None:
    expect(answer).to_have_attribute("data-status", status, timeout=ANSWERED_WITHIN_MS)


def words_shown(page: Page, at_least: int) -> None:
    """Wait until the answer being written shows at least so many words."""
    page.wait_for_function(
        """n => (document.querySelector('.message.assistant:last-child[data-status=STREAMING] .answer-text')
          ?.textContent.split(' ').length ?? 0) >= n""",
        arg=at_least,
        timeout=ANSWERED_WITHIN_MS,
    )


def with_page(page: Page, api: GraphQLClient, email: str) -> None:
    """The Harbour notebook with its Keeper rota page, made through the API (the web app has no page editor)."""
    token = api.data(LOGIN, {"e": email, "p": PASSWORD})["login"]["accessToken"]
    notebook = api.data(CREATE_NOTEBOOK, {"title": "Harbour"}, token)["createNotebook"]["id"]
    api.data(CREATE_PAGE, {"nb": notebook, "content": ROTA}, token)


def test_an_answer_about_a_document_streams_in_and_cites_it(page: Page, tmp_path: Path) -> None:
    sign_up(page)
    nav(page, "Documents")
    handbook = tmp_path / "handbook.md"
    handbook.write_text("# Harbour handbook\n\n## Lamp duty\n\nThe lighthouse keeper checks the lamp every night.\n")
    page.get_by_label("Document", exact=True).set_input_files(handbook)
    page.get_by_role("button", name="Upload document").click()
    assert finished(page.locator(".progress-item", has_text="handbook.md")) == "COMPLETED"

    open_chat(page)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Chat")).to_have_attribute(
        "aria-current", "page"
    )
    page.evaluate(RECORD_ANSWER_TEXTS)
    answer = ask(page, "Who checks the lighthouse lamp every night?")
    # While it is written: no second question, and it can be stopped.
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_disabled()
    expect(page).to_have_url(re.compile(r"#/chat/[^/?]+$"))
    answered(answer)
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    expect(page.get_by_label("Your question")).to_be_enabled()
    expect(page.get_by_label("Your question")).to_be_focused()

    # It grew a few words at a time, each step the start of the whole answer.
    texts = page.evaluate("window.answerTexts")
    assert len(texts) >= 5, texts
    assert all(CHAT_ANSWER.startswith(text) for text in texts), texts
    expect(answer.locator(".answer-text")).to_have_text(CHAT_ANSWER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Who checks the lighthouse lamp every night?")
    expect(page.locator(".conversation-title")).to_have_text(["Who checks the lighthouse lamp every night?"])

    sources = answer.get_by_role("region", name="Sources").locator(".source")
    expect(sources).to_have_count(1)
    expect(sources.locator(".badge")).to_have_text("Document")
    expect(sources.locator(".hit-title")).to_have_text("Harbour handbook")
    citation = answer.locator(".answer-text").get_by_role("link", name="Source 1: Harbour handbook")
    expect(citation).to_have_text("[1]")
    citation.click()
    expect(page).to_have_url(re.compile(r"#/documents/[^?]+\?passage="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour handbook")
    expect(page.locator(".place")).to_have_text("Cited at Lamp duty")

    # Back to the conversation, as it was kept.
    page.go_back()
    answer = page.locator(".message.assistant")
    expect(answer.locator(".answer-text")).to_have_text(CHAT_ANSWER)
    expect(answer.locator(".citation")).to_have_count(1)
    expect(page.locator(".message.user")).to_have_text(["YouWho checks the lighthouse lamp every night?"])


def test_an_answer_from_a_notebook_is_stopped_regenerated_renamed_and_deleted(page: Page, api: GraphQLClient) -> None:
    with_page(page, api, sign_up(page))
    open_chat(page)
    page.get_by_label("Look in").select_option(label="Harbour")
    answer = ask(page, "Who keeps the lamp on Mondays?")
    words_shown(page, 3)
    page.get_by_role("button", name="Stop").click()
    answered(answer)
    stopped = answer.locator(".answer-text").inner_text()
    assert CHAT_ANSWER.startswith(stopped) and len(stopped) < len(CHAT_ANSWER), stopped
    expect(answer.locator(".citation")).to_have_count(0)
    expect(page.get_by_label("Your question")).to_be_enabled()

    answer.get_by_role("button", name="Regenerate").click()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    answered(answer)
    expect(answer.locator(".answer-text")).to_have_text(CHAT_ANSWER)
    expect(page.locator(".message")).to_have_count(2)  # the answer was replaced, not added

    # The question was asked of the Harbour notebook: the conversation remembers it.
    page.reload()
    expect(page.get_by_label("Look in")).to_have_value(re.compile(".+"))
    expect(page.get_by_label("Look in").locator("option:checked")).to_have_text("Harbour")
    answer = page.locator(".message.assistant")
    answer.get_by_role("link", name="Source 1: Keeper rota").click()
    expect(page).to_have_url(re.compile(r"#/pages/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Keeper rota")
    page.go_back()

    rows = page.locator(".conversation-row")
    rows.get_by_role("button", name="Rename Who keeps the lamp on Mondays?").click()
    title = page.get_by_label("New title for Who keeps the lamp on Mondays?")
    title.fill("Never mind")
    title.press("Escape")
    expect(page.locator(".conversation-title")).to_have_text(["Who keeps the lamp on Mondays?"])
    rows.get_by_role("button", name="Rename Who keeps the lamp on Mondays?").click()
    title.fill("Lamp rota")
    title.press("Enter")
    expect(page.locator(".conversation-title")).to_have_text(["Lamp rota"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Lamp rota")

    rows.get_by_role("button", name="Delete Lamp rota").click()
    dialog = page.get_by_role("dialog", name="Delete this conversation?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(".conversation-title")).to_have_text(["Lamp rota"])
    rows.get_by_role("button", name="Delete Lamp rota").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile("#/chat$"))
    expect(page.get_by_text("No conversations yet.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("New conversation")


def test_an_answer_resumes_without_repeats_after_the_connection_drops(page: Page, api: GraphQLClient) -> None:
    page.add_init_script(TRACK_SOCKETS)
    with_page(page, api, sign_up(page))
    open_chat(page)
    page.evaluate(RECORD_ANSWER_TEXTS)
    answer = ask(page, "Who keeps the lamp on Mondays?")
    words_shown(page, 4)
    page.evaluate("window.sockets.at(-1).close()")
    answered(answer)
    expect(answer.locator(".answer-text")).to_have_text(CHAT_ANSWER)

    texts = page.evaluate("window.answerTexts")
    assert all(CHAT_ANSWER.startswith(text) for text in texts), texts
    assert page.evaluate("window.sockets.length") >= 2
    message_id = answer.get_attribute("data-id")
    starts = [v["after"] for v in page.evaluate("window.subscribed") if v.get("id") == message_id]
    assert len(starts) == 2 and starts[0] is None and starts[1] >= 1, starts


def test_a_failed_answer_says_why_and_can_be_asked_again(page: Page, api: GraphQLClient) -> None:
    with_page(page, api, sign_up(page))
    open_chat(page)
    answer = ask(page, "Where is the ferry timetable kept?")
    answered(answer, "FAILED")
    expect(answer.locator(".answer-error")).to_have_text(
        re.compile(r"^The answer failed: .*answered HTTP 400.*this model is out of order")
    )
    expect(answer.get_by_role("button", name="Regenerate")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_enabled()


def test_a_question_about_nothing_in_ones_material_says_so(page: Page) -> None:
    sign_up(page)
    open_chat(page)
    box = page.get_by_label("Your question")
    box.fill("What is the airspeed velocity")
    box.press("Shift+Enter")  # a new line, not sent
    box.type("of an unladen swallow?")
    expect(box).to_have_value("What is the airspeed velocity\nof an unladen swallow?")
    expect(page.locator(".message")).to_have_count(0)
    box.press("Enter")
    answer = page.locator(".message.assistant")
    answered(answer)
    expect(answer.locator(".answer-text")).to_have_text(NOTHING_FOUND["en"])
    expect(answer.locator(".citation")).to_have_count(0)
    expect(answer.get_by_role("region", name="Sources")).to_have_count(0)
    expect(page.locator(".message.user .question-text")).to_have_text(
        "What is the airspeed velocity\nof an unladen swallow?"
    )
