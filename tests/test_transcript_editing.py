"""Editing a transcript: word timings after an edit, then end to end through the GraphQL API on a real transcript."""

import uuid

import pytest

from spek.accounts import service as accounts
from spek.db import create_engine, create_sessionmaker
from spek.errors import NotFound
from spek.transcripts import service
from spek.transcripts.document import DocumentWord
from spek.transcripts.exports import render_export
from spek.transcripts.words import retime
from tests.audio import SUPPORT_CALL, dialogue
from tests.support import Account, GraphQLClient, run_async, sql, transcribed


def words(*spec: tuple[str, float, float]) -> list[DocumentWord]:
    return [DocumentWord(start, end, text, 0.8) for text, start, end in spec]


QUICK = words(("the", 0.0, 0.3), ("quick", 0.4, 0.8), ("brown", 0.9, 1.3), ("fox", 1.4, 1.7))


def test_unchanged_words_keep_their_timings() -> None:
    assert retime(QUICK, "the quick brown fox", 0.0, 2.0) == QUICK
    assert retime(QUICK, "the brown fox", 0.0, 2.0) == [QUICK[0], QUICK[2], QUICK[3]]


def test_a_changed_word_takes_the_time_between_its_neighbours() -> None:
    edited = retime(QUICK, "the slow brown fox", 0.0, 2.0)
    assert edited == [QUICK[0], DocumentWord(0.3, 0.9, "slow", 1.0), QUICK[2], QUICK[3]]


def test_new_words_are_spread_in_proportion_to_their_length() -> None:
    edited = retime(QUICK, "the quick brown fox jumps over", 0.0, 3.2)
    assert edited[:4] == QUICK
    # "jumps over": 5 and 4 characters over the 1.5 s after "fox".
    assert [(w.text, w.start, w.end) for w in edited[4:]] == [("jumps", 1.7, 2.533), ("over", 2.533, 3.2)]
    rewritten = retime(QUICK, "aa bbbb", 0.0, 6.0)
    assert [(w.start, w.end) for w in rewritten] == [(0.0, 2.0), (2.0, 6.0)]
    assert retime([], "no timings yet", 10.0, 13.0)[0].start == 10.0


def test_a_word_inserted_where_there_is_no_time_shares_its_neighbours_time() -> None:
    touching = words(("a", 0.0, 0.5), ("b", 0.5, 1.0), ("c", 1.0, 1.5))
    edited = retime(touching, "a x b c", 0.0, 1.5)
    assert [(w.text, w.start, w.end) for w in edited] == [
        ("a", 0.0, 0.333),
        ("x", 0.333, 0.667),
        ("b", 0.667, 1.0),
        ("c", 1.0, 1.5),
    ]
    assert [w.probability for w in edited] == [0.8, 1.0, 0.8, 0.8]


TRANSCRIPT = """query($id: ID!) { transcript(id: $id) {
  id text updatedAt speakers { label name talkTimeSeconds }
  segments { id index start end speaker text words { start end text probability } }
} }"""
RECORDING = "query($id: ID!) { recording(id: $id) { transcript { id } } }"
UPDATE = """mutation($id: ID!, $text: String, $speaker: String) {
  updateSegment(id: $id, text: $text, speaker: $speaker) { id index start end speaker text words { start end text probability } }
}"""
RENAME = """mutation($id: ID!, $label: String!, $name: String!) {
  renameSpeaker(transcriptId: $id, label: $label, name: $name) { id updatedAt speakers { label name talkTimeSeconds } }
}"""
SEARCH = """query($id: ID!, $query: String!) {
  searchTranscript(transcriptId: $id, query: $query) { id index text matches { start end } matchedWords words { text } }
}"""


@pytest.fixture(scope="module")
def transcript_id(client: GraphQLClient, stack, owner: Account, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One real two-speaker transcript, made by the worker, that this module's tests edit."""
    path, _ = dialogue(SUPPORT_CALL, tmp_path_factory.mktemp("editing") / "call.wav")
    recording_id = transcribed(client, stack, owner.access_token, path, {"language": "en", "title": "Support call"})
    return client.data(RECORDING, {"id": recording_id}, owner.access_token)["recording"]["transcript"]["id"]


def current(client: GraphQLClient, owner: Account, transcript_id: str) -> dict:
    return client.data(TRANSCRIPT, {"id": transcript_id}, owner.access_token)["transcript"]


def audit_rows(stack, target_id: str) -> list[tuple]:
    return sql(
        stack.database_url,
        "SELECT action, actor_id::text, details->>'transcript_id', details->'text'->>'to', details->'speaker'->>'to', details->'name'->>'to'"
        " FROM audit_log WHERE target_id = :target ORDER BY at",
        target=target_id,
    )


def exported_txt(stack, user_id: str, transcript_id: str) -> str:
    """The TXT export, through the service the export routes call."""

    async def run() -> str:
        engine = create_engine(stack.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                user = await accounts.get_user(session, uuid.UUID(user_id))
                document = await service.export_document(session, user, uuid.UUID(transcript_id))
        finally:
            await engine.dispose()
        return render_export(document, "TXT").content.decode()

    return run_async(run())


def test_editing_text_retimes_words_and_text_and_search_follow(
    client: GraphQLClient, stack, owner: Account, transcript_id: str
) -> None:
    before = current(client, owner, transcript_id)
    segment = before["segments"][0]
    tokens = [w["text"] for w in segment["words"]]
    assert len(tokens) >= 3, segment
    new_tokens = [*tokens[:-1], "Xylophone", tokens[-1]]

    edited = client.data(
        UPDATE, {"id": segment["id"], "text": "  " + "  \n".join(new_tokens) + " "}, owner.access_token
    )["updateSegment"]
    assert edited["text"] == " ".join(new_tokens)
    assert [w["text"] for w in edited["words"]] == new_tokens
    # Words the edit left alone keep their timings (the two around the insertion may share theirs with it).
    assert edited["words"][: len(tokens) - 2] == segment["words"][: len(tokens) - 2]
    inserted = edited["words"][len(tokens) - 1]
    assert inserted["probability"] == 1.0 and inserted["end"] > inserted["start"]
    times = [t for w in edited["words"] for t in (w["start"], w["end"])]
    assert times == sorted(times) and segment["start"] <= times[0] and times[-1] <= segment["end"]

    after = current(client, owner, transcript_id)
    assert " ".join(new_tokens) in after["text"] and after["updatedAt"] > before["updatedAt"]
    found = client.data(SEARCH, {"id": transcript_id, "query": f"{tokens[-2]} XYLOPHONE"}, owner.access_token)[
        "searchTranscript"
    ]
    assert [s["id"] for s in found] == [segment["id"]]
    match = found[0]["matches"][0]
    assert found[0]["text"][match["start"] : match["end"]].endswith("Xylophone")
    assert found[0]["matchedWords"] == [len(tokens) - 2, len(tokens) - 1]

    assert audit_rows(stack, segment["id"]) == [
        ("segment.update", owner.id, transcript_id, " ".join(new_tokens), None, None)
    ]


def test_rewritten_text_is_spread_over_the_segment(client: GraphQLClient, owner: Account, transcript_id: str) -> None:
    segment = current(client, owner, transcript_id)["segments"][1]
    edited = client.data(UPDATE, {"id": segment["id"], "text": "Completely different words"}, owner.access_token)[
        "updateSegment"
    ]
    spans = [(w["start"], w["end"]) for w in edited["words"]]
    assert spans[0][0] == pytest.approx(segment["start"], abs=0.001) and spans[-1][1] == pytest.approx(
        segment["end"], abs=0.001
    )
    durations = [end - start for start, end in spans]
    assert durations[0] / durations[2] == pytest.approx(len("Completely") / len("words"), rel=0.05)
    assert (
        client.data(SEARCH, {"id": transcript_id, "query": segment["text"]}, owner.access_token)["searchTranscript"]
        == []
    )


def test_changing_a_segments_speaker_moves_its_talk_time(
    client: GraphQLClient, stack, owner: Account, transcript_id: str
) -> None:
    before = current(client, owner, transcript_id)
    labels = [s["label"] for s in before["speakers"]]
    assert labels[:2] == ["SPEAKER_00", "SPEAKER_01"], labels
    segment = next(s for s in before["segments"][2:-1] if s["speaker"] == "SPEAKER_00")
    duration = segment["end"] - segment["start"]

    edited = client.data(UPDATE, {"id": segment["id"], "speaker": "SPEAKER_01"}, owner.access_token)["updateSegment"]
    assert edited["speaker"] == "SPEAKER_01" and edited["text"] == segment["text"]
    talk_before = {s["label"]: s["talkTimeSeconds"] for s in before["speakers"]}
    talk_after = {s["label"]: s["talkTimeSeconds"] for s in current(client, owner, transcript_id)["speakers"]}
    assert talk_after["SPEAKER_00"] == pytest.approx(talk_before["SPEAKER_00"] - duration, abs=0.002)
    assert talk_after["SPEAKER_01"] == pytest.approx(talk_before["SPEAKER_01"] + duration, abs=0.002)
    assert audit_rows(stack, segment["id"]) == [("segment.update", owner.id, transcript_id, None, "SPEAKER_01", None)]

    body = client.execute(UPDATE, {"id": segment["id"], "speaker": "SPEAKER_09"}, owner.access_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "SPEAKER_09" in body["errors"][0]["message"] and ", ".join(labels) in body["errors"][0]["message"]


def test_renamed_speakers_appear_by_name(client: GraphQLClient, stack, owner: Account, transcript_id: str) -> None:
    renamed = client.data(
        RENAME, {"id": transcript_id, "label": "SPEAKER_01", "name": "  Support   agent "}, owner.access_token
    )["renameSpeaker"]
    assert {s["label"]: s["name"] for s in renamed["speakers"]} == {"SPEAKER_00": None, "SPEAKER_01": "Support agent"}
    assert current(client, owner, transcript_id)["speakers"] == renamed["speakers"]
    assert audit_rows(stack, transcript_id) == [("speaker.rename", owner.id, None, None, None, "Support agent")]

    lines = exported_txt(stack, owner.id, transcript_id).splitlines()
    assert any(line.split("] ", 1)[1].startswith("Support agent: ") for line in lines)
    assert any(line.split("] ", 1)[1].startswith("Speaker 1: ") for line in lines)

    for label, name, message in (
        ("SPEAKER_01", "   ", "cannot be empty"),
        ("SPEAKER_07", "Bob", "SPEAKER_00, SPEAKER_01"),
        ("SPEAKER_00", "x" * 41, "at most 40"),
    ):
        body = client.execute(RENAME, {"id": transcript_id, "label": label, "name": name}, owner.access_token)
        assert (
            body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and message in body["errors"][0]["message"]
        ), body


def test_bad_edits_are_refused_and_change_nothing(
    client: GraphQLClient, stack, owner: Account, transcript_id: str
) -> None:
    before = current(client, owner, transcript_id)
    segment = before["segments"][-1]
    for variables, message in (
        ({"text": ""}, "Segment text cannot be empty"),
        ({"text": " \n\t "}, "Segment text cannot be empty"),
        ({}, "new text, its new speaker"),
    ):
        body = client.execute(UPDATE, {"id": segment["id"], **variables}, owner.access_token)
        assert (
            body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and message in body["errors"][0]["message"]
        ), body
    assert client.error_code(UPDATE, {"id": "not-an-id", "text": "x"}, owner.access_token) == "BAD_USER_INPUT"
    body = client.execute(SEARCH, {"id": transcript_id, "query": ' "" '}, owner.access_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "Type a word" in body["errors"][0]["message"]
    assert current(client, owner, transcript_id) == before
    assert audit_rows(stack, segment["id"]) == []


def test_another_users_transcript_does_not_exist_for_them(
    client: GraphQLClient, stack, owner: Account, bob: Account, transcript_id: str
) -> None:
    before = current(client, owner, transcript_id)
    segment_id = before["segments"][-1]["id"]
    for query, variables in (
        (UPDATE, {"id": segment_id, "text": "Hijacked"}),
        (UPDATE, {"id": segment_id, "speaker": "SPEAKER_00"}),
        (UPDATE, {"id": str(uuid.uuid4()), "text": "Nothing"}),
        (RENAME, {"id": transcript_id, "label": "SPEAKER_00", "name": "Mallory"}),
        (SEARCH, {"id": transcript_id, "query": "support"}),
        (SEARCH, {"id": str(uuid.uuid4()), "query": "support"}),
    ):
        assert client.error_code(query, variables, bob.access_token) == "NOT_FOUND"
    with pytest.raises(NotFound):
        exported_txt(stack, bob.id, transcript_id)
    assert current(client, owner, transcript_id) == before
