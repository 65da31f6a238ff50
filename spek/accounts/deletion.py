"""Deleting an account with everything it owns: rows (by cascade from the user), search vectors, stored
files, refresh tokens, and its own audit trail; running jobs are cancelled first."""

from arq.connections import ArqRedis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from spek import audit
from spek.accounts.callers import Callers
from spek.accounts.models import User
from spek.accounts.passwords import verify_password_in_thread
from spek.documents.models import Document
from spek.errors import Unauthenticated
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.recordings.models import Recording
from spek.storage import Storage


async def delete_account(
    session: AsyncSession, queue: ArqRedis, storage: Storage, callers: Callers, user: User, password: str | None
) -> bool:
    """An account with a password needs it again (a stolen access token alone cannot delete an account); a
    device account has none."""
    if user.password_hash is not None and not await verify_password_in_thread(user.password_hash, password or ""):
        raise Unauthenticated("That password is not this account's: the account was not deleted.")
    unfinished = select(Job).where(Job.user_id == user.id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
    for job in list((await session.execute(unfinished)).scalars()):
        await jobs.cancel_job(session, queue, user, job.id)
    files = [
        *(await session.execute(select(Recording.storage_key).where(Recording.user_id == user.id))).scalars(),
        *(await session.execute(select(Document.storage_key).where(Document.user_id == user.id))).scalars(),
    ]
    await session.execute(delete(audit.AuditEvent).where(audit.AuditEvent.actor_id == user.id))
    # Every other row of theirs goes with it (ON DELETE CASCADE): notebooks, recordings, transcripts,
    # documents, notes, search entries and vectors, conversations, jobs, refresh tokens.
    await session.execute(delete(User).where(User.id == user.id))
    audit.record(session, None, "user.delete", "user", user.id)
    await session.commit()
    await callers.forget(user.id)
    for key in files:
        await storage.delete(key)
    return True
