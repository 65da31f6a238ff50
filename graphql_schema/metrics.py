"""Counts and times each GraphQL operation for /metrics."""

import time
from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from spek.metrics import GRAPHQL_ERRORS, GRAPHQL_LATENCY, GRAPHQL_REQUESTS


def _operation_label(execution_context) -> tuple[str, str]:
    """Label by the root field, one of the schema's (so the number of series is bounded by the schema, not
    by what clients send): "several" for more than one, "invalid" for a document that did not validate."""
    document = execution_context.graphql_document
    if document is None or execution_context.pre_execution_errors:
        return "invalid", "unknown"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if execution_context.operation_name:
        operations = [o for o in operations if o.name and o.name.value == execution_context.operation_name]
    if len(operations) != 1:
        return "invalid", "unknown"
    operation = operations[0]
    fields = {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
    label = fields.pop() if len(fields) == 1 else "several" if fields else "fragment"
    return label, operation.operation.value


class Metrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        operation, kind = _operation_label(self.execution_context)
        GRAPHQL_REQUESTS.labels(operation, kind).inc()
        GRAPHQL_LATENCY.labels(operation, kind).observe(time.perf_counter() - started)
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            GRAPHQL_ERRORS.labels((error.extensions or {}).get("code", "INTERNAL")).inc()
