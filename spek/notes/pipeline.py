"""The note job a worker runs for one recording: summarizing → analyzing → saving → indexing."""

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload, selectinload

from spek.accounts.models import User
from spek.embeddings import Embedder
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.runner import begin_stage, run_job
from spek.llm import LLM
from spek.notebooks import service as notebooks
from spek.notebooks.models import Tag
from spek.notes import analysis, service
from spek.notes.models import Note
from spek.notes.writer import MIN_TAGS, Turn, write_note
from spek.recordings.models import Recording
from spek.search import index
from spek.transcripts.document import document_of, transcript_text, turns
from spek.transcripts.models import Transcript


@dataclass
class NoteTools:
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    llm: Callable[[], LLM]
    embedder: Callable[[], Embedder]
    stopping: threading.Event  # set when the worker is shutting down
    max_attempts: int = 3
    retry_backoff_seconds: float = 10.0


class NothingToSay(Exception):
    """The transcript has no words: there is nothing to write a note from."""


async def make_note(tools: NoteTools, job_id: uuid.UUID) -> None:
    """Run the job once; RetryLater or WorkerStopping tell the queue to run it again."""

    async def work(session: AsyncSession, job: Job) -> None:
        query = select(Recording).where(Recording.note_job_id == job.id)
        recording = (await session.execute(query)).scalar_one_or_none()
        if recording is not None:  # else deleted meanwhile: nothing to do
            await _make(tools, session, job, recording)

    await run_job(tools, job_id, "Writing the note", work)


async def _make(tools: NoteTools, session: AsyncSession, job: Job, recording: Recording) -> None:
    await begin_stage(tools, session, job, "summarizing", 0.05)
    query = (
        select(Transcript)
        .where(Transcript.recording_id == recording.id)
        .options(selectinload(Transcript.segments), joinedload(Transcript.recording))
    )
    transcript = (await session.execute(query)).scalar_one_or_none()
    if transcript is None or not any(s.text.strip() for s in transcript.segments):
        raise NothingToSay("the recording's transcript has no words to write a note from")
    user = await session.get_one(User, recording.user_id)
    document = document_of(transcript)
    spoken = [Turn(document.speaker_name(t.speaker), t.start, t.text) for t in turns(document.segments)]
    known_tags = list((await session.execute(select(Tag.name).where(Tag.user_id == user.id))).scalars())
    llm = await anyio.to_thread.run_sync(tools.llm)
    draft = await write_note(llm, spoken, transcript.language, known_tags, recording.title)

    await begin_stage(tools, session, job, "analyzing", 0.8)
    text = transcript_text(transcript.segments)
    phrases = await anyio.to_thread.run_sync(analysis.key_phrases, text, transcript.language)
    embedder = await anyio.to_thread.run_sync(tools.embedder)
    segments = [analysis.Spoken(s.speaker, s.text, s.end - s.start) for s in transcript.segments]
    labels = [s["label"] for s in transcript.speakers]
    tones = await anyio.to_thread.run_sync(analysis.speaker_tones, segments, labels, transcript.language, embedder)
    tags = (
        draft.tags + [p.lower() for p in phrases if p.lower() not in draft.tags][: max(0, MIN_TAGS - len(draft.tags))]
    )

    await begin_stage(tools, session, job, "saving", 0.9)
    note = await service.note_of(session, user, recording.id) or Note(user_id=user.id, source_recording_id=recording.id)
    note.notebook_id = recording.notebook_id
    note.title, note.summary, note.content = draft.title, draft.summary, draft.content
    note.language, note.key_phrases, note.model = transcript.language, phrases, llm.name
    note.sentiment = [{"speaker": t.speaker, "label": t.label, "score": t.score} for t in tones]
    note.reading_time_minutes = service.reading_time(f"{draft.summary} {draft.content}")
    note.is_read = False
    note.tags = await notebooks.resolve_tags(session, user, tags)
    session.add(note)
    await session.flush()
    await service.index_note(session, note)
    await session.commit()

    await begin_stage(tools, session, job, "indexing", 0.95)
    await index.embed_pending(session, embedder, parent_id=recording.id)  # related notes need its vector
    await jobs.report(session, tools.redis, job, status=JobStatus.COMPLETED, stage="indexing", message="note ready")
