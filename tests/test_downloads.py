"""audioUrl (signed, expiring, HTTP Range) and transcript exports (signed links and authenticated GET)."""

import io
import json
import time
import uuid

import docx
import httpx
import jwt
import pytest
import srt

from tests.audio import SUPPORT_CALL, dialogue
from tests.support import Account, GraphQLClient, register, transcribed

RECORDING = "query($id: ID!) { recording(id: $id) { audioUrl transcript { id segments { id start end text } } } }"
EXPORT = """mutation($id: ID!, $format: ExportFormat!, $start: Float, $end: Float, $segmentIds: [ID!], $rebase: Boolean, $speakers: Boolean) {
  exportTranscript(id: $id, format: $format, start: $start, end: $end, segmentIds: $segmentIds, rebase: $rebase, speakers: $speakers) {
    url filename contentType expiresAt
  }
}"""


@pytest.fixture(scope="module")
def call(client: GraphQLClient, stack, owner: Account, tmp_path_factory: pytest.TempPathFactory) -> dict:
    path, _ = dialogue(SUPPORT_CALL, tmp_path_factory.mktemp("downloads") / "call.wav")
    recording_id = transcribed(client, stack, owner.access_token, path, {"language": "en", "title": "Support call"})
    found = client.data(RECORDING, {"id": recording_id}, owner.access_token)["recording"]
    return {"id": recording_id, "bytes": path.read_bytes(), **found}


def test_audio_url_serves_the_file_and_byte_ranges_for_seeking(call: dict) -> None:
    original = call["bytes"]
    whole = httpx.get(call["audioUrl"])  # no Authorization header: the link is the permission
    assert whole.status_code == 200 and whole.content == original
    assert whole.headers["content-type"] == "audio/wav" and whole.headers["accept-ranges"] == "bytes"

    part = httpx.get(call["audioUrl"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == original[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(original)}"
    assert part.headers["content-length"] == "1000"
    assert httpx.get(call["audioUrl"], headers={"Range": "bytes=-500"}).content == original[-500:]
    assert httpx.get(call["audioUrl"], headers={"Range": f"bytes={len(original) - 10}-"}).content == original[-10:]

    beyond = httpx.get(call["audioUrl"], headers={"Range": f"bytes={len(original)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(original)}"
    head = httpx.head(call["audioUrl"])
    assert head.status_code == 200 and head.headers["content-length"] == str(len(original))


def _secret(stack) -> str:
    return (stack.data_dir / "jwt-secret").read_text().strip()


def test_audio_links_cannot_be_forged_reused_or_kept(stack, client: GraphQLClient, call: dict, owner: Account) -> None:
    url = httpx.URL(call["audioUrl"])
    token = url.params["token"]
    assert httpx.get(url.copy_remove_param("token")).status_code == 403
    assert httpx.get(url.copy_set_param("token", token[:-3] + "abc")).status_code == 403
    # A valid link opens only its own recording.
    other = url.copy_with(path=f"/files/audio/{uuid.uuid4()}")
    assert httpx.get(other).status_code == 403
    # An access token is not a link, and an expired link is refused with a message that says so.
    assert httpx.get(url.copy_set_param("token", owner.access_token)).status_code == 403
    claims = jwt.decode(token, _secret(stack), algorithms=["HS256"], issuer="spek")
    expired = jwt.encode({**claims, "exp": int(time.time()) - 5}, _secret(stack), algorithm="HS256")
    answer = httpx.get(url.copy_set_param("token", expired))
    assert answer.status_code == 403 and "expired" in answer.json()["error"]["message"]


def test_links_are_on_the_public_url_whatever_host_the_request_names(
    stack, client: GraphQLClient, call: dict, owner: Account
) -> None:
    # The stack sets no SPEK_PUBLIC_URL: links start with http://<SPEK_HOST>:<SPEK_PORT>, where it listens.
    forged = {
        "Authorization": f"Bearer {owner.access_token}",
        "Host": "evil.example.com",
        "X-Forwarded-Host": "evil.example.com",
        "X-Forwarded-Proto": "https",
    }

    def link(query: str, variables: dict) -> str:
        answer = client.http.post("/graphql", json={"query": query, "variables": variables}, headers=forged)
        assert answer.status_code == 200 and not answer.json().get("errors"), answer.text
        (field,) = answer.json()["data"].values()
        return field["audioUrl"] if "audioUrl" in field else field["url"]

    audio = link("query($id: ID!) { recording(id: $id) { audioUrl } }", {"id": call["id"]})
    export = link(
        "mutation($id: ID!) { exportTranscript(id: $id, format: TXT) { url } }", {"id": call["transcript"]["id"]}
    )
    assert audio.startswith(f"{stack.base_url}/files/audio/{call['id']}?token="), audio
    assert export.startswith(f"{stack.base_url}/files/exports/{call['transcript']['id']}?token="), export
    for url in (audio, export):
        assert httpx.get(url).status_code == 200


def test_another_user_gets_no_audio_url(client: GraphQLClient, call: dict) -> None:
    stranger = register(client)
    assert client.error_code(RECORDING, {"id": call["id"]}, stranger.access_token) == "NOT_FOUND"


def _export(client: GraphQLClient, token: str, transcript_id: str, format: str, **options) -> dict:
    return client.data(EXPORT, {"id": transcript_id, "format": format, **options}, token)["exportTranscript"]


def test_export_links_download_without_auth(client: GraphQLClient, call: dict, owner: Account) -> None:
    transcript_id = call["transcript"]["id"]
    link = _export(client, owner.access_token, transcript_id, "SRT")
    assert link["filename"] == "Support call.srt" and link["contentType"].startswith("application/x-subrip")
    response = httpx.get(link["url"])
    assert response.status_code == 200
    assert 'filename="Support call.srt"' in response.headers["content-disposition"]
    cues = list(srt.parse(response.text))
    assert cues and "internet" in " ".join(c.content for c in cues).lower()

    link = _export(client, owner.access_token, transcript_id, "DOCX")
    document = docx.Document(io.BytesIO(httpx.get(link["url"]).content))
    assert document.paragraphs[0].text == "Support call"


def test_a_fragment_of_chosen_segments_rebased_to_zero(client: GraphQLClient, call: dict, owner: Account) -> None:
    segments = call["transcript"]["segments"]
    chosen = segments[2:4]
    link = _export(
        client, owner.access_token, call["transcript"]["id"], "JSON", segmentIds=[s["id"] for s in chosen], rebase=True
    )
    exported = json.loads(httpx.get(link["url"]).content)
    assert [s["text"] for s in exported["segments"]] == [s["text"] for s in chosen]
    assert exported["segments"][0]["start"] == 0.0


def test_bad_fragments_and_other_users_are_refused(client: GraphQLClient, call: dict, owner: Account) -> None:
    transcript_id = call["transcript"]["id"]
    assert (
        client.error_code(EXPORT, {"id": transcript_id, "format": "SRT", "start": 9000.0}, owner.access_token)
        == "BAD_USER_INPUT"
    )
    stranger = register(client)
    assert client.error_code(EXPORT, {"id": transcript_id, "format": "SRT"}, stranger.access_token) == "NOT_FOUND"


def test_authenticated_export_get(client: GraphQLClient, call: dict, owner: Account) -> None:
    transcript_id = call["transcript"]["id"]
    url = f"/transcripts/{transcript_id}/export"
    response = client.http.get(
        url, params={"format": "txt", "speakers": "0"}, headers={"Authorization": f"Bearer {owner.access_token}"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("[00:00:0") and ": " not in response.text.splitlines()[0][11:]
    assert client.http.get(url, params={"format": "txt"}).status_code == 401
    stranger = register(client)
    assert (
        client.http.get(
            url, params={"format": "txt"}, headers={"Authorization": f"Bearer {stranger.access_token}"}
        ).status_code
        == 404
    )
    bad = client.http.get(url, params={"format": "pdf"}, headers={"Authorization": f"Bearer {owner.access_token}"})
    assert bad.status_code == 400 and "DOCX" in bad.json()["error"]["message"]


def test_the_public_url_setting() -> None:
    from spek.settings import Settings

    def base(**env: str) -> str:
        return Settings(_env_file=None, **env).public_base_url  # type: ignore[call-arg]

    assert base(SPEK_HOST="127.0.0.1", SPEK_PORT="8123") == "http://127.0.0.1:8123"
    assert base(SPEK_HOST="0.0.0.0", SPEK_PORT="8000") == "http://127.0.0.1:8000"  # a wildcard is no address to visit
    assert base(SPEK_PUBLIC_URL="https://spek.example.com/") == "https://spek.example.com"
    assert base(SPEK_PUBLIC_URL="https://example.com/spek") == "https://example.com/spek"
    for bad in ("spek.example.com", "ftp://spek.example.com", "https://spek.example.com/?a=1"):
        with pytest.raises(ValueError, match="SPEK_PUBLIC_URL"):
            base(SPEK_PUBLIC_URL=bad)
