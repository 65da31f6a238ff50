"""Queries and mutations posted as JSON take a short path past Strawberry's view (graphql_schema/json_operations.py);
a query sent by GET, or with `extensions`, still goes through the view. Both ways must answer alike."""

import json
import re
import uuid

from tests.support import Account, GraphQLClient

NOTEBOOK = "query($id: ID!) { notebook(id: $id) { id title } }"


def _both_ways(client: GraphQLClient, query: str, variables: dict, token: str | None) -> tuple[dict, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    posted = client.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    got = client.http.get("/graphql", params={"query": query, "variables": json.dumps(variables)}, headers=headers)
    assert posted.status_code == got.status_code == 200, (posted.text, got.text)
    assert posted.headers["content-type"] == got.headers["content-type"] == "application/json"
    return posted.json(), got.json()


def test_posted_and_viewed_queries_answer_alike(client: GraphQLClient, alice: Account) -> None:
    create = 'mutation { createNotebook(title: "Field notes") { id } }'
    notebook = client.data(create, token=alice.access_token)["createNotebook"]
    cases = [
        ("{ me { id email displayName } }", {}, alice.access_token),  # data
        (NOTEBOOK, {"id": notebook["id"]}, alice.access_token),  # data, from a variable
        (NOTEBOOK, {"id": str(uuid.uuid4())}, alice.access_token),  # someone else's or no one's
        (NOTEBOOK, {"id": "not an id"}, alice.access_token),  # refused by the resolver
        (NOTEBOOK, {}, alice.access_token),  # a variable missing
        ("query($n: Int!) { auditLog(limit: $n) { id } }", {"n": "ten"}, alice.access_token),  # of the wrong type
        ("{ me { id } }", {}, None),  # not signed in
        ("{ me { id } notebooks { id title } }", {}, alice.access_token),  # two root fields
    ]
    for query, variables, token in cases:
        posted, viewed = _both_ways(client, query, variables, token)
        assert posted == viewed, query
    assert _both_ways(client, NOTEBOOK, {"id": notebook["id"]}, alice.access_token)[0]["data"]["notebook"] == {
        "id": notebook["id"],
        "title": "Field notes",
    }


def test_a_mutation_answers_alike_either_way(client: GraphQLClient, alice: Account) -> None:
    headers = {"Authorization": f"Bearer {alice.access_token}"}
    query = "mutation($t: String!) { createNotebook(title: $t) { title } }"
    posted = client.http.post("/graphql", json={"query": query, "variables": {"t": "Plain"}}, headers=headers)
    viewed = client.http.post(
        "/graphql", json={"query": query, "variables": {"t": "Plain"}, "extensions": {}}, headers=headers
    )
    assert posted.json() == viewed.json() == {"data": {"createNotebook": {"title": "Plain"}}}
    # Refusals are the view's in both cases: a mutation by GET, a NUL in a variable.
    refused = client.http.get("/graphql", params={"query": query, "variables": json.dumps({"t": "x"})}, headers=headers)
    assert refused.status_code in (400, 405) and refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    nul = client.execute(query, {"t": "a\x00b"}, token=alice.access_token)
    assert nul["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and '"$t"' in nul["errors"][0]["message"]


def test_failed_operations_are_counted_under_their_root_field(client: GraphQLClient, alice: Account) -> None:
    def count(operation: str) -> float:
        text = client.http.get("/metrics").text
        found = re.search(rf'^spek_graphql_requests_total\{{operation="{operation}",type="query"\}} (\S+)$', text, re.M)
        return float(found.group(1)) if found else 0.0

    before = count("notebook"), count("invalid")
    for _ in range(2):
        _both_ways(client, NOTEBOOK, {"id": str(uuid.uuid4())}, alice.access_token)  # NOT_FOUND, posted and viewed
    assert count("notebook") == before[0] + 4
    assert count("invalid") == before[1]
