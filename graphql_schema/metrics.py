"""Counts and times each GraphQL operation for /metrics."""

import time
from collections.abc import Iterator, Sequence
from functools import cache

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, get_operation_ast
from prometheus_client import Counter, Histogram
from strawberry.extensions import SchemaExtension

from spek.metrics import GRAPHQL_ERRORS, GRAPHQL_LATENCY, GRAPHQL_REQUESTS

INVALID = ("invalid", "unknown")  # a document that did not validate, or does not say which operation to run


def operation_label(operation: OperationDefinitionNode) -> tuple[str, str]:
    """Label by the root field, one of the schema's (so the number of series is bounded by the schema, not
    by what clients send): "several" for more than one, "fragment" for a selection made of fragments."""
    fields = {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
    label = fields.pop() if len(fields) == 1 else "several" if fields else "fragment"
    return label, operation.operation.value


def record(label: tuple[str, str], seconds: float, errors: Sequence[GraphQLError] | None) -> None:
    requests, latency = _series(label)
    requests.inc()
    latency.observe(seconds)
    for error in errors or ():
        GRAPHQL_ERRORS.labels((error.extensions or {}).get("code", "INTERNAL")).inc()


@cache  # as bounded as the labels
def _series(label: tuple[str, str]) -> tuple[Counter, Histogram]:
    return GRAPHQL_REQUESTS.labels(*label), GRAPHQL_LATENCY.labels(*label)


class Metrics(SchemaExtension):
    """For what Strawberry runs itself: subscriptions, uploads, GET and batches (json_operations.py the rest)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        self.label = INVALID
        yield
        result = self.execution_context.result
        record(self.label, time.perf_counter() - started, getattr(result, "errors", None))

    def on_validate(self) -> Iterator[None]:
        yield
        # Here, not at the end: errors from execution are put in the same place as validation's.
        context = self.execution_context
        if context.graphql_document is not None and not context.pre_execution_errors:
            operation = get_operation_ast(context.graphql_document, context._provided_operation_name)
            if operation is not None:
                self.label = operation_label(operation)
