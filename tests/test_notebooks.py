import uuid

import pytest

from tests.support import Account, GraphQLClient, sql

PAGE_FIELDS = "id notebookId sectionId title content tags createdAt updatedAt"
NOTEBOOK_FIELDS = f"id title description createdAt updatedAt sections {{ id notebookId title position pages {{ id }} }} pages {{ {PAGE_FIELDS} }}"
CREATE_NOTEBOOK = f"mutation($title: String!, $description: String) {{ createNotebook(title: $title, description: $description) {{ {NOTEBOOK_FIELDS} }} }}"
CREATE_SECTION = "mutation($nb: ID!, $title: String!) { createSection(notebookId: $nb, title: $title) { id notebookId title position pages { id } } }"
CREATE_PAGE = f"""mutation($nb: ID!, $section: ID, $title: String!, $content: String, $tags: [String!]) {{
  createPage(notebookId: $nb, sectionId: $section, title: $title, content: $content, tags: $tags) {{ {PAGE_FIELDS} }}
}}"""
UPDATE_PAGE = f"mutation($id: ID!, $title: String, $content: String, $tags: [String!]) {{ updatePage(id: $id, title: $title, content: $content, tags: $tags) {{ {PAGE_FIELDS} }} }}"
UPDATE_NOTEBOOK = "mutation($id: ID!, $title: String, $description: String) { updateNotebook(id: $id, title: $title, description: $description) { id title description } }"
NOTEBOOK = f"query($id: ID!) {{ notebook(id: $id) {{ {NOTEBOOK_FIELDS} }} }}"
NOTEBOOKS = "{ notebooks { id title } }"
PAGE = f"query($id: ID!) {{ page(id: $id) {{ {PAGE_FIELDS} }} }}"
DELETE_PAGE = "mutation($id: ID!) { deletePage(id: $id) }"
DELETE_NOTEBOOK = "mutation($id: ID!) { deleteNotebook(id: $id) }"


@pytest.fixture
def notebook(client: GraphQLClient, alice: Account) -> dict:
    """Alice's notebook with one section and two pages, one of them in the section."""
    nb = client.data(CREATE_NOTEBOOK, {"title": "Lectures", "description": "Autumn term"}, alice.access_token)[
        "createNotebook"
    ]
    section = client.data(CREATE_SECTION, {"nb": nb["id"], "title": "Week 1"}, alice.access_token)["createSection"]
    in_section = client.data(
        CREATE_PAGE,
        {
            "nb": nb["id"],
            "section": section["id"],
            "title": "Intro",
            "content": "# Hello\n\n*world*",
            "tags": ["physics", "week 1"],
        },
        alice.access_token,
    )["createPage"]
    loose = client.data(CREATE_PAGE, {"nb": nb["id"], "title": "Loose notes"}, alice.access_token)["createPage"]
    return {"notebook": nb, "section": section, "page": in_section, "loose": loose}


def test_notebook_with_sections_and_pages_reads_back(client: GraphQLClient, alice: Account, notebook: dict) -> None:
    nb = client.data(NOTEBOOK, {"id": notebook["notebook"]["id"]}, alice.access_token)["notebook"]
    assert nb["title"] == "Lectures" and nb["description"] == "Autumn term"
    assert [s["title"] for s in nb["sections"]] == ["Week 1"]
    assert nb["sections"][0]["position"] == 0
    assert [p["id"] for p in nb["sections"][0]["pages"]] == [notebook["page"]["id"]]
    assert [p["title"] for p in nb["pages"]] == ["Intro", "Loose notes"]
    page = nb["pages"][0]
    assert page["content"] == "# Hello\n\n*world*"
    assert page["tags"] == ["physics", "week 1"]
    assert page["sectionId"] == notebook["section"]["id"] and page["notebookId"] == nb["id"]
    assert nb["pages"][1]["sectionId"] is None and nb["pages"][1]["content"] == "" and nb["pages"][1]["tags"] == []
    assert [n["id"] for n in client.data(NOTEBOOKS, token=alice.access_token)["notebooks"]] == [nb["id"]]


def test_sections_are_numbered_in_order(client: GraphQLClient, alice: Account, notebook: dict) -> None:
    second = client.data(CREATE_SECTION, {"nb": notebook["notebook"]["id"], "title": "Week 2"}, alice.access_token)
    assert second["createSection"]["position"] == 1


def test_update_page_and_tags(client: GraphQLClient, alice: Account, notebook: dict) -> None:
    page_id = notebook["page"]["id"]
    updated = client.data(
        UPDATE_PAGE,
        {"id": page_id, "content": "new text", "tags": ["chemistry", "chemistry", " lab "]},
        alice.access_token,
    )["updatePage"]
    assert updated["title"] == "Intro"
    assert updated["content"] == "new text"
    assert updated["tags"] == ["chemistry", "lab"]
    assert updated["updatedAt"] >= notebook["page"]["updatedAt"]
    assert client.data(PAGE, {"id": page_id}, alice.access_token)["page"]["tags"] == ["chemistry", "lab"]
    cleared = client.data(UPDATE_PAGE, {"id": page_id, "tags": []}, alice.access_token)["updatePage"]
    assert cleared["tags"] == [] and cleared["content"] == "new text"


def test_update_notebook_keeps_what_is_not_given(client: GraphQLClient, alice: Account, notebook: dict) -> None:
    nb_id = notebook["notebook"]["id"]
    updated = client.data(UPDATE_NOTEBOOK, {"id": nb_id, "title": "Lectures 2026"}, alice.access_token)[
        "updateNotebook"
    ]
    assert updated == {"id": nb_id, "title": "Lectures 2026", "description": "Autumn term"}


def test_delete_page_then_notebook(client: GraphQLClient, alice: Account, notebook: dict) -> None:
    nb_id, page_id = notebook["notebook"]["id"], notebook["loose"]["id"]
    assert client.data(DELETE_PAGE, {"id": page_id}, alice.access_token)["deletePage"] is True
    assert client.error_code(PAGE, {"id": page_id}, alice.access_token) == "NOT_FOUND"
    assert client.data(DELETE_NOTEBOOK, {"id": nb_id}, alice.access_token)["deleteNotebook"] is True
    assert client.error_code(NOTEBOOK, {"id": nb_id}, alice.access_token) == "NOT_FOUND"
    assert client.error_code(PAGE, {"id": notebook["page"]["id"]}, alice.access_token) == "NOT_FOUND"
    assert client.data(NOTEBOOKS, token=alice.access_token)["notebooks"] == []


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        (CREATE_NOTEBOOK, {"title": "   "}, "title must not be empty"),
        (CREATE_NOTEBOOK, {"title": "x" * 201}, "at most 200"),
        (CREATE_PAGE, {"nb": "not-a-uuid", "title": "t"}, "not a valid ID"),
        (NOTEBOOK, {"id": "12"}, "not a valid ID"),
    ],
)
def test_invalid_input_says_what_to_fix(
    client: GraphQLClient, alice: Account, query: str, variables: dict, message: str
) -> None:
    body = client.execute(query, variables, alice.access_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]


def test_invalid_page_input(client: GraphQLClient, alice: Account, notebook: dict) -> None:
    nb_id = notebook["notebook"]["id"]
    assert client.error_code(CREATE_PAGE, {"nb": nb_id, "title": ""}, alice.access_token) == "BAD_USER_INPUT"
    assert (
        client.error_code(CREATE_PAGE, {"nb": nb_id, "title": "t", "tags": [""]}, alice.access_token)
        == "BAD_USER_INPUT"
    )
    assert (
        client.error_code(CREATE_PAGE, {"nb": nb_id, "title": "t", "section": str(uuid.uuid4())}, alice.access_token)
        == "NOT_FOUND"
    )
    # Nothing half-written: the refused pages are not there.
    pages = client.data(NOTEBOOK, {"id": nb_id}, alice.access_token)["notebook"]["pages"]
    assert [p["title"] for p in pages] == ["Intro", "Loose notes"]


def test_notebooks_need_sign_in(client: GraphQLClient) -> None:
    assert client.error_code(NOTEBOOKS) == "UNAUTHENTICATED"
    assert client.error_code(CREATE_NOTEBOOK, {"title": "x"}) == "UNAUTHENTICATED"


def test_another_users_ids_behave_as_missing(
    client: GraphQLClient, alice: Account, bob: Account, notebook: dict
) -> None:
    """Every query and mutation, given Alice's ids with Bob's token, answers exactly as for an unknown id."""
    nb_id, section_id, page_id = notebook["notebook"]["id"], notebook["section"]["id"], notebook["page"]["id"]
    attempts = [
        (NOTEBOOK, {"id": nb_id}),
        (PAGE, {"id": page_id}),
        (UPDATE_NOTEBOOK, {"id": nb_id, "title": "mine now"}),
        (DELETE_NOTEBOOK, {"id": nb_id}),
        (CREATE_SECTION, {"nb": nb_id, "title": "intruder"}),
        (CREATE_PAGE, {"nb": nb_id, "title": "intruder"}),
        (UPDATE_PAGE, {"id": page_id, "content": "defaced"}),
        (DELETE_PAGE, {"id": page_id}),
    ]
    for query, variables in attempts:
        as_bob = client.execute(query, variables, bob.access_token)
        unknown = client.execute(
            query, {k: str(uuid.uuid4()) if k in ("id", "nb") else v for k, v in variables.items()}, bob.access_token
        )
        assert as_bob["errors"][0]["extensions"]["code"] == "NOT_FOUND", (query, as_bob)
        assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert as_bob["errors"][0]["message"].split()[0] == unknown["errors"][0]["message"].split()[0]
    # Bob's own notebook cannot take Alice's section either.
    bobs = client.data(CREATE_NOTEBOOK, {"title": "Bob's"}, bob.access_token)["createNotebook"]
    assert (
        client.error_code(CREATE_PAGE, {"nb": bobs["id"], "section": section_id, "title": "x"}, bob.access_token)
        == "NOT_FOUND"
    )
    assert [n["id"] for n in client.data(NOTEBOOKS, token=bob.access_token)["notebooks"]] == [bobs["id"]]
    # And Alice's notebook is untouched.
    nb = client.data(NOTEBOOK, {"id": nb_id}, alice.access_token)["notebook"]
    assert nb["title"] == "Lectures" and len(nb["sections"]) == 1 and len(nb["pages"]) == 2
    assert nb["pages"][0]["content"] == "# Hello\n\n*world*"


def test_changes_are_in_the_audit_log(client: GraphQLClient, alice: Account, notebook: dict, stack) -> None:
    client.data(UPDATE_PAGE, {"id": notebook["page"]["id"], "title": "Renamed"}, alice.access_token)
    rows = sql(
        stack.database_url,
        "SELECT action, target_type, target_id::text FROM audit_log WHERE actor_id = :actor ORDER BY at",
        actor=alice.id,
    )
    assert rows == [
        ("user.register", "user", alice.id),
        ("notebook.create", "notebook", notebook["notebook"]["id"]),
        ("section.create", "section", notebook["section"]["id"]),
        ("page.create", "page", notebook["page"]["id"]),
        ("page.create", "page", notebook["loose"]["id"]),
        ("page.update", "page", notebook["page"]["id"]),
    ]
