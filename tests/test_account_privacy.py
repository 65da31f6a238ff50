"""A user's own audit trail, deleting an account with everything it owns, and audio kept no longer than its TTL."""

import io
import json
import time
import uuid
import zipfile

from spek.accounts import export
from spek.embedded import wait_for_exit
from spek.models import Base
from tests.audio import SUPPORT_CALL, dialogue
from tests.support import GraphQLClient, follow, register, spek_process, sql, transcribed
from tests.test_documents import upload_document

AUDIT_LOG = "query($limit: Int!, $offset: Int!) { auditLog(limit: $limit, offset: $offset) { action targetType targetId details at } }"
DELETE_ACCOUNT = "mutation($password: String) { deleteAccount(password: $password) }"
REGISTER_DEVICE = "mutation($d: String!) { registerDevice(deviceId: $d) { accessToken } }"
CREATE_NOTEBOOK = 'mutation { createNotebook(title: "Private") { id } }'
RENAME_NOTEBOOK = 'mutation($id: ID!) { updateNotebook(id: $id, title: "Renamed") { id } }'
# Every table with the owner on its rows.
OWNED = ["notebooks", "tags", "recordings", "documents", "notes", "jobs", "search_entries", "conversations",
         "messages", "refresh_tokens"]  # fmt: skip


def owned_rows(database_url: str, user_id: str) -> dict[str, int]:
    counts = {t: sql(database_url, f"SELECT count(*) FROM {t} WHERE user_id = :u", u=user_id)[0][0] for t in OWNED}
    counts["audit_log"] = sql(database_url, "SELECT count(*) FROM audit_log WHERE actor_id = :u", u=user_id)[0][0]
    return {table: count for table, count in counts.items() if count}


def test_the_audit_log_is_the_callers_own_newest_first(client: GraphQLClient) -> None:
    alice, bob = register(client), register(client)
    notebook = client.data(CREATE_NOTEBOOK, None, alice.access_token)["createNotebook"]["id"]
    client.data(RENAME_NOTEBOOK, {"id": notebook}, alice.access_token)
    client.data(CREATE_NOTEBOOK, None, bob.access_token)

    entries = client.data(AUDIT_LOG, {"limit": 2, "offset": 0}, alice.access_token)["auditLog"]
    assert [(e["action"], e["targetId"]) for e in entries] == [
        ("notebook.update", notebook),
        ("notebook.create", notebook),
    ]
    assert entries[0]["at"] >= entries[1]["at"]
    older = client.data(AUDIT_LOG, {"limit": 50, "offset": 2}, alice.access_token)["auditLog"]
    assert [e["action"] for e in older] == ["user.register"]
    assert client.error_code(AUDIT_LOG, {"limit": 0, "offset": 0}, alice.access_token) == "BAD_USER_INPUT"


def test_deleting_an_account_removes_everything_it_owns_and_nothing_else(client: GraphQLClient, stack) -> None:
    owner, neighbour = register(client), register(client)
    for account in (owner, neighbour):
        client.data(CREATE_NOTEBOOK, None, account.access_token)
        document = upload_document(client, account, "plan.md", b"# Plan\n\nThe ferry timetable changes in May.")
        assert (
            follow(stack, account.access_token, document["data"]["uploadDocument"]["job"]["id"])[-1]["status"]
            == "COMPLETED"
        )
        client.data(
            'mutation { sendMessage(content: "When does the timetable change?") { id } }', None, account.access_token
        )
    [(key,)] = sql(stack.database_url, "SELECT storage_key FROM documents WHERE user_id = :u", u=owner.id)
    stored = stack.data_dir / "files" / key
    assert stored.exists() and owned_rows(stack.database_url, owner.id).keys() >= {
        "documents",
        "search_entries",
        "messages",
    }

    assert client.error_code(DELETE_ACCOUNT, {"password": "not the password"}, owner.access_token) == "UNAUTHENTICATED"
    assert client.error_code(DELETE_ACCOUNT, {}, owner.access_token) == "UNAUTHENTICATED"
    assert stored.exists()

    assert client.data(DELETE_ACCOUNT, {"password": owner.password}, owner.access_token)["deleteAccount"] is True
    assert owned_rows(stack.database_url, owner.id) == {}
    assert sql(stack.database_url, "SELECT count(*) FROM users WHERE id = :u", u=owner.id) == [(0,)]
    assert not stored.exists()
    assert client.error_code("{ me { id } }", None, owner.access_token) == "UNAUTHENTICATED"
    assert owned_rows(stack.database_url, neighbour.id).keys() >= {"documents", "search_entries", "messages"}


def test_a_device_account_is_deleted_with_its_token_alone(client: GraphQLClient, stack) -> None:
    token = client.data(REGISTER_DEVICE, {"d": "device-to-forget-0123456789"})["registerDevice"]["accessToken"]
    assert client.data(DELETE_ACCOUNT, {}, token)["deleteAccount"] is True
    assert sql(stack.database_url, "SELECT count(*) FROM users WHERE device_id = 'device-to-forget-0123456789'") == [
        (0,)
    ]


AUDIO = "query($id: ID!) { recording(id: $id) { audioUrl audioExpiredAt transcript { text } } }"
RETRY = "mutation($id: ID!) { retryRecording(id: $id) { id } }"


def test_audio_past_its_ttl_is_deleted_and_the_transcript_stays(client: GraphQLClient, stack, tmp_path) -> None:
    owner = register(client)
    audio, _ = dialogue(SUPPORT_CALL, tmp_path / "call.wav")
    recording = transcribed(client, stack, owner.access_token, audio, {"language": "en"})
    link = client.data(AUDIO, {"id": recording}, owner.access_token)["recording"]["audioUrl"]
    assert client.http.get(link).status_code == 200
    [(key,)] = sql(stack.database_url, "SELECT storage_key FROM recordings WHERE id = :r", r=recording)
    sql(stack.database_url, "UPDATE recordings SET created_at = now() - interval '2 hours' WHERE id = :r", r=recording)

    # A worker with a one-hour TTL (on a queue of its own) expires old audio when it starts, then every 5 minutes.
    env = {**stack.env, "SPEK_AUDIO_TTL_HOURS": "1", "SPEK_QUEUE_NAME": f"spek:ttl:{uuid.uuid4().hex[:8]}"}
    worker = spek_process("worker", env)
    try:
        deadline = time.monotonic() + 60
        while sql(stack.database_url, "SELECT audio_expired_at FROM recordings WHERE id = :r", r=recording) == [
            (None,)
        ]:
            assert time.monotonic() < deadline, "the audio did not expire"
            time.sleep(0.5)
    finally:
        worker.terminate()
        wait_for_exit(worker, 30)
    now = client.data(AUDIO, {"id": recording}, owner.access_token)["recording"]
    assert now["audioUrl"] is None and now["audioExpiredAt"] and "internet" in now["transcript"]["text"].lower()
    gone = client.http.get(link)
    assert gone.status_code == 404 and "expired" in gone.text
    assert not (stack.data_dir / "files" / key).exists()
    assert client.error_code(RETRY, {"id": recording}, owner.access_token) == "BAD_USER_INPUT"


EXPORT = "mutation { exportMyData { url filename contentType expiresAt } }"
CREATE_PAGE = (
    'mutation($nb: ID!) { createPage(notebookId: $nb, title: "Secret plan", content: "Meet at noon.") { id } }'
)


def test_every_table_is_exported_or_deliberately_left_out() -> None:
    tables = {table.name for table in Base.metadata.sorted_tables}
    assert tables == set(export.ROWS) | export.LEFT_OUT


def test_export_my_data_is_a_zip_of_everything_the_caller_owns(client: GraphQLClient, stack) -> None:
    owner, stranger = register(client), register(client)
    notebook = client.data(CREATE_NOTEBOOK, None, owner.access_token)["createNotebook"]["id"]
    page = client.data(CREATE_PAGE, {"nb": notebook}, owner.access_token)["createPage"]["id"]
    content = b"# Plan\n\nThe ferry timetable changes in May."
    document = upload_document(client, owner, "plan.md", content)["data"]["uploadDocument"]
    client.data(CREATE_NOTEBOOK, None, stranger.access_token)

    link = client.data(EXPORT, None, owner.access_token)["exportMyData"]
    assert link["contentType"] == "application/zip" and link["url"].startswith(stack.base_url)
    response = client.http.get(link["url"])
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = {name: json.loads(archive.read(name)) for name in archive.namelist() if name.endswith(".json")}
    assert [n["id"] for n in rows["notebooks.json"]] == [notebook]
    assert [p["id"] for p in rows["pages.json"]] == [page] and rows["pages.json"][0]["content"] == "Meet at noon."
    assert [u["email"] for u in rows["users.json"]] == [owner.email] and "password_hash" not in rows["users.json"][0]
    assert {e["action"] for e in rows["audit_log.json"]} >= {"user.register", "notebook.create", "document.upload"}
    assert archive.read(f"files/documents/{document['id']}-plan.md") == content

    forged = link["url"].replace(owner.id, stranger.id)
    assert client.http.get(forged).status_code == 403
