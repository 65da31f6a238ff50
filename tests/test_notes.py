"""Notes from transcripts: made after transcription (an LLM behind a fake OpenAI-compatible server, for exact
checks), made again on request with the real default local model, edited, filtered, related, private."""

import re
from collections.abc import Iterator

import pytest

from spek.notes.writer import SUMMARY_PROMPT
from tests.audio import SUPPORT_CALL, dialogue, speak
from tests.fake_llm import FakeServer, as_json, fake_openai, llm_settings, user_prompt
from tests.support import Account, GraphQLClient, Stack, embedded, follow, register, running_stack, transcribed

NOTE_FIELDS = """id title summary content tags { name color } keyPhrases sentiment { speaker label score }
  sourceRecordingId notebookId isFavorite isRead readingTimeMinutes language model createdAt updatedAt"""
RECORDING = f"query($id: ID!) {{ recording(id: $id) {{ noteJob {{ id kind status }} note {{ {NOTE_FIELDS} }} transcript {{ speakers {{ label }} }} }} }}"
NOTE = f"query($id: ID!) {{ note(id: $id) {{ {NOTE_FIELDS} related {{ note {{ id }} strength relationship }} }} }}"
NOTES = "query($tag: String, $favorite: Boolean) { notes(tag: $tag, favorite: $favorite) { id } }"
UPDATE = f"""mutation($id: ID!, $title: String, $content: String, $tags: [String!], $fav: Boolean, $read: Boolean) {{
  updateNote(id: $id, title: $title, content: $content, tags: $tags, isFavorite: $fav, isRead: $read) {{ {NOTE_FIELDS} }} }}"""
DELETE = "mutation($id: ID!) { deleteNote(id: $id) }"
REGENERATE = "mutation($id: ID!) { regenerateNote(recordingId: $id) { id kind status } }"
SEARCH = "query($q: String!) { search(query: $q, kinds: [NOTE], mode: KEYWORD) { id kind parentId title } }"
CREATE_PAGE = 'mutation($nb: ID!) { createPage(notebookId: $nb, title: "Desk", tags: ["Networking"]) { id } }'

FAKE_NOTE = {
    "title": "Internet outage call",
    "summary": "A customer reports the internet down since morning. Support finds an outage in the area. "
    "It should take about two hours. The customer gave an account number.",
    "topics": [
        {"topic": "The outage", "points": ["Internet down since this morning", "Outage in the customer's area"]},
        {"topic": "Account", "points": ["The customer gave an account number"]},
    ],
    "decisions": ["Wait for the outage to be fixed"],
    "action_items": ["Check the connection again in two hours"],
    "tags": ["networking", "#Outage"],
}


def answer(body: dict) -> str:
    if "Russian" in body["messages"][0]["content"]:
        # A server that ignores the schema's topics, answering a flat list of key points: they still show.
        flat = {key: value for key, value in FAKE_NOTE.items() if key != "topics"}
        return as_json({**flat, "key_points": ["Проверить сеть утром"]})
    if "lamp" in user_prompt(body).lower():  # a model that gives a one-sentence summary, and no full stop
        if user_prompt(body).startswith(SUMMARY_PROMPT):
            return as_json({"summary": "The keeper checks the lamp every night. He writes each check in the log"})
        return as_json({**FAKE_NOTE, "summary": "The keeper checks the lamp"})
    return as_json(FAKE_NOTE)


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeServer]:
    with fake_openai(answer) as fake:
        yield fake


@pytest.fixture(scope="module")
def noted_stack(tmp_path_factory: pytest.TempPathFactory, llm_server: FakeServer) -> Iterator[Stack]:
    """A stack that writes a note after every transcript, with the fake server as its LLM."""
    settings = {"SPEK_NOTES": "true", **llm_settings(llm_server)}
    with running_stack(tmp_path_factory.mktemp("notes-data"), **settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def noted(noted_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Erin's support call, transcribed, and the note the worker then made of it."""
    client = GraphQLClient(noted_stack.base_url)
    erin = register(client)
    notebook = client.data('mutation { createNotebook(title: "Work") { id } }', None, erin.access_token)
    client.data(CREATE_PAGE, {"nb": notebook["createNotebook"]["id"]}, erin.access_token)  # her tag "Networking"
    call, _ = dialogue(SUPPORT_CALL, tmp_path_factory.mktemp("notes") / "call.wav")
    recording = transcribed(client, noted_stack, erin.access_token, call, {"language": "en", "title": "Support call"})
    note_job = client.data(RECORDING, {"id": recording}, erin.access_token)["recording"]["noteJob"]
    assert note_job["kind"] == "note"
    events = follow(noted_stack, erin.access_token, note_job["id"])
    assert events[-1]["status"] == "COMPLETED", events[-1]
    stages = list(dict.fromkeys(e["stage"] for e in events if e["stage"]))
    assert stages == ["summarizing", "analyzing", "saving", "indexing"]
    state = client.data(RECORDING, {"id": recording}, erin.access_token)["recording"]
    return {"client": client, "erin": erin, "recording": recording, **state}


def test_a_transcript_becomes_a_note_in_its_language(noted: dict, llm_server: FakeServer) -> None:
    note = noted["note"]
    assert (note["title"], note["sourceRecordingId"], note["language"]) == (
        "Internet outage call",
        noted["recording"],
        "en",
    )
    assert note["summary"] == (
        "A customer reports the internet down since morning. Support finds an outage in the area. "
        "It should take about two hours."
    )  # the fourth sentence is cut: two or three sentences
    assert note["content"].startswith(
        "## Key points\n\n### The outage\n\n- Internet down since this morning\n- Outage in the customer's area"
        "\n\n### Account\n\n- The customer gave an account number\n\n## Decisions"
    )  # grouped by topic
    assert "## Decisions\n\n- Wait for the outage to be fixed" in note["content"]
    assert "- [ ] Check the connection again in two hours" in note["content"]
    tags = [t["name"] for t in note["tags"]]
    assert {"Networking", "outage"} <= set(tags) and 3 <= len(tags) <= 5  # her spelling of her tag is kept
    assert all(re.fullmatch(r"#[0-9a-f]{6}", t["color"]) for t in note["tags"])
    assert note["keyPhrases"] and all(isinstance(p, str) and p for p in note["keyPhrases"])
    labels = [s["label"] for s in noted["transcript"]["speakers"]]
    assert [s["speaker"] for s in note["sentiment"]] == labels and len(labels) == 2
    assert all(s["label"] in ("positive", "neutral", "negative") and -1 <= s["score"] <= 1 for s in note["sentiment"])
    assert note["readingTimeMinutes"] >= 1 and note["model"] == "fake-notes" and not note["isRead"]

    [seen] = [r for r in llm_server.requests if "Transcript:" in user_prompt(r["body"])][-1:]
    request = seen["body"]
    assert seen["headers"]["authorization"] == "Bearer sk-test" and request["model"] == "fake-notes"
    assert "English" in request["messages"][0]["content"]
    assert "Networking" in user_prompt(request)  # her existing tags, offered for reuse
    assert "Speaker 1: How long will it take?" in user_prompt(request)  # turns with speakers as named
    assert request["response_format"]["type"] == "json_schema"


def test_a_russian_transcripts_note_has_russian_headings(noted: dict, noted_stack: Stack, tmp_path) -> None:
    client = noted["client"]
    erin = register(client)  # another account: this note must not show up in the other tests' searches
    memo = speak("Завтра утром мы проверим сеть и позвоним клиенту.", tmp_path / "memo.wav", voice="ru")
    recording = transcribed(client, noted_stack, erin.access_token, memo, {"language": "ru", "diarize": False})
    note_job = client.data(RECORDING, {"id": recording}, erin.access_token)["recording"]["noteJob"]
    assert follow(noted_stack, erin.access_token, note_job["id"])[-1]["status"] == "COMPLETED"
    note = client.data(RECORDING, {"id": recording}, erin.access_token)["recording"]["note"]
    assert note["language"] == "ru"
    assert (
        "## Главное\n\n- Проверить сеть утром\n\n## Решения" in note["content"]
        and "## Решения" in note["content"]
        and "## Задачи" in note["content"]
    )
    assert "Key points" not in note["content"]


def test_a_one_sentence_summary_is_asked_for_again(noted: dict, noted_stack: Stack, tmp_path) -> None:
    client = noted["client"]
    erin = register(client)
    memo = speak(
        "The lighthouse keeper checks the lamp every night and writes each check in the log.", tmp_path / "m.wav"
    )
    recording = transcribed(client, noted_stack, erin.access_token, memo, {"language": "en", "diarize": False})
    note_job = client.data(RECORDING, {"id": recording}, erin.access_token)["recording"]["noteJob"]
    assert follow(noted_stack, erin.access_token, note_job["id"])[-1]["status"] == "COMPLETED"
    note = client.data(RECORDING, {"id": recording}, erin.access_token)["recording"]["note"]
    assert note["summary"] == "The keeper checks the lamp every night. He writes each check in the log."


def test_a_note_is_found_by_search_and_edited(noted: dict) -> None:
    client, erin, note = noted["client"], noted["erin"], noted["note"]
    [hit] = client.data(SEARCH, {"q": "outage"}, erin.access_token)["search"]
    assert (hit["id"], hit["kind"], hit["parentId"]) == (note["id"], "NOTE", noted["recording"])

    edited = client.data(
        UPDATE,
        {
            "id": note["id"],
            "title": "Outage, Tuesday",
            "content": "# Call\n\n" + "The internet outage in the area lasted two hours. " * 50,
            "tags": ["Calls"],
            "fav": True,
            "read": True,
        },
        erin.access_token,
    )["updateNote"]
    assert (edited["title"], edited["isFavorite"], edited["isRead"], edited["model"]) == (
        "Outage, Tuesday",
        True,
        True,
        None,
    )
    assert [t["name"] for t in edited["tags"]] == ["Calls"] and edited["readingTimeMinutes"] == 3
    assert [n["id"] for n in client.data(NOTES, {"tag": "Calls"}, erin.access_token)["notes"]] == [note["id"]]
    assert client.data(NOTES, {"tag": "Networking"}, erin.access_token)["notes"] == []
    assert [n["id"] for n in client.data(NOTES, {"favorite": True}, erin.access_token)["notes"]] == [note["id"]]
    assert client.data(NOTES, {"favorite": False}, erin.access_token)["notes"] == []
    assert client.data(SEARCH, {"q": "Tuesday"}, erin.access_token)["search"][0]["id"] == note["id"]


def test_another_users_note_does_not_exist_for_them(noted: dict) -> None:
    client, note = noted["client"], noted["note"]
    frank = register(client)
    assert client.error_code(NOTE, {"id": note["id"]}, frank.access_token) == "NOT_FOUND"
    assert client.error_code(UPDATE, {"id": note["id"], "title": "Mine"}, frank.access_token) == "NOT_FOUND"
    assert client.error_code(DELETE, {"id": note["id"]}, frank.access_token) == "NOT_FOUND"
    assert client.error_code(REGENERATE, {"id": noted["recording"]}, frank.access_token) == "NOT_FOUND"
    assert client.data(NOTES, {}, frank.access_token)["notes"] == []
    assert client.data(SEARCH, {"q": "outage"}, frank.access_token)["search"] == []


def test_related_notes_and_deletion(noted: dict, noted_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> None:
    client, erin = noted["client"], noted["erin"]
    call, _ = dialogue(SUPPORT_CALL[:4], tmp_path_factory.mktemp("notes2") / "call2.wav")
    second = transcribed(client, noted_stack, erin.access_token, call, {"language": "en", "title": "Second call"})
    job = client.data(RECORDING, {"id": second}, erin.access_token)["recording"]["noteJob"]
    assert follow(noted_stack, erin.access_token, job["id"])[-1]["status"] == "COMPLETED"
    other = client.data(RECORDING, {"id": second}, erin.access_token)["recording"]["note"]
    embedded(noted_stack, erin)  # the first note's edit is embedded again
    # Both notes tell of the same outage: each is the other's related note, by meaning.
    related = client.data(NOTE, {"id": other["id"]}, erin.access_token)["note"]["related"]
    assert [r["note"]["id"] for r in related] == [noted["note"]["id"]]
    assert 0.45 <= related[0]["strength"] <= 1 and related[0]["relationship"] in ("similar", "same_tag")

    assert client.data(DELETE, {"id": other["id"]}, erin.access_token)["deleteNote"] is True
    assert client.error_code(NOTE, {"id": other["id"]}, erin.access_token) == "NOT_FOUND"
    assert client.data(NOTE, {"id": noted["note"]["id"]}, erin.access_token)["note"]["related"] == []


def test_the_default_local_model_writes_a_note_on_request(
    client: GraphQLClient, stack, owner: Account, tmp_path_factory
) -> None:
    call, _ = dialogue(SUPPORT_CALL, tmp_path_factory.mktemp("local-note") / "call.wav")
    recording = transcribed(client, stack, owner.access_token, call, {"language": "en", "title": "Support call"})
    assert (
        client.data(RECORDING, {"id": recording}, owner.access_token)["recording"]["noteJob"] is None
    )  # SPEK_NOTES off
    job = client.data(REGENERATE, {"id": recording}, owner.access_token)["regenerateNote"]
    assert (job["kind"], job["status"]) == ("note", "QUEUED")
    assert client.error_code(REGENERATE, {"id": recording}, owner.access_token) == "CONFLICT"  # one at a time
    assert follow(stack, owner.access_token, job["id"])[-1]["status"] == "COMPLETED"
    note = client.data(RECORDING, {"id": recording}, owner.access_token)["recording"]["note"]
    assert note["title"] and note["summary"] and note["model"]
    assert 1 <= len(re.findall(r"[.!?](?:\s|$)", note["summary"])) <= 3
    assert 3 <= len(note["tags"]) <= 5 and note["keyPhrases"] and len(note["sentiment"]) == 2
    assert note["language"] == "en" and note["readingTimeMinutes"] >= 1
