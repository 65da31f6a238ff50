"""Notes: listed, read with their related notes, edited, deleted, made again; all scoped to the user."""

import math
import uuid
from dataclasses import dataclass

from arq.connections import ArqRedis
from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from spek import audit
from spek.accounts.models import User
from spek.errors import BadUserInput, Conflict, NotFound
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.queue import JobFunction, enqueue, enqueue_indexing
from spek.notebooks import service as notebooks
from spek.notebooks.models import Tag
from spek.notes.models import Note, note_tags
from spek.recordings import service as recordings
from spek.recordings.models import Recording
from spek.search import index
from spek.search.index import Passage
from spek.search.models import SearchKind

JOB_KIND = "note"
MAX_CONTENT_LENGTH = 200_000
WORDS_PER_MINUTE = 200
# Cosine similarity of two notes' embeddings from which they are related (all-MiniLM-L6-v2: unrelated
# meeting notes score about 0.1–0.3, notes on one subject 0.5 and more).
RELATED_THRESHOLD = 0.45
MAX_RELATED = 5


@dataclass(frozen=True)
class RelatedNote:
    note: Note
    strength: float  # 0..1
    relationship: str  # "same_tag" when they share a tag, else "similar"


def reading_time(content: str) -> int:
    """Whole minutes at 200 words a minute, at least 1."""
    return max(1, math.ceil(len(content.split()) / WORDS_PER_MINUTE))


def _notes(user: User) -> Select[Note]:
    return select(Note).where(Note.user_id == user.id)


async def get_note(session: AsyncSession, user: User, note_id: uuid.UUID) -> Note:
    query = _notes(user).where(Note.id == note_id).execution_options(populate_existing=True)
    note = (await session.execute(query)).scalar_one_or_none()
    if note is None:
        raise NotFound(f"Note {note_id} not found.")
    return note


async def note_of(session: AsyncSession, user: User, recording_id: uuid.UUID) -> Note | None:
    return (await session.execute(_notes(user).where(Note.source_recording_id == recording_id))).scalar_one_or_none()


async def list_notes(
    session: AsyncSession, user: User, limit: int, offset: int, tag: str | None, favorite: bool | None
) -> list[Note]:
    if not 1 <= limit <= 200 or offset < 0:
        raise BadUserInput("limit must be 1..200 and offset at least 0.")
    query = _notes(user).order_by(Note.created_at.desc()).limit(limit).offset(offset)
    if tag is not None:
        tagged = select(note_tags.c.note_id).join(Tag).where(Tag.user_id == user.id, Tag.name == tag.strip())
        query = query.where(Note.id.in_(tagged))
    if favorite is not None:
        query = query.where(Note.is_favorite.is_(favorite))
    return list((await session.execute(query)).scalars())


async def related_notes(session: AsyncSession, user: User, note: Note) -> list[RelatedNote]:
    """The caller's other notes nearest in meaning (by their search embeddings, of one model)."""
    rows = await session.execute(
        text("""SELECT other.source_id, 1 - (other.embedding <=> me.embedding) AS strength
            FROM search_entries me JOIN search_entries other
              ON other.user_id = me.user_id AND other.kind = 'NOTE' AND other.source_id <> me.source_id
             AND other.embedding_model = me.embedding_model
            WHERE me.source_id = :note AND me.user_id = :user AND me.kind = 'NOTE'
            ORDER BY other.embedding <=> me.embedding LIMIT :most"""),
        {"note": note.id, "user": user.id, "most": MAX_RELATED},
    )
    strengths = {row.source_id: float(row.strength) for row in rows if row.strength >= RELATED_THRESHOLD}
    if not strengths:
        return []
    others = {n.id: n for n in (await session.execute(_notes(user).where(Note.id.in_(strengths)))).scalars()}
    tags = {t.id for t in note.tags}
    return [
        RelatedNote(
            others[i], round(min(1.0, s), 4), "same_tag" if tags & {t.id for t in others[i].tags} else "similar"
        )
        for i, s in sorted(strengths.items(), key=lambda item: -item[1])
        if i in others
    ]


async def index_note(session: AsyncSession, note: Note) -> None:
    """Searchable by its words at once, by meaning once embedded (which also finds its related notes)."""
    passage = Passage(note.id, f"{note.title}\n\n{note.summary}\n\n{note.content}")
    await index.put_entry(session, note.user_id, SearchKind.NOTE, note.source_recording_id, note.title, passage)


async def update_note(
    session: AsyncSession,
    queue: ArqRedis,
    user: User,
    note_id: uuid.UUID,
    title: str | None = None,
    content: str | None = None,
    tags: list[str] | None = None,
    is_favorite: bool | None = None,
    is_read: bool | None = None,
) -> Note:
    note = await get_note(session, user, note_id)
    if title is not None:
        note.title = notebooks.clean_title(title)
    if content is not None:
        if len(content) > MAX_CONTENT_LENGTH:
            raise BadUserInput(f"The content must be at most {MAX_CONTENT_LENGTH} characters long.")
        note.content = content
        note.reading_time_minutes = reading_time(content)
    if tags is not None:
        note.tags = await notebooks.resolve_tags(session, user, tags)
    if is_favorite is not None:
        note.is_favorite = is_favorite
    if is_read is not None:
        note.is_read = is_read
    if title is not None or content is not None:
        note.model = None  # a person's words now, not the model's
        await index_note(session, note)
    audit.record(session, user.id, "note.update", "note", note.id)
    await session.commit()
    if title is not None or content is not None:
        await enqueue_indexing(queue, user.id)
    return await get_note(session, user, note_id)


async def delete_note(session: AsyncSession, user: User, note_id: uuid.UUID) -> bool:
    note = await get_note(session, user, note_id)
    await session.delete(note)
    await index.remove(session, note_id)
    audit.record(session, user.id, "note.delete", "note", note_id, title=note.title)
    await session.commit()
    return True


async def start_note_job(session: AsyncSession, queue: ArqRedis, user: User, recording: Recording) -> Job:
    """Queue the making of the recording's note: the job whose progress the note follows."""
    job = await jobs.create_job(session, user, JOB_KIND)
    recording.note_job = job
    await jobs.report(session, queue, job, message="queued")  # commits
    await enqueue(queue, JobFunction.MAKE_NOTE, job.id)
    return job


async def regenerate_note(session: AsyncSession, queue: ArqRedis, user: User, recording_id: uuid.UUID) -> Job:
    """Make the recording's note again (after renaming speakers or editing the transcript, say)."""
    recording = await recordings.get_recording(session, user, recording_id)
    if recording.note_job is not None and not recording.note_job.status.is_terminal:
        raise Conflict("The note of this recording is being made right now; follow its job.")
    if recording.job is not None and recording.job.status is not JobStatus.COMPLETED:
        raise Conflict("The recording has no transcript yet: its note is made when transcription completes.")
    audit.record(session, user.id, "note.regenerate", "recording", recording.id)
    return await start_note_job(session, queue, user, recording)
