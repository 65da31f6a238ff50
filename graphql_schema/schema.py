"""The Strawberry schema: every part of the contract merged into Query, Mutation and Subscription."""

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
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
from graphql_schema.recordings import RecordingsMutation, RecordingsQuery
from graphql_schema.search import SearchQuery
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
    ),
)
Subscription = merge_types("Subscription", (JobsSubscription, ChatSubscription))


class SpekSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """The ErrorCodes extension logs the unexpected ones; client errors are not worth a stack trace."""


def build_schema(settings: Settings) -> strawberry.Schema:
    # The limit rules are built once: ValidationCache keys on the rule classes, and a limiter
    # made per request would make new classes each time and never hit the cache.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_query_aliases).validation_rules,
    ]
    return SpekSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ErrorCode],
        # Factories: each request gets fresh extension instances (the caches live at module level).
        # Outermost first: Metrics sees errors after ErrorCodes has given them codes.
        extensions=[
            Metrics,
            ErrorCodes,
            lambda: AddValidationRules(limit_rules),
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
            InputChecks,  # after ValidationCache, whose result it replaces when it refuses
        ],
        scalar_overrides={Upload: UPLOAD_SCALAR},
    )
