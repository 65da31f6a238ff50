"""Exports, read back with independent libraries: python-docx, srt, webvtt-py, json."""

import html
import io
import json
import re
import uuid
from datetime import UTC, datetime

import docx
import pytest
import srt
import webvtt

from spek.errors import BadUserInput
from spek.transcripts.document import DocumentSegment, DocumentSpeaker, DocumentWord, TranscriptDocument
from spek.transcripts.exports import ascii_filename, render_export
from spek.transcripts.fragments import Fragment

LONG = (
    "So the plan for the next quarter is to move the whole team to the new office building, "
    "hire two more engineers for the mobile app, and finally ship the offline mode that customers keep asking about."
)
RUSSIAN = "Привет! Ёлка стоит в зале, и мы её украсим к празднику."
NO_WORDS = "This one came without word timings at all, so its cues are timed in proportion."


def timed(text: str, start: float, seconds_per_char: float = 0.06, pause: float = 0.05) -> tuple[DocumentWord, ...]:
    """Word timings as Whisper gives them: one word after another with short pauses."""
    words, at = [], start
    for token in text.split():
        words.append(DocumentWord(round(at, 3), round(at + len(token) * seconds_per_char, 3), token, 0.9))
        at = words[-1].end + pause
    return tuple(words)


def segment(
    index: int, start: float, speaker: str | None, text: str, with_words: bool = True, end: float | None = None
) -> DocumentSegment:
    words = timed(text, start)
    return DocumentSegment(
        uuid.uuid4(), index, start, end or words[-1].end, speaker, text, "en", words if with_words else ()
    )


SEGMENTS = (
    segment(0, 0.5, "SPEAKER_00", "Good morning everyone."),
    segment(1, 2.0, "SPEAKER_00", "Let us begin."),
    segment(2, 3.5, "SPEAKER_01", LONG),
    segment(3, 16.0, "SPEAKER_02", RUSSIAN),
    segment(4, 21.0, "SPEAKER_00", NO_WORDS, with_words=False, end=29.0),
    segment(5, 30.0, "SPEAKER_01", "Thank you."),
)
DOCUMENT = TranscriptDocument(
    transcript_id=uuid.uuid4(),
    recording_id=uuid.uuid4(),
    title="Планёрка: Q3 / plans",
    filename="meeting.m4a",
    recorded_at=datetime(2024, 5, 6, 9, 30, tzinfo=UTC),
    language="en",
    language_probability=0.93,
    model="base",
    duration_seconds=31.5,
    updated_at=datetime(2024, 5, 6, 10, 0, tzinfo=UTC),
    # SPEAKER_00 was never renamed: it reads as "Speaker 1".
    speakers=(
        DocumentSpeaker("SPEAKER_00", None),
        DocumentSpeaker("SPEAKER_01", "Ada Lovelace"),
        DocumentSpeaker("SPEAKER_02", "Мария"),
    ),
    segments=SEGMENTS,
)
NAMES = {"SPEAKER_00": "Speaker 1", "SPEAKER_01": "Ada Lovelace", "SPEAKER_02": "Мария"}
ALL_TEXT = " ".join(s.text for s in SEGMENTS)


def parsed_srt(fragment: Fragment = Fragment(), speakers: bool = True) -> list[srt.Subtitle]:
    return list(srt.parse(render_export(DOCUMENT, "SRT", fragment, speakers).content.decode(), ignore_errors=False))


def parsed_vtt(fragment: Fragment = Fragment(), speakers: bool = True) -> list[webvtt.Caption]:
    return list(webvtt.from_buffer(io.StringIO(render_export(DOCUMENT, "VTT", fragment, speakers).content.decode())))


def without_prefix(text: str) -> str:
    for name in NAMES.values():
        text = text.removeprefix(f"{name}: ")
    return text


def assert_cue_limits(cues: list[tuple[float, float, str]]) -> None:
    starts = [start for start, _, _ in cues]
    assert starts == sorted(starts)
    for start, end, text in cues:
        lines = text.split("\n")
        assert 1 <= len(lines) <= 2 and all(0 < len(line) <= 42 for line in lines), lines
        assert 0 < end - start <= 7.0, (start, end, text)


def test_srt_is_valid_and_cues_keep_the_limits() -> None:
    content = render_export(DOCUMENT, "SRT").content.decode()
    assert re.search(r"^00:00:00,500 --> 00:00:\d\d,\d{3}$", content, re.M)
    cues = parsed_srt()
    assert [cue.index for cue in cues] == list(range(1, len(cues) + 1))
    assert_cue_limits([(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in cues])
    # Splitting loses and adds nothing: the cues read back as the transcript.
    assert " ".join(without_prefix(c.content).replace("\n", " ") for c in cues) == ALL_TEXT
    assert len(cues) > len(SEGMENTS)  # the long segments had to be split


def test_vtt_is_valid_and_carries_voices() -> None:
    content = render_export(DOCUMENT, "VTT").content.decode()
    assert content.startswith("WEBVTT\n\n")
    assert re.search(r"^00:00:00\.500 --> 00:00:\d\d\.\d{3}$", content, re.M)
    captions = parsed_vtt()
    assert_cue_limits(
        [
            (
                c.start_in_seconds + int(c.start[-3:]) / 1000,
                c.end_in_seconds + int(c.end[-3:]) / 1000,
                html.unescape(c.text),
            )
            for c in captions
        ]
    )
    assert " ".join(without_prefix(html.unescape(c.text)).replace("\n", " ") for c in captions) == ALL_TEXT
    # Every cue says who speaks; the visible name leads the first cue after a change of speaker.
    by_start = {round(c.start_in_seconds + int(c.start[-3:]) / 1000, 3): c for c in captions}
    assert by_start[0.5].voice == "Speaker 1" and by_start[0.5].text.startswith("Speaker 1: Good morning")
    assert by_start[16.0].voice == "Мария" and by_start[16.0].text.startswith("Мария: Привет!")
    assert not by_start[2.0].text.startswith("Speaker 1:")  # same speaker as the cue before
    assert {c.voice for c in captions} == set(NAMES.values())


def test_cues_are_cut_at_word_timings() -> None:
    long = SEGMENTS[2]
    cues = [c for c in parsed_srt() if long.start <= c.start.total_seconds() < long.end]
    assert len(cues) >= 3
    starts = {w.start for w in long.words}
    ends = {w.end for w in long.words}
    for cue in cues:
        assert cue.start.total_seconds() in starts and cue.end.total_seconds() in ends
        assert cue.end.total_seconds() - cue.start.total_seconds() <= 7.0


def test_a_segment_without_word_timings_is_split_in_proportion() -> None:
    untimed = SEGMENTS[4]
    cues = [c for c in parsed_srt() if untimed.start <= c.start.total_seconds() < untimed.end]
    assert len(cues) == 2
    assert cues[0].start.total_seconds() == untimed.start and cues[-1].end.total_seconds() == untimed.end
    assert cues[0].end == cues[1].start
    chars = [sum(len(word) for word in without_prefix(c.content).split()) for c in cues]
    seconds = [(c.end - c.start).total_seconds() for c in cues]
    assert seconds[0] / seconds[1] == pytest.approx(chars[0] / chars[1], rel=0.1)


def test_subtitles_without_speaker_names() -> None:
    assert not any(c.content.startswith(tuple(NAMES.values())) for c in parsed_srt(speakers=False))
    captions = parsed_vtt(speakers=False)
    assert all(c.voice is None for c in captions)
    assert " ".join(html.unescape(c.text).replace("\n", " ") for c in captions) == ALL_TEXT


def test_docx_reads_back_with_metadata_speakers_and_turns() -> None:
    document = docx.Document(io.BytesIO(render_export(DOCUMENT, "DOCX").content))
    paragraphs = document.paragraphs
    assert paragraphs[0].style.name == "Title" and paragraphs[0].text == DOCUMENT.title
    texts = [p.text for p in paragraphs]
    assert "Date: 2024-05-06 09:30 UTC" in texts and "Duration: 00:00:31" in texts and "Language: en" in texts
    assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == ["Speakers", "Transcript"]
    speakers = [p.text for p in paragraphs if p.style.name == "List Bullet"]
    assert speakers == ["Speaker 1 — 00:00:10", "Ada Lovelace — 00:00:12", "Мария — 00:00:03"]

    turns = paragraphs[texts.index("Transcript") + 1 :]
    # Consecutive segments of one speaker are one turn: six segments, five turns.
    assert [t.runs[0].text for t in turns] == ["Speaker 1", "Ada Lovelace", "Мария", "Speaker 1", "Ada Lovelace"]
    assert all(t.runs[0].bold for t in turns)
    stamps = [run for t in turns for run in t.runs if re.fullmatch(r"\[\d\d:\d\d:\d\d\]", run.text)]
    assert [s.text for s in stamps] == ["[00:00:00]", "[00:00:03]", "[00:00:16]", "[00:00:21]", "[00:00:30]"]
    assert all(s.font.color.rgb is not None and s.font.color.rgb != docx.shared.RGBColor(0, 0, 0) for s in stamps)
    assert turns[0].text.endswith("\nGood morning everyone. Let us begin.")
    assert " ".join(t.text.split("\n", 1)[1] for t in turns) == ALL_TEXT


def test_json_has_the_full_metadata() -> None:
    data = json.loads(render_export(DOCUMENT, "JSON").content)
    assert data["recording"] == {
        "id": str(DOCUMENT.recording_id),
        "title": DOCUMENT.title,
        "filename": "meeting.m4a",
        "createdAt": "2024-05-06T09:30:00+00:00",
    }
    assert data["transcriptId"] == str(DOCUMENT.transcript_id)
    assert (data["language"], data["languageProbability"], data["model"], data["durationSeconds"]) == (
        "en",
        0.93,
        "base",
        31.5,
    )
    assert data["fragment"] is None
    assert [(s["label"], s["name"], s["displayName"]) for s in data["speakers"]] == [
        ("SPEAKER_00", None, "Speaker 1"),
        ("SPEAKER_01", "Ada Lovelace", "Ada Lovelace"),
        ("SPEAKER_02", "Мария", "Мария"),
    ]
    talk = {s["label"]: s["talkTimeSeconds"] for s in data["speakers"]}
    assert talk["SPEAKER_02"] == pytest.approx(SEGMENTS[3].end - SEGMENTS[3].start, abs=0.001)
    assert [s["id"] for s in data["segments"]] == [str(s.id) for s in SEGMENTS]
    assert [s["speakerName"] for s in data["segments"]] == [NAMES[s.speaker] for s in SEGMENTS]
    first = data["segments"][0]
    assert first["language"] == "en" and first["overlappingSpeakers"] == []
    assert first["text"] == "Good morning everyone." and first["words"][0] == {
        "start": 0.5,
        "end": 0.74,
        "text": "Good",
        "probability": 0.9,
    }


def test_txt_has_a_time_code_name_and_text_per_turn() -> None:
    lines = render_export(DOCUMENT, "TXT").content.decode().splitlines()
    assert lines[0] == "[00:00:00] Speaker 1: Good morning everyone. Let us begin."
    assert lines[2] == f"[00:00:16] Мария: {RUSSIAN}"
    assert len(lines) == 5 and all(
        re.fullmatch(r"\[\d\d:\d\d:\d\d\] (Speaker 1|Ada Lovelace|Мария): .+", line) for line in lines
    )
    assert (
        render_export(DOCUMENT, "TXT", speakers=False).content.decode().splitlines()[0]
        == "[00:00:00] Good morning everyone. Let us begin."
    )


def test_a_time_range_keeps_the_words_inside_it() -> None:
    fragment = Fragment(start=5.0, end=18.0)
    cues = parsed_srt(fragment)
    assert all(c.start.total_seconds() >= 5.0 and c.end.total_seconds() <= 18.0 for c in cues)
    inside = [w.text for s in SEGMENTS for w in s.words if 5.0 <= (w.start + w.end) / 2 < 18.0]
    assert " ".join(without_prefix(c.content).replace("\n", " ") for c in cues) == " ".join(inside)
    data = json.loads(render_export(DOCUMENT, "JSON", fragment).content)
    assert [s["index"] for s in data["segments"]] == [2, 3]
    assert data["fragment"] == {"start": 5.0, "end": 18.0, "segmentIds": None, "rebased": False, "offsetSeconds": 0.0}


def test_a_rebased_time_range_starts_at_zero() -> None:
    plain, rebased = parsed_srt(Fragment(start=5.0, end=18.0)), parsed_srt(Fragment(start=5.0, end=18.0, rebase=True))
    assert [c.content for c in rebased] == [c.content for c in plain]
    assert [(c.start.total_seconds(), c.end.total_seconds()) for c in rebased] == [
        (pytest.approx(c.start.total_seconds() - 5.0, abs=0.002), pytest.approx(c.end.total_seconds() - 5.0, abs=0.002))
        for c in plain
    ]


def test_chosen_segments_with_and_without_rebase() -> None:
    chosen = [SEGMENTS[3].id, str(SEGMENTS[5].id)]
    cues = parsed_vtt(Fragment(segment_ids=chosen))
    assert " ".join(without_prefix(html.unescape(c.text)).replace("\n", " ") for c in cues) == f"{RUSSIAN} Thank you."
    assert cues[0].start == "00:00:16.000" and cues[-1].voice == "Ada Lovelace"

    rebased = parsed_vtt(Fragment(segment_ids=chosen, rebase=True))
    assert rebased[0].start == "00:00:00.000" and rebased[-1].start == "00:00:14.000"
    assert [c.text for c in rebased] == [c.text for c in cues]
    lines = render_export(DOCUMENT, "TXT", Fragment(segment_ids=chosen, rebase=True)).content.decode().splitlines()
    assert lines == [f"[00:00:00] Мария: {RUSSIAN}", "[00:00:14] Ada Lovelace: Thank you."]
    document = docx.Document(io.BytesIO(render_export(DOCUMENT, "DOCX", Fragment(segment_ids=chosen)).content))
    assert "Excerpt: 00:00:16 – 00:00:30" in [p.text for p in document.paragraphs]
    assert [p.text for p in document.paragraphs if p.style.name == "List Bullet"] == [
        "Ada Lovelace — 00:00:00",
        "Мария — 00:00:03",
    ]


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        (Fragment(start=29.5, end=29.9), "selects no speech"),
        (Fragment(segment_ids=[]), "selects no speech"),
        (Fragment(segment_ids=[SEGMENTS[0].id], start=20.0), "selects no speech"),
        (Fragment(segment_ids=[uuid.uuid4()]), "not in this transcript"),
        (Fragment(segment_ids=["nope"]), "not a valid ID"),
        (Fragment(start=10.0, end=5.0), "0 <= start < end"),
        (Fragment(start=-1.0), "0 <= start < end"),
    ],
)
def test_a_fragment_that_selects_nothing_is_refused(fragment: Fragment, message: str) -> None:
    for format in ("SRT", "DOCX"):
        with pytest.raises(BadUserInput, match=message):
            render_export(DOCUMENT, format, fragment)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(BadUserInput, match="DOCX, SRT, VTT, JSON, TXT"):
        render_export(DOCUMENT, "PDF")


def test_an_empty_transcript_exports_empty_but_valid_files() -> None:
    empty = TranscriptDocument(**{**DOCUMENT.__dict__, "speakers": (), "segments": ()})
    assert list(srt.parse(render_export(empty, "SRT").content.decode())) == []
    assert render_export(empty, "VTT").content == b"WEBVTT\n\n"
    assert json.loads(render_export(empty, "JSON").content)["segments"] == []


def test_filenames_come_from_the_title_and_are_safe_in_headers() -> None:
    exported = render_export(DOCUMENT, "SRT")
    assert exported.filename == "Планёрка Q3 plans.srt"
    assert exported.content_type == "application/x-subrip; charset=utf-8"
    assert ascii_filename(exported.filename) == "Q3 plans.srt"
    assert exported.content_disposition() == (
        "attachment; filename=\"Q3 plans.srt\"; filename*=UTF-8''%D0%9F%D0%BB%D0%B0%D0%BD%D1%91%D1%80%D0%BA%D0%B0%20Q3%20plans.srt"
    )
    russian = TranscriptDocument(**{**DOCUMENT.__dict__, "title": 'Встреча "итоги"\r\n'})
    assert render_export(russian, "TXT").filename == "Встреча итоги.txt"
    assert ascii_filename("Встреча итоги.txt") == "transcript.txt"
    assert ascii_filename("Café déjà vu.docx") == "Cafe deja vu.docx"
    assert (
        render_export(TranscriptDocument(**{**DOCUMENT.__dict__, "title": "../.."}), "VTT").filename == "transcript.vtt"
    )
    assert [render_export(DOCUMENT, f).content_type for f in ("DOCX", "VTT", "JSON", "TXT")] == [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/vtt; charset=utf-8",
        "application/json",
        "text/plain; charset=utf-8",
    ]
