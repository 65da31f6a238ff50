"""Two people speaking at once: the segments then name who else was heard during them."""

from tests.audio import talking_over
from tests.support import Account, GraphQLClient, transcribed

TRANSCRIPT = """query($id: ID!) { recording(id: $id) { transcript { speakers { label }
  segments { id start end speaker overlappingSpeakers } } } }"""
UPDATE = """mutation($id: ID!, $speaker: String) { updateSegment(id: $id, speaker: $speaker) {
  speaker overlappingSpeakers } }"""


def test_segments_name_the_speakers_heard_over_them(client: GraphQLClient, stack, alice: Account, tmp_path) -> None:
    wav, (both_from, both_to), _ = talking_over(tmp_path / "overlap.wav", 2.0)
    recording = transcribed(client, stack, alice.access_token, wav)
    transcript = client.data(TRANSCRIPT, {"id": recording}, alice.access_token)["recording"]["transcript"]
    segments = transcript["segments"]
    labels = {s["label"] for s in transcript["speakers"]}
    assert len(labels) == 2, transcript

    def shared(segment: dict) -> float:
        return min(segment["end"], both_to) - max(segment["start"], both_from)

    during = [s for s in segments if shared(s) >= 0.5]
    assert during and all(s["overlappingSpeakers"] == sorted(labels - {s["speaker"]}) for s in during), segments
    apart = [s for s in segments if shared(s) < -0.5]
    assert apart and all(s["overlappingSpeakers"] == [] for s in apart), segments

    # Given to the other speaker, a segment no longer names that speaker as heard over it.
    segment = during[0]
    (other,) = segment["overlappingSpeakers"]
    updated = client.data(UPDATE, {"id": segment["id"], "speaker": other}, alice.access_token)["updateSegment"]
    assert updated == {"speaker": other, "overlappingSpeakers": []}
