"""A recording that changes language: each stretch is recognized in its own language, recorded per segment."""

from tests.audio import dialogue
from tests.support import Account, GraphQLClient, transcribed

TRANSCRIPT = """query($id: ID!) { recording(id: $id) { transcript { language languageProbability
  segments { start end text language } } } }"""
LINES = [
    (
        "en-us",
        "Good morning. Today we talk about the new train timetable for the northern line and the changes in May.",
    ),
    ("de", "Guten Morgen. Heute sprechen wir über den neuen Fahrplan der Züge auf der nördlichen Linie im Mai."),
    ("en-us", "Thank you. The trains will now leave every fifteen minutes during the morning rush hour."),
]


def test_each_stretch_of_a_recording_is_recognized_in_its_own_language(
    client: GraphQLClient, stack, alice: Account, tmp_path
) -> None:
    wav, turns = dialogue(LINES, tmp_path / "mixed.wav", pause=2.5)
    recording = transcribed(client, stack, alice.access_token, wav, {"diarize": False})
    transcript = client.data(TRANSCRIPT, {"id": recording}, alice.access_token)["recording"]["transcript"]
    segments = transcript["segments"]
    (_, english_end, _), (german_start, german_end, _), (english_again, _, _) = turns

    english = [s for s in segments if s["end"] <= english_end + 0.5 or s["start"] >= english_again - 0.5]
    german = [s for s in segments if german_start - 0.5 <= s["start"] and s["end"] <= german_end + 0.5]
    assert {s["language"] for s in english} == {"en"}, segments
    assert "de" in {s["language"] for s in german}, segments
    said = " ".join(s["text"] for s in german if s["language"] == "de").lower()
    assert "heute sprechen wir" in said, said  # decoded as German, not translated or spelled as English
    assert "train timetable" in english[0]["text"].lower()
    # The transcript's language is the one spoken longest; how sure: its share of the speech.
    assert transcript["language"] == "en" and 0.5 < transcript["languageProbability"] < 1


def test_a_forced_language_holds_for_every_segment(client: GraphQLClient, stack, alice: Account, tmp_path) -> None:
    wav, _ = dialogue(LINES[:1], tmp_path / "english.wav")
    recording = transcribed(client, stack, alice.access_token, wav, {"language": "en", "diarize": False})
    transcript = client.data(TRANSCRIPT, {"id": recording}, alice.access_token)["recording"]["transcript"]
    assert transcript["segments"] and {s["language"] for s in transcript["segments"]} == {"en"}
