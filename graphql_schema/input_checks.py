"""Checks of every request's input made once, before any resolver runs, instead of in each resolver."""

import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    VariableDefinitionNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

# PostgreSQL text cannot hold NUL, and UTF-8 cannot encode a lone surrogate (JSON's "\ud800"): either
# would fail deep in the database driver, as an INTERNAL error, after part of the work was done.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """What in `text` no text column can store, described for a client; None when there is nothing."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "a NUL character (U+0000)"
    return f"an unpaired surrogate (U+{ord(match.group()):04X})"


def _variable_problem(variables: dict[str, Any]) -> str | None:
    stack: list[tuple[str, Any]] = [(f"${name}", value) for name, value in variables.items()]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if problem := unstorable(value):
                return f'Variable "{where}" has {problem}'
        elif isinstance(value, dict):
            stack.extend((f"{where}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return None


def _literal_owner(ancestors: list[Any]) -> str:
    """Which argument of which field a string literal is (part of)."""
    owner, names = "the document", list[str]()
    for node in ancestors:
        if isinstance(node, VariableDefinitionNode):
            return f'The default value of "${node.variable.name.value}"'
        if isinstance(node, FieldNode | DirectiveNode):
            owner, names = ("@" if isinstance(node, DirectiveNode) else "") + node.name.value, []
        elif isinstance(node, ArgumentNode | ObjectFieldNode):
            names.append(node.name.value)
    return f'Argument "{".".join(names)}" of "{owner}"'


class _FindUnstorableLiteral(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.problem: str | None = None

    def enter_string_value(self, node: StringValueNode, key: Any, parent: Any, path: Any, ancestors: Any) -> Any:
        if problem := unstorable(node.value):
            self.problem = f"{_literal_owner([*ancestors, parent])} has {problem}"
            return self.BREAK
        return None


def _literal_problem(document: DocumentNode, query: str | None) -> str | None:
    # A literal can only hold such a character if the query text has it, or a \u escape that writes one:
    # most queries need no walk over their document.
    if query is not None and "\\u" not in query and _UNSTORABLE.search(query) is None:
        return None
    finder = _FindUnstorableLiteral()
    visit(document, finder)
    return finder.problem


def document_error(document: DocumentNode, query: str | None, operation_name: str | None) -> GraphQLError | None:
    """Why a valid document cannot run whatever the variables: several operations and no `operationName`
    (Strawberry would run the first), or text no column can store in a literal."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > 1 and operation_name is None:
        return GraphQLError(
            "The document has several operations: name the one to run in `operationName`.", nodes=operations
        )
    if problem := _literal_problem(document, query):
        return GraphQLError(f"{problem}, which text cannot hold.")
    return None


def variables_error(variables: dict[str, Any] | None) -> GraphQLError | None:
    """Text no column can store, in a variable."""
    if problem := _variable_problem(variables or {}):
        return GraphQLError(f"{problem}, which text cannot hold.")
    return None


class InputChecks(SchemaExtension):
    """Refuses document_error's and variables_error's cases as BAD_USER_INPUT. Placed after CachedDocuments
    (schema.py): an error here replaces validation's empty list."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            # Strawberry's operation_name falls back to the first operation's: only this says none was given.
            error = document_error(document, context.query, context._provided_operation_name) or variables_error(
                context.variables
            )
            if error is not None:
                context.pre_execution_errors = [error]
        yield
