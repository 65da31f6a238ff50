"""Exports of a transcript, whole or a fragment: DOCX, SRT, VTT, JSON, TXT, as file bytes and a name."""

import json
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from spek.errors import BadUserInput
from spek.transcripts import subtitles, word_document
from spek.transcripts.document import TranscriptDocument, talk_times, turns
from spek.transcripts.fragments import Fragment, Selection, select
from spek.transcripts.timecodes import clock

CONTENT_TYPES = {
    "DOCX": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "SRT": "application/x-subrip; charset=utf-8",
    "VTT": "text/vtt; charset=utf-8",
    "JSON": "application/json",
    "TXT": "text/plain; charset=utf-8",
}
# Characters that are unsafe in a file name on some system, or in a quoted header value.
_UNSAFE = set('\\/:*?"<>|')
MAX_NAME = 100


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str  # from the title; may hold any printable character but none unsafe in a path or header
    content_type: str

    def content_disposition(self) -> str:
        """An attachment header: the name as is for browsers that read RFC 6266, ASCII for the rest."""
        return f"attachment; filename=\"{ascii_filename(self.filename)}\"; filename*=UTF-8''{quote(self.filename)}"


def render_export(
    document: TranscriptDocument, format: str, fragment: Fragment = Fragment(), speakers: bool = True
) -> ExportFile:
    """The export file. `speakers=False` leaves speaker names out of SRT, VTT and TXT."""
    kind = format.upper()
    if kind not in CONTENT_TYPES:
        raise BadUserInput(f"Unknown export format {format!r}; choose one of {', '.join(CONTENT_TYPES)}.")
    selection = select(document, fragment)
    match kind:
        case "DOCX":
            content = word_document.docx(selection)
        case "SRT":
            content = subtitles.srt(selection, speakers)
        case "VTT":
            content = subtitles.vtt(selection, speakers)
        case "JSON":
            content = json_export(selection)
        case _:
            content = txt(selection, speakers)
    return ExportFile(content, export_filename(document.title, kind.lower()), CONTENT_TYPES[kind])


def txt(selection: Selection, speakers: bool = True) -> bytes:
    lines = []
    for turn in turns(selection.segments):
        name = selection.document.speaker_name(turn.speaker) if speakers else None
        lines.append(f"[{clock(turn.start)}] {name}: {turn.text}" if name else f"[{clock(turn.start)}] {turn.text}")
    return "".join(f"{line}\n" for line in lines).encode()


def json_export(selection: Selection) -> bytes:
    document, fragment = selection.document, selection.fragment
    talk = talk_times(selection.segments)
    data = {
        "recording": {
            "id": str(document.recording_id),
            "title": document.title,
            "filename": document.filename,
            "createdAt": document.recorded_at.isoformat(),
        },
        "transcriptId": str(document.transcript_id),
        "language": document.language,
        "languageProbability": document.language_probability,
        "model": document.model,
        "durationSeconds": document.duration_seconds,
        "updatedAt": document.updated_at.isoformat(),
        "fragment": None
        if fragment.whole
        else {
            "start": fragment.start,
            "end": fragment.end,
            "segmentIds": sorted(str(i) for i in fragment.segment_ids) if fragment.segment_ids is not None else None,
            "rebased": fragment.rebase,
            "offsetSeconds": selection.offset,
        },
        "speakers": [
            {"label": s.label, "name": s.name, "displayName": s.display_name, "talkTimeSeconds": talk.get(s.label, 0.0)}
            for s in document.speakers
        ],
        "segments": [
            {
                "id": str(segment.id),
                "index": segment.index,
                "start": segment.start,
                "end": segment.end,
                "speaker": segment.speaker,
                "speakerName": document.speaker_name(segment.speaker),
                "language": segment.language,
                "overlappingSpeakers": list(segment.overlapping_speakers),
                "text": segment.text,
                "words": [
                    {"start": w.start, "end": w.end, "text": w.text, "probability": w.probability}
                    for w in segment.words
                ],
            }
            for segment in selection.segments
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def export_filename(title: str, extension: str) -> str:
    name = "".join(c for c in unicodedata.normalize("NFC", title) if c.isprintable() and c not in _UNSAFE)
    name = " ".join(name.split()).strip(" .")[:MAX_NAME].strip(" .")
    return f"{name or 'transcript'}.{extension}"


def ascii_filename(filename: str) -> str:
    """The name in ASCII: accents dropped, other letters left out; "transcript" if nothing is left."""
    stem, dot, extension = filename.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = " ".join(c for c in ascii_stem.split() if c.strip(" .-_")).strip(" .")
    return f"{ascii_stem or 'transcript'}{dot}{extension}"
