"""Imports every model so that `Base.metadata` (and Alembic) sees all tables."""

from spek.accounts.models import RefreshToken, User
from spek.audit import AuditEvent
from spek.db import Base
from spek.documents.models import Document, DocumentChunk
from spek.jobs.models import Job, JobStatus
from spek.notebooks.models import Notebook, Page, Section, Tag, page_tags
from spek.recordings.models import Batch, Recording
from spek.transcripts.models import Segment, Transcript

__all__ = [
    "AuditEvent",
    "Base",
    "Batch",
    "Document",
    "DocumentChunk",
    "Job",
    "JobStatus",
    "Notebook",
    "Page",
    "Recording",
    "RefreshToken",
    "Section",
    "Segment",
    "Transcript",
    "Tag",
    "User",
    "page_tags",
]
