"""Audio kept no longer than SPEK_AUDIO_TTL_HOURS: the file goes, the recording's transcript and note stay."""

from datetime import timedelta

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from spek import audit
from spek.db import utcnow
from spek.jobs.models import Job, JobStatus
from spek.recordings.models import Recording
from spek.storage import Storage

log = structlog.get_logger("spek.recordings")
TERMINAL = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED]


async def expire_audio(session: AsyncSession, storage: Storage, ttl_hours: float) -> int:
    """Delete the audio of every recording older than the TTL whose transcription is over; how many."""
    cutoff = utcnow() - timedelta(hours=ttl_hours)
    query = (
        select(Recording)
        .outerjoin(Job, Recording.job_id == Job.id)
        .where(Recording.created_at < cutoff, Recording.audio_expired_at.is_(None))
        .where(or_(Job.id.is_(None), Job.status.in_(TERMINAL)))  # never under a running transcription
    )
    expired = 0
    for recording in list((await session.execute(query)).scalars()):
        await storage.delete(recording.storage_key)
        recording.audio_expired_at = utcnow()
        audit.record(session, recording.user_id, "recording.audio_expired", "recording", recording.id)
        await session.commit()
        log.info("recording.audio_expired", recording_id=str(recording.id))
        expired += 1
    return expired
