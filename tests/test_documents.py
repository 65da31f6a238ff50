"""Documents end to end: upload over GraphQL, the worker embeds every passage, refusals leave nothing."""

import io
from pathlib import Path

import docx
import pytest

from tests.documents import pdf_file
from tests.support import Account, GraphQLClient, follow, post_file, sql

FIELDS = "id title filename contentType sizeBytes notebookId status chunkCount createdAt job { id kind status }"
UPLOAD = f"mutation($file: Upload!, $nb: ID) {{ uploadDocument(file: $file, notebookId: $nb) {{ {FIELDS} }} }}"
DOCUMENT = f"query($id: ID!) {{ document(id: $id) {{ {FIELDS} }} }}"
DOCUMENTS = "query { documents { id title } }"
DELETE = "mutation($id: ID!) { deleteDocument(id: $id) }"
REPORT = [
    "The harbour committee met on Tuesday to plan the spring dredging of the northern channel.",
    "Fishing boats will moor at the eastern pier while the dredger works, from March to May.",
]


def word_file(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    document.add_heading("Harbour committee", level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def upload_document(
    client: GraphQLClient, account: Account, name: str, content: bytes, notebook: str | None = None
) -> dict:
    return post_file(client, account.access_token, UPLOAD, {"nb": notebook}, name, content)


def chunk_rows(stack, document_id: str) -> list[tuple]:
    return sql(
        stack.database_url,
        "SELECT position, page, heading, text, embedding_model, vector_dims(embedding), user_id::text "
        "FROM search_entries WHERE kind = 'DOCUMENT' AND parent_id = :d ORDER BY position",
        d=document_id,
    )


def leftovers(stack, account: Account) -> tuple[int, int, int, list[Path]]:
    [(documents, chunks, document_jobs)] = sql(
        stack.database_url,
        "SELECT (SELECT count(*) FROM documents WHERE user_id = :u), (SELECT count(*) FROM search_entries WHERE user_id = :u AND kind = 'DOCUMENT'),"
        " (SELECT count(*) FROM jobs WHERE user_id = :u AND kind = 'document')",
        u=account.id,
    )
    folder = stack.data_dir / "files" / "documents" / account.id
    files = list(folder.rglob("*")) if folder.exists() else []
    scratch = [p for p in (stack.data_dir / "tmp").glob("document-*")]
    return documents, chunks, document_jobs, files + scratch


def test_a_word_file_is_chunked_and_every_passage_embedded(client: GraphQLClient, stack, alice: Account) -> None:
    body = upload_document(client, alice, "harbour.docx", word_file(REPORT))
    document = body["data"]["uploadDocument"]
    assert document["contentType"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert (document["filename"], document["job"]["kind"]) == ("harbour.docx", "document")
    assert document["chunkCount"] >= 1 and document["status"] in ("QUEUED", "RUNNING")

    events = follow(stack, alice.access_token, document["job"]["id"])
    assert events[-1]["status"] == "COMPLETED" and events[-1]["stage"] == "embedding"
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)

    done = client.data(DOCUMENT, {"id": document["id"]}, alice.access_token)["document"]
    assert (done["status"], done["job"]["status"]) == ("COMPLETED", "COMPLETED")
    rows = chunk_rows(stack, document["id"])
    assert len(rows) == done["chunkCount"]
    assert all(model == "all-MiniLM-L6-v2" and dims == 384 and owner == alice.id for *_, model, dims, owner in rows)
    text = " ".join(row[3] for row in rows)
    assert "spring dredging" in text and "eastern pier" in text
    assert rows[0][2] == "Harbour committee"  # the heading a citation will show


def test_pdf_passages_keep_their_page_numbers(client: GraphQLClient, stack, alice: Account) -> None:
    pages = [f"Page {n}: " + " ".join([REPORT[n % 2]] * 12) for n in (1, 2)]
    document = upload_document(client, alice, "minutes.pdf", pdf_file(pages))["data"]["uploadDocument"]
    assert document["contentType"] == "application/pdf"
    assert follow(stack, alice.access_token, document["job"]["id"])[-1]["status"] == "COMPLETED"
    rows = chunk_rows(stack, document["id"])
    assert {row[1] for row in rows} == {1, 2}
    assert rows[0][1] == 1 and rows[-1][1] == 2


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("noise.pdf", bytes(range(256)) * 64, "UNSUPPORTED_MEDIA"),
        ("empty.txt", b"", "UNSUPPORTED_MEDIA"),
        ("locked.pdf", pdf_file(["Salaries for next year."], password="secret"), "UNSUPPORTED_MEDIA"),
        ("huge.txt", b"All work and no play. " * 60_000, "PAYLOAD_TOO_LARGE"),  # the test stack's limit is 1 MB
    ],
)
def test_a_file_we_cannot_read_is_refused_and_leaves_nothing(
    client: GraphQLClient, stack, owner: Account, name: str, content: bytes, code: str
) -> None:
    before = leftovers(stack, owner)
    body = upload_document(client, owner, name, content)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == code and name in error["message"]
    assert leftovers(stack, owner) == before


def test_another_users_document_does_not_exist_for_them(
    client: GraphQLClient, stack, alice: Account, bob: Account
) -> None:
    document = upload_document(client, alice, "notes.md", b"# Plans\n\nWe sail for the islands at dawn.\n")
    document = document["data"]["uploadDocument"]
    assert document["contentType"] == "text/markdown"
    assert client.error_code(DOCUMENT, {"id": document["id"]}, bob.access_token) == "NOT_FOUND"
    assert client.error_code(DELETE, {"id": document["id"]}, bob.access_token) == "NOT_FOUND"
    assert document["id"] not in [d["id"] for d in client.data(DOCUMENTS, None, bob.access_token)["documents"]]
    assert document["id"] in [d["id"] for d in client.data(DOCUMENTS, None, alice.access_token)["documents"]]
    # Someone else's notebook is no place to put a document either.
    notebook = client.data('mutation { createNotebook(title: "Private") { id } }', None, alice.access_token)
    body = upload_document(client, bob, "x.txt", b"hello there", notebook["createNotebook"]["id"])
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_deleting_a_document_removes_its_passages_and_file(client: GraphQLClient, stack, owner: Account) -> None:
    before = leftovers(stack, owner)
    document = upload_document(client, owner, "plain.txt", "Плановое совещание в пятницу.\n".encode())
    document = document["data"]["uploadDocument"]
    follow(stack, owner.access_token, document["job"]["id"])
    assert leftovers(stack, owner)[0] == before[0] + 1
    assert client.data(DELETE, {"id": document["id"]}, owner.access_token)["deleteDocument"] is True
    assert client.error_code(DOCUMENT, {"id": document["id"]}, owner.access_token) == "NOT_FOUND"
    after = leftovers(stack, owner)
    assert after[:2] == before[:2] and after[3] == before[3]
