"""search over everything, in each mode: documents, pages and transcripts; only ever the caller's; edits
are found at once by their words and soon by their meaning."""

import pytest

from tests.audio import SUPPORT_CALL, dialogue
from tests.support import Account, GraphQLClient, embedded, follow, register, transcribed
from tests.test_documents import REPORT, upload_document, word_file

SEARCH = """query($q: String!, $kinds: [SearchKind!], $mode: SearchMode, $limit: Int) {
  search(query: $q, kinds: $kinds, mode: $mode, limit: $limit) { kind id parentId title snippet score start end page heading }
}"""
CREATE_PAGE = "mutation($nb: ID!, $title: String!, $content: String) { createPage(notebookId: $nb, title: $title, content: $content) { id } }"
UPDATE_PAGE = "mutation($id: ID!, $content: String) { updatePage(id: $id, content: $content) { id } }"
UPDATE_SEGMENT = "mutation($id: ID!, $text: String) { updateSegment(id: $id, text: $text) { id } }"
RECORDING = "query($id: ID!) { recording(id: $id) { transcript { segments { id text } } } }"
MODES = ["KEYWORD", "SEMANTIC", "HYBRID"]
APPLE_PIE = "Apple pie: peel six apples, slice them thin, add cinnamon and sugar, bake for forty minutes."


def search(client: GraphQLClient, account: Account, query: str, mode: str = "HYBRID", **variables) -> list[dict]:
    return client.data(SEARCH, {"q": query, "mode": mode, **variables}, account.access_token)["search"]


def new_page(client: GraphQLClient, account: Account, title: str, content: str) -> str:
    notebook = client.data('mutation { createNotebook(title: "Kitchen") { id } }', None, account.access_token)
    variables = {"nb": notebook["createNotebook"]["id"], "title": title, "content": content}
    return client.data(CREATE_PAGE, variables, account.access_token)["createPage"]["id"]


@pytest.fixture(scope="module")
def library(client: GraphQLClient, stack, tmp_path_factory) -> dict:
    """Carol's material: a Word document, a page and a transcribed call. Dave has the same words elsewhere."""
    carol, dave = register(client), register(client)
    document = upload_document(client, carol, "harbour.docx", word_file(REPORT))["data"]["uploadDocument"]
    assert follow(stack, carol.access_token, document["job"]["id"])[-1]["status"] == "COMPLETED"
    page = new_page(client, carol, "Baking", APPLE_PIE)
    call, _ = dialogue(SUPPORT_CALL, tmp_path_factory.mktemp("search") / "call.wav")
    recording = transcribed(client, stack, carol.access_token, call, {"language": "en", "title": "Support call"})
    # Dave's copy of the same words: it must never show up for Carol, nor hers for him.
    dave_document = upload_document(client, dave, "harbour.docx", word_file(REPORT))["data"]["uploadDocument"]
    dave_page = new_page(client, dave, "Baking", APPLE_PIE)
    embedded(stack, carol)
    embedded(stack, dave)
    return {
        "carol": carol,
        "dave": dave,
        "document": document["id"],
        "document_title": document["title"],
        "page": page,
        "recording": recording,
        "dave_ids": {dave_document["id"], dave_page},
    }


@pytest.mark.parametrize("mode", MODES)
def test_each_kind_is_found_in_each_mode(client: GraphQLClient, library: dict, mode: str) -> None:
    carol = library["carol"]
    [passage, *_] = search(client, carol, "spring dredging of the northern channel", mode, kinds=["DOCUMENT"])
    assert (passage["kind"], passage["parentId"], passage["title"]) == (
        "DOCUMENT",
        library["document"],
        library["document_title"],
    )
    assert passage["heading"] == "Harbour committee" and passage["page"] is None and passage["start"] is None

    [page, *_] = search(client, carol, "how long to bake an apple pie", mode, kinds=["PAGE"])
    assert (page["kind"], page["id"], page["title"]) == ("PAGE", library["page"], "Baking")

    [segment, *_] = search(client, carol, "internet outage in my area", mode, kinds=["TRANSCRIPT"])
    assert segment["kind"] == "TRANSCRIPT" and segment["parentId"] == library["recording"]
    assert segment["title"] == "Support call" and 0 <= segment["start"] < segment["end"]
    assert "outage" in segment["snippet"].lower() or "internet" in segment["snippet"].lower()

    everything = search(client, carol, "apple pie", mode, limit=50)
    assert everything[0]["kind"] == "PAGE"
    assert [hit["score"] for hit in everything] == sorted((hit["score"] for hit in everything), reverse=True)


def test_keyword_snippets_mark_the_matched_words_and_stemming_applies(client: GraphQLClient, library: dict) -> None:
    [hit] = search(client, library["carol"], "dredged", "KEYWORD")  # stems to "dredg", as "dredging" does
    assert "**dredging**" in hit["snippet"]
    assert search(client, library["carol"], "zeppelin", "KEYWORD") == []


def test_a_snippet_marks_only_the_matches_not_the_sources_own_bold(client: GraphQLClient) -> None:
    erin = register(client)
    notebook = client.data('mutation { createNotebook(title: "Garden") { id } }', token=erin.access_token)
    content = "Water the **tomatoes** every morning; the **basil** wants shade after noon."
    variables = {"nb": notebook["createNotebook"]["id"], "title": "Garden chores", "content": content}
    client.data(CREATE_PAGE, variables, erin.access_token)
    [hit] = search(client, erin, "basil", "KEYWORD")
    assert "**basil**" in hit["snippet"] and "tomatoes" in hit["snippet"] and "**tomatoes**" not in hit["snippet"]


@pytest.mark.parametrize("mode", MODES)
def test_another_users_material_never_appears(client: GraphQLClient, library: dict, mode: str) -> None:
    for query in ("spring dredging of the northern channel", "apple pie with cinnamon", "internet outage"):
        carol_hits = search(client, library["carol"], query, mode, limit=50)
        dave_hits = search(client, library["dave"], query, mode, limit=50)
        assert not {hit["id"] for hit in carol_hits} & {hit["id"] for hit in dave_hits}
        assert not {hit["parentId"] for hit in carol_hits} & library["dave_ids"]
        assert library["document"] not in {hit["parentId"] for hit in dave_hits}
        assert all(hit["kind"] != "TRANSCRIPT" for hit in dave_hits)  # Dave has no recording


def test_an_edited_page_is_found_by_its_new_words_at_once_and_by_meaning_soon(
    client: GraphQLClient, stack, library: dict
) -> None:
    carol = library["carol"]
    page = new_page(client, carol, "Garden", "Plant the tulip bulbs in October.")
    assert [h["id"] for h in search(client, carol, "tulip bulbs", "KEYWORD")] == [page]
    client.data(UPDATE_PAGE, {"id": page, "content": "Prune the roses in February."}, carol.access_token)
    assert search(client, carol, "tulip", "KEYWORD") == []
    assert [h["id"] for h in search(client, carol, "prune roses", "KEYWORD")] == [page]
    embedded(stack, carol)
    assert search(client, carol, "when should I cut back rose bushes", "SEMANTIC", kinds=["PAGE"])[0]["id"] == page


def test_an_edited_segment_is_found_by_its_new_words(client: GraphQLClient, stack, library: dict) -> None:
    carol = library["carol"]
    segments = client.data(RECORDING, {"id": library["recording"]}, carol.access_token)["recording"]["transcript"][
        "segments"
    ]
    client.data(
        UPDATE_SEGMENT, {"id": segments[0]["id"], "text": "Hello, is this the broadband helpdesk?"}, carol.access_token
    )
    [hit] = search(client, carol, "broadband helpdesk", "KEYWORD")
    assert (hit["id"], hit["kind"]) == (segments[0]["id"], "TRANSCRIPT")


def test_a_rare_word_counts_for_more_than_a_common_one(client: GraphQLClient) -> None:
    erin = register(client)
    minutes = [new_page(client, erin, f"Minutes {n}", f"The meeting on day {n} was short.") for n in range(4)]
    busy = new_page(client, erin, "Meetings", "Meeting after meeting: the meeting about meetings ran late.")
    quorum = new_page(client, erin, "Rules", "Without a quorum no vote is valid.")
    hits = [h["id"] for h in search(client, erin, "meeting quorum", "KEYWORD")]
    # "meeting" is in five of her six pages, "quorum" in one: that page answers the question best.
    assert hits[0] == quorum and set(hits) == {quorum, busy, *minutes}


def test_phrases_hyphenated_words_and_exclusions(client: GraphQLClient) -> None:
    frank = register(client)
    follow_up = new_page(client, frank, "Follow-up", "Send the e-mail about the follow-up meeting to the board.")
    board = new_page(client, frank, "Board", "The meeting of the board will follow up on the budget.")
    assert [h["id"] for h in search(client, frank, "e-mail", "KEYWORD")] == [follow_up]
    assert [h["id"] for h in search(client, frank, '"follow-up meeting"', "KEYWORD")] == [follow_up]
    assert [h["id"] for h in search(client, frank, '"board will follow"', "KEYWORD")] == [board]
    assert [h["id"] for h in search(client, frank, "meeting board -budget", "KEYWORD")] == [follow_up]
    assert search(client, frank, '"board meeting"', "KEYWORD") == []  # both words, in neither page's order


def test_accents_are_folded_and_russian_is_stemmed(client: GraphQLClient, library: dict) -> None:
    carol = library["carol"]
    cafe = new_page(client, carol, "Menu", "Café crème and crêpes at the brasserie.")
    assert [h["id"] for h in search(client, carol, "cafe creme", "KEYWORD")] == [cafe]
    budget = new_page(client, carol, "Совещание", "На совещании обсуждали бюджеты отделов.")
    assert [h["id"] for h in search(client, carol, "бюджет отдела", "KEYWORD")] == [budget]


def test_a_deleted_document_is_no_longer_found(client: GraphQLClient, stack, library: dict) -> None:
    dave = library["dave"]
    document = upload_document(client, dave, "ferry.txt", b"The ferry timetable changes in June.")["data"][
        "uploadDocument"
    ]
    assert search(client, dave, "ferry timetable", "KEYWORD")[0]["parentId"] == document["id"]
    client.data("mutation($id: ID!) { deleteDocument(id: $id) }", {"id": document["id"]}, dave.access_token)
    assert search(client, dave, "ferry timetable", "KEYWORD") == []


@pytest.mark.parametrize(("query", "limit"), [("   ", 10), ("apple", 0), ("apple", 51), ("x" * 1001, 10)])
def test_a_bad_query_is_a_clear_error(client: GraphQLClient, library: dict, query: str, limit: int) -> None:
    assert client.error_code(SEARCH, {"q": query, "limit": limit}, library["carol"].access_token) == "BAD_USER_INPUT"
