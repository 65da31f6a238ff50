"""Transcripts: saved from a transcription, read, edited, searched and exported; all scoped to the user."""

import uuid
from dataclasses import asdict, dataclass

from arq.connections import ArqRedis
from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from spek import audit
from spek.accounts.models import User
from spek.asr.whisper import Transcription
from spek.db import utcnow
from spek.diarization.assign import SpeakerSegment
from spek.errors import BadUserInput, NotFound
from spek.jobs.queue import enqueue_indexing
from spek.recordings.models import Recording
from spek.search import index
from spek.search.index import Passage
from spek.search.models import SearchKind
from spek.transcripts import search
from spek.transcripts.document import DocumentWord, TranscriptDocument, document_of
from spek.transcripts.exports import ExportFile, render_export
from spek.transcripts.fragments import Fragment
from spek.transcripts.models import Segment, Transcript
from spek.transcripts.words import retime

MAX_SPEAKER_NAME = 40  # a name and its colon fit on one subtitle line


@dataclass(frozen=True)
class SegmentHit:
    segment: Segment
    ranges: list[tuple[int, int]]  # half-open character ranges into segment.text
    words: list[int]  # indexes into segment.words


def _transcripts(user: User) -> Select[Transcript]:
    """The user's transcripts, loaded with what every caller reads: segments and the recording."""
    return (
        select(Transcript)
        .join(Recording)
        .where(Recording.user_id == user.id)
        .options(selectinload(Transcript.segments), joinedload(Transcript.recording))
    )


async def get_transcript(session: AsyncSession, user: User, transcript_id: uuid.UUID) -> Transcript:
    transcript = (await session.execute(_transcripts(user).where(Transcript.id == transcript_id))).scalar_one_or_none()
    if transcript is None:
        raise NotFound(f"Transcript {transcript_id} not found.")
    return transcript


async def transcript_of(session: AsyncSession, user: User, recording_id: uuid.UUID) -> Transcript | None:
    """The transcript of the user's recording; None while it has none (or it is someone else's)."""
    return (
        await session.execute(_transcripts(user).where(Transcript.recording_id == recording_id))
    ).scalar_one_or_none()


async def save_transcript(
    session: AsyncSession, recording: Recording, result: Transcription, segments: list[SpeakerSegment]
) -> Transcript:
    """Store a finished transcription as the recording's transcript, in a transaction of its own.

    A transcript an earlier, interrupted run of the same job saved is replaced.
    """
    labels = sorted({s.speaker for s in segments if s.speaker} | {label for s in segments for label in s.overlapping})
    transcript = Transcript(
        recording_id=recording.id,
        language=result.language,
        language_probability=result.language_probability,
        duration_seconds=result.duration_seconds,
        model=result.model,
        speakers=[{"label": label, "name": None} for label in labels],
        segments=[
            Segment(
                id=uuid.uuid4(),  # known now: the search index names segments by id
                index=i,
                start=s.start,
                end=s.end,
                speaker=s.speaker,
                language=s.language or result.language,
                overlapping_speakers=s.overlapping,
                text=s.text,
                words=[{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability} for w in s.words],
            )
            for i, s in enumerate(segments)
        ],
    )
    passages = [Passage(s.id, s.text, position=s.index, start=s.start, end=s.end) for s in transcript.segments]
    async with session.begin():
        await delete_transcript_of(session, recording.id)
        session.add(transcript)
        await index.replace_entries(
            session, recording.user_id, SearchKind.TRANSCRIPT, recording.id, recording.title, passages
        )
        if recording.duration_seconds is None:
            recording.duration_seconds = result.duration_seconds
    return transcript


async def delete_transcript_of(session: AsyncSession, recording_id: uuid.UUID) -> None:
    """Delete the recording's transcript, if it has one, and its search entries, in the caller's transaction."""
    await session.execute(delete(Transcript).where(Transcript.recording_id == recording_id))
    await index.remove_parent(session, SearchKind.TRANSCRIPT, recording_id)


async def _segment(session: AsyncSession, user: User, segment_id: uuid.UUID) -> tuple[Transcript, Segment]:
    transcript_id = (
        await session.execute(
            select(Segment.transcript_id)
            .join(Transcript)
            .join(Recording)
            .where(Segment.id == segment_id, Recording.user_id == user.id)
        )
    ).scalar_one_or_none()
    if transcript_id is None:
        raise NotFound(f"Segment {segment_id} not found.")
    transcript = await get_transcript(session, user, transcript_id)
    return transcript, next(s for s in transcript.segments if s.id == segment_id)


def _check_label(transcript: Transcript, label: str) -> None:
    labels = [s["label"] for s in transcript.speakers]
    if label not in labels:
        known = f"its speakers are {', '.join(labels)}" if labels else "it has no speakers (diarization was off)"
        raise BadUserInput(f"Speaker {label!r} is not in this transcript; {known}.")


async def update_segment(
    session: AsyncSession,
    queue: ArqRedis,
    user: User,
    segment_id: uuid.UUID,
    text: str | None = None,
    speaker: str | None = None,
) -> Segment:
    """Change a segment's text (its word timings follow, see spek.transcripts.words) or speaker label."""
    if text is None and speaker is None:
        raise BadUserInput("Give the segment's new text, its new speaker, or both.")
    if text is not None:
        text = " ".join(text.split())
        if not text:
            raise BadUserInput("Segment text cannot be empty.")
    transcript, segment = await _segment(session, user, segment_id)
    if speaker is not None:
        _check_label(transcript, speaker)
    changes: dict[str, dict[str, str | None]] = {}
    if text is not None and text != segment.text:
        words = retime([DocumentWord(**w) for w in segment.words], text, segment.start, segment.end)
        changes["text"] = {"from": segment.text, "to": text}
        segment.text = text
        await index.set_text(session, segment.id, text)
        segment.words = [asdict(w) for w in words]
    if speaker is not None and speaker != segment.speaker:
        changes["speaker"] = {"from": segment.speaker, "to": speaker}
        segment.speaker = speaker
        segment.overlapping_speakers = [label for label in segment.overlapping_speakers if label != speaker]
    if changes:
        transcript.updated_at = utcnow()
        audit.record(
            session, user.id, "segment.update", "segment", segment.id, transcript_id=str(transcript.id), **changes
        )
        await session.commit()
        if "text" in changes:
            await enqueue_indexing(queue, user.id)
    return segment


async def rename_speaker(
    session: AsyncSession, user: User, transcript_id: uuid.UUID, label: str, name: str
) -> Transcript:
    transcript = await get_transcript(session, user, transcript_id)
    # Renames of two speakers at once must not overwrite each other's name in the JSON list.
    await session.refresh(transcript, ["speakers"], with_for_update=True)
    name = " ".join(name.split())
    if not name:
        raise BadUserInput("Speaker name cannot be empty.")
    if len(name) > MAX_SPEAKER_NAME:
        raise BadUserInput(f"Speaker name must be at most {MAX_SPEAKER_NAME} characters.")
    _check_label(transcript, label)
    before = next(s.get("name") for s in transcript.speakers if s["label"] == label)
    transcript.speakers = [{**s, "name": name} if s["label"] == label else s for s in transcript.speakers]
    transcript.updated_at = utcnow()
    audit.record(
        session, user.id, "speaker.rename", "transcript", transcript.id, label=label, name={"from": before, "to": name}
    )
    await session.commit()
    return transcript


async def search_transcript(
    session: AsyncSession, user: User, transcript_id: uuid.UUID, query: str
) -> list[SegmentHit]:
    """Segments where the query matches, in time order (rules in spek.transcripts.search)."""
    search.query_words(query)  # a query with no words is refused before anything is read
    transcript = await get_transcript(session, user, transcript_id)
    segments = sorted(transcript.segments, key=lambda s: (s.start, s.index))
    hits = search.search([(s.text, [w["text"] for w in s.words]) for s in segments], query)
    return [SegmentHit(segments[hit.segment], hit.ranges, hit.words) for hit in hits]


async def export_document(session: AsyncSession, user: User, transcript_id: uuid.UUID) -> TranscriptDocument:
    return document_of(await get_transcript(session, user, transcript_id))


async def export_transcript(
    session: AsyncSession, user: User, transcript_id: uuid.UUID, format: str, fragment: Fragment, speakers: bool = True
) -> ExportFile:
    return render_export(await export_document(session, user, transcript_id), format, fragment, speakers)
