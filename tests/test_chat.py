"""Chat over one's own material, against the real stack: the API, a worker, a chat worker, PostgreSQL and
Redis, with an OpenAI-compatible server faked on loopback (streaming its answer word by word)."""

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response

from spek.chat.answer import NOTHING_FOUND
from spek.embedded import wait_for_exit
from tests.fake_llm import FakeServer, fake_openai, llm_settings, serving, sse
from tests.support import (
    Account,
    GraphQLClient,
    Stack,
    embedded,
    free_port,
    poll_http,
    register,
    running_stack,
    spek_process,
    sql,
    subscribe,
)
from tests.test_llm import gemini_response, gemini_routes

LEASE_SECONDS = 3
WORD_DELAY = 0.03
HARBOUR = "The northern channel is dredged every spring by the harbour committee, before the ferries start."
TULIPS = "Plant the tulip bulbs in October, six inches deep, in well-drained soil."
ANSWER = "The channel is dredged every spring [1]. Ask the harbour office about costs [9]."

SEND = """mutation($content: String!, $conversation: ID, $notebook: ID) {
  sendMessage(content: $content, conversationId: $conversation, notebookId: $notebook) {
    id conversationId role content status citations { kind id } createdAt
  }
}"""
TOKENS = """subscription($id: ID!, $after: Int) {
  messageTokens(messageId: $id, after: $after) {
    messageId seq delta done content error notice citations { kind id parentId title snippet }
  }
}"""
CONVERSATION = """query($id: ID!) {
  conversation(id: $id) { id title messages { id role content status error citations { kind id title } } }
}"""
STOP = "mutation($id: ID!) { stopMessage(id: $id) { id status content } }"
REGENERATE = "mutation($id: ID!) { regenerateMessage(id: $id) { id status conversationId } }"
RENAME = "mutation($id: ID!, $title: String!) { renameConversation(id: $id, title: $title) { id title } }"
DELETE = "mutation($id: ID!) { deleteConversation(id: $id) }"
CREATE_NOTEBOOK = "mutation($title: String!) { createNotebook(title: $title) { id } }"
CREATE_PAGE = "mutation($nb: ID!, $title: String!, $content: String) { createPage(notebookId: $nb, title: $title, content: $content) { id } }"


@dataclass
class Model:
    """What the fake model says next (a text, or an error Response), and every request it got."""

    says: Callable[[dict[str, Any]], str | Response] = lambda body: ANSWER
    server: FakeServer | None = None
    asked: list[dict[str, Any]] = field(default_factory=list)

    def reply(self, body: dict[str, Any]) -> str | Response:
        self.asked.append(body)
        return self.says(body)


@pytest.fixture(scope="module")
def model() -> Iterator[Model]:
    model = Model()
    with fake_openai(model.reply, delay=WORD_DELAY) as server:
        model.server = server
        yield model


@pytest.fixture(scope="module")
def chat_stack(tmp_path_factory: pytest.TempPathFactory, model: Model) -> Iterator[Stack]:
    assert model.server is not None
    settings = {
        **llm_settings(model.server, "fake-model"),
        "SPEK_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    with running_stack(tmp_path_factory.mktemp("chat-data"), **settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def chat_client(chat_stack: Stack) -> GraphQLClient:
    return GraphQLClient(chat_stack.base_url)


@dataclass
class Material:
    account: Account
    port: str  # notebook ids
    home: str
    harbour: str  # page ids
    tulips: str


@pytest.fixture(scope="module")
def material(chat_stack: Stack, chat_client: GraphQLClient) -> Material:
    account = register(chat_client)

    def page(notebook: str, title: str, content: str) -> str:
        variables = {"nb": notebook, "title": title, "content": content}
        return chat_client.data(CREATE_PAGE, variables, account.access_token)["createPage"]["id"]

    port = chat_client.data(CREATE_NOTEBOOK, {"title": "Port"}, account.access_token)["createNotebook"]["id"]
    home = chat_client.data(CREATE_NOTEBOOK, {"title": "Home"}, account.access_token)["createNotebook"]["id"]
    material = Material(account, port, home, page(port, "Harbour", HARBOUR), page(home, "Garden", TULIPS))
    embedded(chat_stack, account)
    return material


def ask(client: GraphQLClient, account: Account, content: str, **variables: str | None) -> dict:
    return client.data(SEND, {"content": content, **variables}, account.access_token)["sendMessage"]


def tokens(stack: Stack, account: Account, message_id: str, after: int | None = None, **kwargs: Any) -> list[dict]:
    events, errors = subscribe(stack, account.access_token, TOKENS, {"id": message_id, "after": after}, **kwargs)
    assert not errors, errors
    return [event["messageTokens"] for event in events]


def conversation(client: GraphQLClient, account: Account, conversation_id: str) -> dict:
    return client.data(CONVERSATION, {"id": conversation_id}, account.access_token)["conversation"]


def test_an_answer_streams_in_order_and_cites_only_what_was_retrieved(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material, model: Model
) -> None:
    account = material.account
    answer = ask(chat_client, account, "When is the northern channel dredged?")
    assert (answer["role"], answer["status"], answer["content"]) == ("assistant", "STREAMING", "")

    events = tokens(chat_stack, account, answer["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)) and len(events) > 2
    *deltas, done = events
    assert not any(e["done"] for e in deltas) and done["done"] and done["delta"] == "" and done["error"] is None
    assert "".join(e["delta"] for e in deltas) == ANSWER  # what streamed is what the model said
    # [9] pointed at no source: the final content drops it; [1] is the harbour page.
    assert done["content"] == "The channel is dredged every spring [1]. Ask the harbour office about costs."
    assert [(c["kind"], c["id"], c["title"]) for c in done["citations"]] == [("PAGE", material.harbour, "Harbour")]

    system = model.asked[-1]["messages"][0]["content"]
    assert "[1] page “Harbour”" in system and HARBOUR in system and TULIPS not in system
    assert model.asked[-1]["messages"][-1] == {"role": "user", "content": "When is the northern channel dredged?"}

    kept = conversation(chat_client, account, answer["conversationId"])
    assert kept["title"] == "When is the northern channel dredged?"
    assert [(m["role"], m["status"]) for m in kept["messages"]] == [("user", "COMPLETED"), ("assistant", "COMPLETED")]
    assert kept["messages"][1]["content"] == done["content"]
    assert [c["id"] for c in kept["messages"][1]["citations"]] == [material.harbour]


def test_an_answer_that_cites_nothing_is_attributed_to_the_sources_it_draws_on(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material, model: Model
) -> None:
    model.says = lambda body: "The harbour committee dredges it every spring, before the ferries start."
    try:
        answer = ask(chat_client, material.account, "When is the northern channel dredged?")
        done = tokens(chat_stack, material.account, answer["id"])[-1]
    finally:
        model.says = lambda body: ANSWER
    assert [c["id"] for c in done["citations"]] == [material.harbour]


def test_replay_from_any_point_for_late_and_concurrent_subscribers(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material
) -> None:
    account = material.account
    answer = ask(chat_client, account, "Who dredges the northern channel?")
    seen: dict[str, list[dict]] = {}

    def listen(name: str) -> None:
        seen[name] = tokens(chat_stack, account, answer["id"])

    listeners = [threading.Thread(target=listen, args=(name,)) for name in ("phone", "laptop")]
    for listener in listeners:
        listener.start()
    for listener in listeners:
        listener.join(60)
    assert seen["phone"] == seen["laptop"] and seen["phone"][-1]["done"]

    late = tokens(chat_stack, account, answer["id"])  # after the answer is complete
    assert late == seen["phone"]
    resumed = tokens(chat_stack, account, answer["id"], after=2)
    assert resumed == seen["phone"][2:]


def test_a_follow_up_is_asked_with_the_conversation_so_far(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material, model: Model
) -> None:
    account = material.account
    first = ask(chat_client, account, "When is the northern channel dredged?")
    tokens(chat_stack, account, first["id"])
    follow_up = ask(chat_client, account, "And who does it?", conversation=first["conversationId"])
    assert follow_up["conversationId"] == first["conversationId"]
    tokens(chat_stack, account, follow_up["id"])

    messages = model.asked[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "When is the northern channel dredged?"
    assert messages[3]["content"] == "And who does it?"
    assert "Harbour" in messages[0]["content"]  # the earlier question found the source for the follow-up
    kept = conversation(chat_client, account, first["conversationId"])
    assert [m["role"] for m in kept["messages"]] == ["user", "assistant", "user", "assistant"]


def test_with_nothing_relevant_the_answer_says_so_without_asking_the_model(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material, model: Model
) -> None:
    account = material.account
    asked = len(model.asked)
    answer = ask(chat_client, account, "What is the airspeed velocity of an unladen swallow?")
    done = tokens(chat_stack, account, answer["id"])[-1]
    assert (done["content"], done["citations"], done["error"]) == (NOTHING_FOUND["en"], [], None)

    russian = ask(chat_client, account, "Какая скорость у ласточки?")
    assert tokens(chat_stack, account, russian["id"])[-1]["content"] == NOTHING_FOUND["ru"]

    # Scoped to the Port notebook, the garden page is out of reach; without a scope it is found.
    scoped = ask(chat_client, account, "When should I plant the tulip bulbs?", notebook=material.port)
    assert tokens(chat_stack, account, scoped["id"])[-1]["content"] == NOTHING_FOUND["en"]
    assert len(model.asked) == asked
    model.says = lambda body: "In October [1]."
    try:
        anywhere = ask(chat_client, account, "When should I plant the tulip bulbs?")
        done = tokens(chat_stack, account, anywhere["id"])[-1]
    finally:
        model.says = lambda body: ANSWER
    assert [c["id"] for c in done["citations"]] == [material.tulips]


def long_answer(body: dict[str, Any]) -> str:
    return " ".join(f"word{n}" for n in range(400)) + " [1]"


def test_stopping_keeps_what_was_written(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material, model: Model
) -> None:
    account = material.account
    model.says = long_answer
    try:
        answer = ask(chat_client, account, "When is the northern channel dredged?")
        stopped: list[dict] = []

        def stop_after_some(event: dict) -> None:
            if event["messageTokens"]["seq"] == 3 and not stopped:
                stopped.append(chat_client.data(STOP, {"id": answer["id"]}, account.access_token)["stopMessage"])

        events = tokens(chat_stack, account, answer["id"], on_event=stop_after_some)
    finally:
        model.says = lambda body: ANSWER
    done = events[-1]
    assert done["done"] and done["error"] is None
    assert done["content"].startswith("word0 word1") and "word399" not in done["content"]
    assert done["content"] == "".join(e["delta"] for e in events[:-1])
    kept = conversation(chat_client, account, answer["conversationId"])["messages"][-1]
    assert (kept["status"], kept["content"]) == ("COMPLETED", done["content"])
    # Stopping a finished answer changes nothing.
    again = chat_client.data(STOP, {"id": answer["id"]}, account.access_token)["stopMessage"]
    assert (again["status"], again["content"]) == ("COMPLETED", done["content"])


def test_regenerate_rename_and_delete(chat_stack: Stack, chat_client: GraphQLClient, material: Material) -> None:
    account = material.account
    answer = ask(chat_client, account, "When is the northern channel dredged?")
    tokens(chat_stack, account, answer["id"])
    again = chat_client.data(REGENERATE, {"id": answer["id"]}, account.access_token)["regenerateMessage"]
    assert again["id"] != answer["id"] and again["status"] == "STREAMING"
    assert tokens(chat_stack, account, again["id"])[-1]["done"]
    kept = conversation(chat_client, account, answer["conversationId"])
    assert [m["id"] for m in kept["messages"] if m["role"] == "assistant"] == [again["id"]]
    question = kept["messages"][0]["id"]
    assert chat_client.error_code(REGENERATE, {"id": question}, account.access_token) == "BAD_USER_INPUT"

    renamed = chat_client.data(RENAME, {"id": kept["id"], "title": "  Dredging  "}, account.access_token)
    assert renamed["renameConversation"]["title"] == "Dredging"
    assert chat_client.error_code(RENAME, {"id": kept["id"], "title": " "}, account.access_token) == "BAD_USER_INPUT"
    assert chat_client.data(DELETE, {"id": kept["id"]}, account.access_token)["deleteConversation"] is True
    assert chat_client.error_code(CONVERSATION, {"id": kept["id"]}, account.access_token) == "NOT_FOUND"
    assert sql(chat_stack.database_url, "SELECT count(*) FROM messages WHERE conversation_id = :c", c=kept["id"]) == [
        (0,)
    ]


def test_a_model_that_fails_fails_the_answer_readably(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material, model: Model
) -> None:
    account = material.account
    model.says = lambda body: JSONResponse({"error": {"message": "model overloaded", "type": "server_error"}}, 503)
    try:
        answer = ask(chat_client, account, "When is the northern channel dredged?")
        done = tokens(chat_stack, account, answer["id"])[-1]
    finally:
        model.says = lambda body: ANSWER
    assert done["done"] and done["content"] == "" and "503" in done["error"]
    kept = conversation(chat_client, account, answer["conversationId"])["messages"][-1]
    assert (kept["status"], kept["error"]) == ("FAILED", done["error"])
    # The conversation goes on.
    follow_up = ask(chat_client, account, "Who dredges it?", conversation=answer["conversationId"])
    assert tokens(chat_stack, account, follow_up["id"])[-1]["error"] is None


def test_an_answer_whose_worker_is_killed_is_ended_by_the_next_worker(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material, model: Model
) -> None:
    account = material.account
    model.says = long_answer
    started = threading.Event()
    try:
        answer = ask(chat_client, account, "When is the northern channel dredged?")
        killed: list[bool] = []

        def kill_mid_answer(event: dict) -> None:
            if event["messageTokens"]["seq"] == 2 and not killed:
                chat_stack.processes["chat worker"].kill()
                killed.append(True)
                started.set()

        def replace_worker() -> None:
            started.wait(60)
            wait_for_exit(chat_stack.processes["chat worker"], 10)
            chat_stack.processes["chat worker"] = spek_process("worker", chat_stack.env, ["--chat"])

        replacing = threading.Thread(target=replace_worker)
        replacing.start()
        began = time.monotonic()
        events = tokens(chat_stack, account, answer["id"], on_event=kill_mid_answer)
        replacing.join(30)
    finally:
        model.says = lambda body: ANSWER
    done = events[-1]
    assert killed and done["done"] and "stopped part-way" in done["error"]
    assert time.monotonic() - began < 60  # within a lease or so of the new worker's start, not hours
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    kept = conversation(chat_client, account, answer["conversationId"])["messages"][-1]
    assert kept["status"] == "FAILED" and kept["content"] == done["content"] != ""
    # The replacement worker answers the next question.
    after = ask(chat_client, account, "Who dredges it?", conversation=answer["conversationId"])
    assert tokens(chat_stack, account, after["id"])[-1]["error"] is None


def test_another_users_conversations_and_messages_do_not_exist_for_them(
    chat_stack: Stack, chat_client: GraphQLClient, material: Material
) -> None:
    owner, stranger = material.account, register(chat_client)
    answer = ask(chat_client, owner, "When is the northern channel dredged?")
    tokens(chat_stack, owner, answer["id"])
    conversation_id, message_id = answer["conversationId"], answer["id"]

    token = stranger.access_token
    assert chat_client.error_code(CONVERSATION, {"id": conversation_id}, token) == "NOT_FOUND"
    assert chat_client.error_code(SEND, {"content": "hi", "conversation": conversation_id}, token) == "NOT_FOUND"
    assert chat_client.error_code(SEND, {"content": "hi", "notebook": material.port}, token) == "NOT_FOUND"
    assert chat_client.error_code(STOP, {"id": message_id}, token) == "NOT_FOUND"
    assert chat_client.error_code(REGENERATE, {"id": message_id}, token) == "NOT_FOUND"
    assert chat_client.error_code(RENAME, {"id": conversation_id, "title": "Mine"}, token) == "NOT_FOUND"
    assert chat_client.error_code(DELETE, {"id": conversation_id}, token) == "NOT_FOUND"
    assert chat_client.data("{ conversations { id } }", None, token)["conversations"] == []
    events, errors = subscribe(chat_stack, token, TOKENS, {"id": message_id})
    assert events == [] and errors[0]["extensions"]["code"] == "NOT_FOUND"
    # Their own question finds nothing of the owner's.
    theirs = ask(chat_client, stranger, "When is the northern channel dredged?")
    assert tokens(chat_stack, stranger, theirs["id"])[-1]["content"] == NOTHING_FOUND["en"]
    assert conversation(chat_client, owner, conversation_id)["id"] == conversation_id


def test_empty_and_huge_questions_are_refused_and_leave_nothing(chat_stack: Stack, chat_client: GraphQLClient) -> None:
    account = register(chat_client)
    for content in ("", "   \n ", "x" * 100_000):
        assert chat_client.error_code(SEND, {"content": content}, account.access_token) == "BAD_USER_INPUT"
    assert chat_client.data("{ conversations { id } }", None, account.access_token)["conversations"] == []
    assert sql(chat_stack.database_url, "SELECT count(*) FROM messages WHERE user_id = :u", u=account.id) == [(0,)]


def test_the_packaged_local_model_answers_from_the_material(stack: Stack, client: GraphQLClient) -> None:
    """The default provider: Qwen2.5-0.5B from its wheel, on llama.cpp in the chat worker."""
    account = register(client)
    notebook = client.data(CREATE_NOTEBOOK, {"title": "Port"}, account.access_token)["createNotebook"]["id"]
    variables = {"nb": notebook, "title": "Harbour", "content": HARBOUR}
    page = client.data(CREATE_PAGE, variables, account.access_token)["createPage"]["id"]
    embedded(stack, account)
    answer = ask(client, account, "In which season is the northern channel dredged?")
    events = tokens(stack, account, answer["id"])
    done = events[-1]
    assert done["error"] is None and [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert "spring" in done["content"].lower()
    assert {c["id"] for c in done["citations"]} <= {page}


def test_gemini_streams_an_answer_after_waiting_out_its_rate_limit(
    chat_stack: Stack, material: Material, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An API and chat worker of their own (on a queue of their own) with SPEK_LLM_PROVIDER=gemini, against a
    fake Gemini that refuses twice with 429 RESOURCE_EXHAUSTED before streaming."""
    refused: list[dict] = []

    def reply(request: dict[str, Any]) -> Response:
        if len(refused) < 2:
            refused.append(request)
            error = {"code": 429, "message": "Resource has been exhausted.", "status": "RESOURCE_EXHAUSTED"}
            return JSONResponse({"error": error}, status_code=429)
        return sse([json.dumps(gemini_response(piece)) for piece in ("Every ", "spring ", "[1].")])

    with serving(gemini_routes, reply) as gemini:
        port = free_port()
        env = {
            **chat_stack.env,
            "SPEK_PORT": str(port),
            "SPEK_QUEUE_NAME": f"spek:gemini:{uuid.uuid4().hex[:8]}",
            "SPEK_LLM_PROVIDER": "gemini",
            "SPEK_LLM_MODEL": "gemini-test",
            "SPEK_LLM_BASE_URL": gemini.base_url,
            "GEMINI_API_KEY": "gemini-key",
        }
        processes = [spek_process("serve", env), spek_process("worker", env, ["--chat"])]
        try:
            base_url = f"http://127.0.0.1:{port}"
            # /readyz would want a worker for recordings on this queue too: the API answering is enough here.
            poll_http(f"{base_url}/healthz", lambda r: r.status_code == 200, processes[0])
            api = SimpleNamespace(base_url=base_url)
            answer = ask(GraphQLClient(base_url), material.account, "When is the northern channel dredged?")
            events = tokens(api, material.account, answer["id"])
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                wait_for_exit(process, 20)
    notices = [e["notice"] for e in events if e["notice"]]
    assert notices and "rate limited" in notices[0] and all(e["delta"] == "" for e in events if e["notice"])
    done = events[-1]
    assert (done["content"], done["error"]) == ("Every spring [1].", None)
    assert [c["id"] for c in done["citations"]] == [material.harbour]
    request = gemini.requests[-1]
    assert request["path"].endswith("/models/gemini-test:streamGenerateContent") and request["query"]["alt"] == "sse"
    assert request["headers"]["x-goog-api-key"] == "gemini-key"
