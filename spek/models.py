"""Imports every model so that `Base.metadata` (and Alembic) sees all tables."""

from spek.accounts.models import RefreshToken, User
from spek.audit import AuditEvent
from spek.chat.models import Conversation, Message
from spek.db import Base
from spek.documents.models import Document
from spek.jobs.models import Job, JobStatus
from spek.notebooks.models import Notebook, Page, Section, Tag, page_tags
from spek.notes.models import Note, note_tags
from spek.recordings.models import Batch, Recording
from spek.search.models import SearchEntry
from spek.telegram.models import TelegramAccount
from spek.transcripts.models import Segment, Transcript

__all__ = [
    "AuditEvent",
    "Base",
    "Batch",
    "Conversation",
    "Document",
    "Job",
    "JobStatus",
    "Message",
    "Note",
    "Notebook",
    "Page",
    "Recording",
    "RefreshToken",
    "SearchEntry",
    "Section",
    "Segment",
    "Transcript",
    "Tag",
    "TelegramAccount",
    "User",
    "note_tags",
    "page_tags",
]
