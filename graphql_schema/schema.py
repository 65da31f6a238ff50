"""The Strawberry schema: every part of the contract merged into Query, Mutation and Subscription."""

from collections.abc import Iterator
from typing import Any

import strawberry
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.file_uploads import Upload
from strawberry.tools import merge_types

from graphql_schema.accounts import AccountsMutation, AccountsQuery
from graphql_schema.chat import ChatMutation, ChatQuery, ChatSubscription
from graphql_schema.documents import DocumentsMutation, DocumentsQuery
from graphql_schema.errors import ErrorCodes
from graphql_schema.input_checks import InputChecks
from graphql_schema.jobs import JobsMutation, JobsQuery, JobsSubscription
from graphql_schema.metrics import Metrics
from graphql_schema.notebooks import NotebooksMutation, NotebooksQuery
from graphql_schema.notes import NotesMutation, NotesQuery
from graphql_schema.prepared import DocumentLimits
from graphql_schema.recordings import RecordingsMutation, RecordingsQuery
from graphql_schema.search import SearchQuery
from graphql_schema.telegram import TelegramMutation
from graphql_schema.transcripts import TranscriptsMutation, TranscriptsQuery
from graphql_schema.uploads import UPLOAD_SCALAR
from spek.errors import ErrorCode as ErrorCodeModel
from spek.settings import Settings

ErrorCode = strawberry.enum(ErrorCodeModel, name="ErrorCode", description="The value of every error's extensions.code.")

Query = merge_types(
    "Query",
    (
        AccountsQuery,
        NotebooksQuery,
        RecordingsQuery,
        TranscriptsQuery,
        JobsQuery,
        DocumentsQuery,
        SearchQuery,
        NotesQuery,
        ChatQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccountsMutation,
        NotebooksMutation,
        RecordingsMutation,
        TranscriptsMutation,
        JobsMutation,
        DocumentsMutation,
        NotesMutation,
        ChatMutation,
        TelegramMutation,
    ),
)
Subscription = merge_types("Subscription", (JobsSubscription, ChatSubscription))


class SpekSchema(strawberry.Schema):
    def __init__(self, *args: Any, document_limits: DocumentLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document_limits = document_limits

    def process_errors(self, errors, execution_context=None) -> None:
        """The ErrorCodes extension logs the unexpected ones; client errors are not worth a stack trace."""


class CachedDocuments(SchemaExtension):
    """Strawberry's MaxTokensLimiter, AddValidationRules, ParserCache and ValidationCache as one extension:
    the same work, with a quarter of the per-request hooks (about 35 µs less per request)."""

    def __init__(self, limits: DocumentLimits) -> None:
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        assert context.query is not None  # Strawberry refuses a request without one before parsing
        context.graphql_document = self.limits.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # parsed, or refused, by on_parse
        context.pre_execution_errors = self.limits.validate(context.schema._schema, context.graphql_document)
        yield


def build_schema(settings: Settings) -> SpekSchema:
    limits = DocumentLimits.of(
        settings.max_query_tokens,
        (
            *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.max_query_aliases).validation_rules,
        ),
    )
    return SpekSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ErrorCode],
        # Factories: each request gets fresh extension instances (the caches live at module level).
        # Outermost first: Metrics sees errors after ErrorCodes has given them codes. Queries and mutations
        # posted as JSON run without these (json_operations.py), through the same functions.
        extensions=[
            Metrics,
            ErrorCodes,
            lambda: CachedDocuments(limits),
            InputChecks,  # after CachedDocuments, whose validation result it replaces when it refuses
        ],
        scalar_overrides={Upload: UPLOAD_SCALAR},
        document_limits=limits,
    )
