"""Every bad request is a clean 4xx (or a GraphQL error with a code): never a 500, never INTERNAL, and
never anything half-written. Against the real stack; the last tests fuzz it with Hypothesis."""

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from spek.web.app import RequestIdMiddleware
from tests.support import Account, GraphQLClient, Stack

UPLOAD = "mutation($file: Upload!) { uploadRecording(file: $file) { id } }"
OPERATIONS = json.dumps({"query": UPLOAD, "variables": {"file": None}})
PREFLIGHT = {"Apollo-Require-Preflight": "1"}
BOUNDARY = "spek-test-boundary"


def multipart_body(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart/form-data body written by hand: httpx would escape what these tests need raw."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode("utf-8", "surrogatepass")
        body += b"Content-Type: application/octet-stream\r\n" if filename is not None else b""
        body += b"\r\n" + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def post_multipart(client: GraphQLClient, token: str, body: bytes, boundary: str | None = BOUNDARY) -> httpx.Response:
    content_type = "multipart/form-data" + (f"; boundary={boundary}" if boundary else "")
    return client.http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type, **PREFLIGHT},
    )


def post_json(client: GraphQLClient, body: bytes | str, token: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.http.post("/graphql", content=body, headers=headers)


def assert_clean(response: httpx.Response) -> dict:
    """A response Spek may give a bad request: JSON, never a 5xx, every error coded and none INTERNAL."""
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert response.headers["x-request-id"]
    body = response.json()
    codes = [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]
    assert None not in codes and "INTERNAL" not in codes, body
    if response.status_code >= 400:
        assert codes and "data" not in body, body
    return body


def refused(response: httpx.Response, status: int = 400, code: str = "BAD_USER_INPUT") -> str:
    """The message of a request refused whole with `status` and `code`."""
    body = assert_clean(response)
    assert response.status_code == status, body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code], body
    return body["errors"][0]["message"]


def file_part(name: str = "0", filename: str = "memo.wav") -> tuple[str, str, bytes]:
    return (name, filename, b"RIFF....WAVE")


MALFORMED_MULTIPART = {
    "map is a list": [("operations", None, OPERATIONS.encode()), ("map", None, b"[1, 2]"), file_part()],
    "a path is not a string": [("operations", None, OPERATIONS.encode()), ("map", None, b'{"0": [1]}'), file_part()],
    "map is not JSON": [("operations", None, OPERATIONS.encode()), ("map", None, b"{0: variables"), file_part()],
    "a path names nothing": [
        ("operations", None, OPERATIONS.encode()),
        ("map", None, b'{"0": ["variables.nothing.here"]}'),
        file_part(),
    ],
    "a path outside variables": [
        ("operations", None, OPERATIONS.encode()),
        ("map", None, b'{"0": ["query"]}'),
        file_part(),
    ],
    "a list index out of range": [
        ("operations", None, json.dumps({"query": UPLOAD, "variables": {"files": [None]}}).encode()),
        ("map", None, b'{"0": ["variables.files.3"]}'),
        file_part(),
    ],
    "operations is a string": [
        ("operations", None, b'"string"'),
        ("map", None, b'{"0": ["variables.file"]}'),
        file_part(),
    ],
    "operations is not JSON": [
        ("operations", None, b"{query"),
        ("map", None, b'{"0": ["variables.file"]}'),
        file_part(),
    ],
    "variables is a list": [
        ("operations", None, json.dumps({"query": UPLOAD, "variables": []}).encode()),
        ("map", None, b'{"0": ["variables.file"]}'),
        file_part(),
    ],
    "a file part missing from map": [("operations", None, OPERATIONS.encode()), ("map", None, b"{}"), file_part()],
    "a map key with no file part": [
        ("operations", None, OPERATIONS.encode()),
        ("map", None, b'{"0": ["variables.file"], "1": ["variables.file"]}'),
        file_part(),
    ],
    "a map key naming a form field": [
        ("operations", None, OPERATIONS.encode()),
        ("map", None, b'{"operations": ["variables.file"]}'),
    ],
    "operations sent as a file": [("operations", "ops.json", OPERATIONS.encode()), ("map", None, b"{}")],
    "a file name with NUL": [
        ("operations", None, OPERATIONS.encode()),
        ("map", None, b'{"0": ["variables.file"]}'),
        file_part(filename="memo\x00.wav"),
    ],
}


@pytest.mark.parametrize("parts", MALFORMED_MULTIPART.values(), ids=MALFORMED_MULTIPART.keys())
def test_malformed_multipart_is_a_400_that_says_what_is_wrong(
    client: GraphQLClient, owner: Account, parts: list[tuple[str, str | None, bytes]]
) -> None:
    message = refused(post_multipart(client, owner.access_token, multipart_body(parts)))
    assert "multipart" in message.lower()


def test_unreadable_multipart_is_a_400_and_nothing_is_stored(client: GraphQLClient, alice: Account) -> None:
    good = multipart_body(
        [("operations", None, OPERATIONS.encode()), ("map", None, b'{"0": ["variables.file"]}'), file_part()]
    )
    refused(post_multipart(client, alice.access_token, good, boundary=None))  # no boundary
    # Cut short: python-multipart reads what there is (here `operations` alone), so GraphQL says what is missing.
    assert_clean(post_multipart(client, alice.access_token, good[: len(good) // 2]))
    for parts in MALFORMED_MULTIPART.values():
        post_multipart(client, alice.access_token, multipart_body(parts))
    assert client.data("{ recordings { id } }", token=alice.access_token)["recordings"] == []


def test_an_upload_variable_must_be_a_file(client: GraphQLClient, alice: Account) -> None:
    as_text = client.execute(UPLOAD, {"file": "not a file"}, alice.access_token)
    assert as_text["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    literal = client.execute('mutation { uploadRecording(file: "x") { id } }', token=alice.access_token)
    assert literal["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "body", ["42", "[]", '"x"', "null", "true", "{", "", '{"query": 42}', '{"query": "{ me { id } }", "variables": []}']
)
def test_a_json_body_that_is_no_request_is_a_400(client: GraphQLClient, body: str) -> None:
    refused(post_json(client, body))


def test_a_body_that_is_not_text_or_has_a_huge_number_is_a_400(client: GraphQLClient) -> None:
    refused(post_json(client, b'{"query": "\xff\xfe"}'))
    refused(post_json(client, '{"query": "{ me { id } }", "variables": {"n": ' + "9" * 5000 + "}}"))


def test_an_operation_name_that_is_not_a_string_or_names_nothing_is_a_400(client: GraphQLClient) -> None:
    refused(post_json(client, json.dumps({"query": "query A { __typename }", "operationName": 4})))
    assert "Z" in refused(post_json(client, json.dumps({"query": "query A { __typename }", "operationName": "Z"})))


@pytest.mark.parametrize("opening,closing", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_variables_are_a_400(client: GraphQLClient, alice: Account, opening: str, closing: str) -> None:
    variables = opening * 5000 + "1" + closing * 5000
    body = '{"query": "query($q: String!) { search(query: $q) { id } }", "variables": {"q": ' + variables + "}}"
    assert "nested" in refused(post_json(client, body, alice.access_token))
    # Nesting a client could mean is fine.
    shallow = {"query": "query($q: String!) { search(query: $q, mode: KEYWORD) { id } }", "variables": {"q": "x"}}
    assert post_json(client, json.dumps(shallow), alice.access_token).json()["data"] == {"search": []}


def test_an_oversized_body_is_a_413_even_of_comments(client: GraphQLClient, alice: Account) -> None:
    # Comments are no tokens, so the token limit never sees them: the size limit does.
    comments = json.dumps({"query": "# " + "x" * 10_000_000 + "\n{ me { id } }"})
    message = refused(post_json(client, comments, alice.access_token), 413, "PAYLOAD_TOO_LARGE")
    assert "SPEK_MAX_REQUEST_BYTES" in message

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"query": "# '
        for _ in range(40):
            yield b"x" * 65536
        yield b'\\n{ me { id } }"}'

    chunked = client.http.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    refused(chunked, 413, "PAYLOAD_TOO_LARGE")
    # Just under the limit still works, and uploads have limits of their own.
    near = json.dumps({"query": "# " + "x" * 1_000_000 + "\n{ me { id } }"})
    assert post_json(client, near, alice.access_token).json()["data"]["me"]["id"] == alice.id
    big_upload = multipart_body(
        [
            ("operations", None, OPERATIONS.encode()),
            ("map", None, b'{"0": ["variables.file"]}'),
            ("0", "a.wav", b"\0" * 2_000_000),
        ]
    )
    uploaded = assert_clean(post_multipart(client, alice.access_token, big_upload))
    assert uploaded["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA"


def test_several_operations_need_an_operation_name(client: GraphQLClient, alice: Account) -> None:
    document = 'query Mine { me { id } } mutation Make { createNotebook(title: "first") { id } }'
    body = client.execute(document, token=alice.access_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "operationName" in body["errors"][0]["message"]
    assert client.data("{ notebooks { id } }", token=alice.access_token)["notebooks"] == []  # nothing ran
    named = client.http.post(
        "/graphql",
        json={"query": document, "operationName": "Mine"},
        headers={"Authorization": f"Bearer {alice.access_token}"},
    )
    assert named.json() == {"data": {"me": {"id": alice.id}}}


def test_text_no_column_can_hold_is_bad_user_input_naming_where(client: GraphQLClient, alice: Account) -> None:
    token = alice.access_token
    notebook = client.data('mutation { createNotebook(title: "Lectures") { id } }', token=token)["createNotebook"]["id"]
    page = "mutation($nb: ID!, $title: String!, $content: String, $tags: [String!]) { createPage(notebookId: $nb, title: $title, content: $content, tags: $tags) { id } }"
    cases = [
        (page, {"nb": notebook, "title": "a\x00b"}, '"$title"'),
        (page, {"nb": notebook, "title": "t", "content": "\ud800"}, '"$content"'),
        (page, {"nb": notebook, "title": "t", "tags": ["ok", "b\x00d"]}, '"$tags[1]"'),
        ('mutation { createNotebook(title: "a\\u0000") { id } }', {}, 'Argument "title" of "createNotebook"'),
        (
            'mutation($nb: ID!) { createPage(notebookId: $nb, title: "t", tags: ["x", "\\u0000"]) { id } }',
            {"nb": notebook},
            'Argument "tags" of "createPage"',
        ),
        (
            "mutation($nb: ID!, $n: String!) { updateNotebook(id: $nb, title: $n) { id } }",
            {"nb": notebook, "n": "\x00"},
            '"$n"',
        ),
        ("mutation($d: String!) { registerDevice(deviceId: $d) { accessToken } }", {"d": "device\x00"}, '"$d"'),
        (
            'mutation($e: String!, $n: String) { register(email: $e, password: "correct horse", displayName: $n) { accessToken } }',
            {"e": f"{uuid.uuid4().hex}@example.com", "n": "Ada\udfff"},
            '"$n"',
        ),
        ('query { search(query: "\\u0000", mode: KEYWORD) { id } }', {}, 'Argument "query" of "search"'),
    ]
    for query, variables, where in cases:
        # Sent as JSON text with \u escapes, as a client would: a lone surrogate has no UTF-8 bytes.
        response = post_json(client, json.dumps({"query": query, "variables": variables}), token)
        body = assert_clean(response)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], (query, body)
        message = body["errors"][0]["message"]
        assert where in message and ("NUL" in message or "surrogate" in message), message
    # Nothing of any of them was written.
    notebooks = client.data("{ notebooks { title pages { id } } }", token=token)["notebooks"]
    assert notebooks == [{"title": "Lectures", "pages": []}]


def test_subscriptions_get_the_same_checks(stack: Stack, alice: Account) -> None:
    url = stack.base_url.replace("http", "ws") + "/graphql"
    with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {alice.access_token}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        job = "subscription($job: ID!) { jobProgress(jobId: $job) { seq } }"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": job, "variables": {"job": "\x00"}}}))
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "error" and reply["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT", reply
        # A message over SPEK_MAX_REQUEST_BYTES is not read: the socket closes as for one that is not JSON.
        ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": "# " + "x" * 2_000_000 + "\n" + job}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


def test_an_unhandled_exception_is_a_json_500_with_the_request_id() -> None:
    async def broken(request: Request) -> None:
        raise RuntimeError("a bug")

    # Where create_app puts it: inside Starlette's ServerErrorMiddleware, whose 500 is plain text.
    app = Starlette(routes=[Route("/", broken)], middleware=[Middleware(RequestIdMiddleware)])
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL"} and request_id in error["message"]
    assert "a bug" not in response.text


# --- fuzzing ------------------------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=500,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays deterministic
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Stands for an ID; replaced by a real notebook's in half the examples, so that resolvers run too.
NOTEBOOK = "00000000-0000-0000-0000-000000000000"

# Real operations with variables of every kind: text, IDs, enums, lists, input objects and files.
FUZZ_QUERIES = [
    "query($q: String!, $limit: Int) { search(query: $q, mode: KEYWORD, limit: $limit) { id } }",
    "mutation($title: String!, $description: String) { createNotebook(title: $title, description: $description) { id } }",
    "mutation($nb: ID!, $title: String!, $content: String, $tags: [String!]) { createPage(notebookId: $nb, title: $title, content: $content, tags: $tags) { id } }",
    "query($id: ID!) { notebook(id: $id) { id title } }",
    "mutation($id: ID!, $title: String) { updateNotebook(id: $id, title: $title) { id } }",
    "mutation($file: Upload!, $input: RecordingInput) { uploadRecording(file: $file, input: $input) { id } }",
    "mutation($files: [Upload!]!) { submitBatch(files: $files) { id } }",
    "query A { me { id } } query B { notebooks { id } }",
]
VARIABLE_NAMES = ["q", "limit", "title", "description", "nb", "content", "tags", "id", "file", "files", "input"]

text = st.one_of(
    st.text(max_size=20),
    st.builds(
        lambda before, bad, after: before + bad + after,
        st.text(max_size=5),
        st.sampled_from(["\x00", "\ud800", "\udfff"]),
        st.text(max_size=5),
    ),
    st.sampled_from(["", NOTEBOOK, "KEYWORD", "variables.file"]),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True), text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(text, st.sampled_from(VARIABLE_NAMES)), inner, max_size=4),
    ),
    max_leaves=12,
)
ids = st.one_of(st.just(NOTEBOOK), text)
recording_inputs = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {}, optional={"title": text, "notebookId": ids, "language": text, "numSpeakers": st.integers(-3, 50)}
    ),
    json_values,
)
# Variables of about the right names and types, so that requests get past validation into the resolvers.
plausible_variables = st.fixed_dictionaries(
    {"q": text, "title": text, "nb": ids, "id": ids},
    optional={
        "limit": st.one_of(st.integers(-5, 100), json_scalars),
        "description": st.one_of(st.none(), text),
        "content": st.one_of(st.none(), text),
        "tags": st.one_of(st.none(), st.lists(text, max_size=4)),
        "input": recording_inputs,
    },
)
# A list or object nested far deeper than any input.
deep_values = st.builds(
    lambda depth, as_list: ("[" * depth + "]" * depth) if as_list else ('{"a":' * depth + "1" + "}" * depth),
    st.integers(50, 3000),
    st.booleans(),
)


def _request(query: object, variables: object, operation_name: object, keys: list[str]) -> str:
    request = {"query": query, "variables": variables, "operationName": operation_name}
    return json.dumps({key: request[key] for key in keys})


plausible_requests = st.builds(
    lambda query, variables: json.dumps({"query": query, "variables": variables}),
    st.sampled_from(FUZZ_QUERIES),
    plausible_variables,
)
odd_requests = st.builds(
    _request,
    st.one_of(st.sampled_from(FUZZ_QUERIES), json_values),
    st.one_of(st.dictionaries(st.sampled_from(VARIABLE_NAMES), json_values, max_size=4), json_values),
    st.one_of(st.none(), st.sampled_from(["A", "B", "Z"]), json_values),
    st.lists(st.sampled_from(["query", "variables", "operationName"]), unique=True),
)
json_bodies = st.one_of(
    plausible_requests,
    plausible_requests,
    odd_requests,
    json_values.map(json.dumps),
    st.builds(
        lambda query, deep: f'{{"query": {json.dumps(query)}, "variables": {{"q": {deep}}}}}',
        st.sampled_from(FUZZ_QUERIES),
        deep_values,
    ),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
)


@pytest.fixture(scope="module")
def notebook(client: GraphQLClient, owner: Account) -> str:
    created = client.data('mutation { createNotebook(title: "Fuzz") { id } }', token=owner.access_token)
    return created["createNotebook"]["id"]


@FUZZ
@given(body=json_bodies, with_real_notebook=st.booleans())
def test_fuzzed_json_requests_are_never_a_server_error(
    client: GraphQLClient, owner: Account, notebook: str, body: str, with_real_notebook: bool
) -> None:
    if with_real_notebook:
        body = body.replace(NOTEBOOK, notebook)
    assert_clean(post_json(client, body.encode("utf-8", "surrogatepass"), owner.access_token))


def _encoded(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


paths = st.one_of(
    st.sampled_from(
        ["variables.file", "variables.files.0", "variables.files.1", "variables.input.title", "variables", "query"]
    ),
    text,
)
any_part = st.tuples(
    st.sampled_from(["operations", "map", "0", "1", "2", ""]),
    st.one_of(st.none(), st.none(), text),
    st.one_of(json_values.map(json.dumps), text, st.binary(max_size=64)).map(_encoded),
)
FAULTS = ["none", "operations", "variables", "map", "paths", "file name", "drop a part", "add a part", "swap parts"]


@st.composite
def upload_parts(draw: st.DrawFn) -> list[tuple[str, str | None, bytes]]:
    """A well-formed upload (uploadRecording, or a submitBatch of two files) with at most one fault."""
    batch = draw(st.booleans())
    names = ["0", "1"] if batch else ["0"]
    query = FUZZ_QUERIES[6] if batch else FUZZ_QUERIES[5]
    variables: object = {"files": [None, None]} if batch else {"file": None, "input": draw(recording_inputs)}
    files_map: dict[str, object] = {name: [f"variables.files.{name}" if batch else "variables.file"] for name in names}
    fault = draw(st.sampled_from(FAULTS))
    operations: object = {"query": query, "variables": variables}
    if fault == "operations":
        operations = draw(json_values)
    elif fault == "variables":
        operations = {"query": query, "variables": draw(json_values)}
    elif fault == "map":
        files_map = draw(json_values)
    elif fault == "paths":
        files_map[draw(st.sampled_from([*names, "2", ""]))] = draw(st.one_of(st.lists(paths, max_size=3), json_values))
    parts: list[tuple[str, str | None, str | bytes]] = [
        ("operations", None, json.dumps(operations)),
        ("map", None, json.dumps(files_map)),
        *[(name, "memo.wav", draw(st.binary(max_size=64))) for name in names],
    ]
    if fault == "file name":
        index = draw(st.integers(2, len(parts) - 1))
        parts[index] = (parts[index][0], draw(text), parts[index][2])
    elif fault == "drop a part":
        del parts[draw(st.integers(0, len(parts) - 1))]
    elif fault == "add a part":
        parts.insert(draw(st.integers(0, len(parts))), draw(any_part))
    elif fault == "swap parts":
        first, second = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
        parts[first], parts[second] = parts[second], parts[first]
    return [(name, filename, _encoded(content)) for name, filename, content in parts]


@FUZZ
@given(
    parts=st.one_of(upload_parts(), upload_parts(), upload_parts(), st.lists(any_part, max_size=5)),
    cut=st.one_of(st.none(), st.none(), st.none(), st.integers(0, 400)),
    boundary=st.sampled_from([BOUNDARY, BOUNDARY, BOUNDARY, None, "other"]),
)
def test_fuzzed_multipart_requests_are_never_a_server_error(
    client: GraphQLClient,
    owner: Account,
    parts: list[tuple[str, str | None, bytes]],
    cut: int | None,
    boundary: str | None,
) -> None:
    body = multipart_body(parts)
    assert_clean(post_multipart(client, owner.access_token, body if cut is None else body[:cut], boundary))
