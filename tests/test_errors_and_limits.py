import json

import httpx
import structlog
from graphql import GraphQLError

from graphql_schema.errors import with_code
from tests.support import Account, GraphQLClient

INTROSPECTION = """
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"""

CLIENT_QUERY = """
query Workspace {
  me { id email displayName }
  notebooks { id title description updatedAt sections { id title position pages { id title tags } } pages { id title content tags } }
}
"""


def test_syntax_and_validation_errors_are_bad_user_input(client: GraphQLClient, alice: Account) -> None:
    for query in ("{ me { id ", "{ nope }", "{ me { password } }", "mutation { createNotebook { id } }"):
        body = client.execute(query, token=alice.access_token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"] * len(body["errors"]), body
    wrong_variable = client.execute(
        "query($id: ID!) { notebook(id: $id) { id } }", {"id": {"x": 1}}, alice.access_token
    )
    assert wrong_variable["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_no_internals_in_any_error(client: GraphQLClient, alice: Account) -> None:
    bodies = [
        client.execute('{ notebook(id: "00000000-0000-0000-0000-000000000000") { id } }', token=alice.access_token),
        client.execute("{ me { id } }", token="x.y.z"),
        client.execute('mutation { register(email: "a", password: "b") { accessToken } }'),
    ]
    text = json.dumps(bodies).lower()
    for leak in ("traceback", "sqlalchemy", "asyncpg", "select ", "insert ", 'file "'):
        assert leak not in text


def test_normal_client_queries_pass_the_limits(client: GraphQLClient, alice: Account) -> None:
    assert client.data(CLIENT_QUERY, token=alice.access_token)["me"]["id"] == alice.id
    types = client.data(INTROSPECTION)["__schema"]["types"]
    assert {"Notebook", "Recording", "JobEvent"} <= {t["name"] for t in types}


def test_alias_flood_is_refused(client: GraphQLClient, alice: Account) -> None:
    flood = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(500)) + " }"
    body = client.execute(flood, token=alice.access_token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "aliases" in body["errors"][0]["message"].lower()


def test_deep_nesting_is_refused(client: GraphQLClient, alice: Account) -> None:
    deep = "{ notebooks " + "{ sections { pages " * 25 + "{ id }" + " } }" * 25 + " }"
    body = client.execute(deep, token=alice.access_token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "depth" in body["errors"][0]["message"].lower()


def test_token_flood_is_refused(client: GraphQLClient, alice: Account) -> None:
    flood = "{ me { " + "id " * 6000 + "} }"
    body = client.execute(flood, token=alice.access_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "token" in body["errors"][0]["message"].lower()


UPLOAD = "mutation($file: Upload!) { uploadRecording(file: $file) { id } }"


def _multipart(client: GraphQLClient, token: str, headers: dict[str, str]) -> httpx.Response:
    return client.http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("memo.wav", b"RIFF....WAVE", "audio/wav")},
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def test_multipart_needs_the_preflight_header(client: GraphQLClient, alice: Account) -> None:
    refused = _multipart(client, alice.access_token, {})
    assert refused.status_code == 400
    assert "Apollo-Require-Preflight" in refused.text
    for header in ("Apollo-Require-Preflight", "X-GraphQL-Preflight"):
        accepted = _multipart(client, alice.access_token, {header: "1"})
        assert accepted.status_code == 200
        # The upload reached the resolver, which read the bytes and found no audio in them.
        assert accepted.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA"


def test_graphiql_is_served_to_browsers(client: GraphQLClient) -> None:
    page = client.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    # At /graphql itself, not behind a redirect to /graphql/.
    assert not page.history


def test_responses_carry_a_request_id(client: GraphQLClient) -> None:
    first, second = client.http.get("/healthz"), client.http.get("/healthz")
    assert first.headers["x-request-id"] and first.headers["x-request-id"] != second.headers["x-request-id"]


def test_unexpected_errors_are_internal_with_a_request_id_and_no_details(capsys) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-4242")
    try:
        failure = RuntimeError('relation "users" does not exist [SQL: SELECT users.id FROM users]')
        coded = with_code(GraphQLError("boom", path=["me"], original_error=failure))
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    assert coded.extensions == {"code": "INTERNAL"}
    assert "req-4242" in coded.message
    assert "SELECT" not in coded.message and "users" not in coded.message
    # The details go to the log, with the same request id, for whoever runs the server.
    logged = capsys.readouterr()
    assert "req-4242" in logged.out + logged.err and "SELECT users.id" in logged.out + logged.err
