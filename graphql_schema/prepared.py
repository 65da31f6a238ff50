"""Query documents parsed, and documents validated, once per distinct text (LRU caches shared by every
request), within the schema's limits on tokens, depth and aliases."""

from dataclasses import dataclass
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules
from strawberry.schema.schema import validate_document

_parse = lru_cache(maxsize=1000)(parse)
# Keyed on the document (the parse cache hands out the same object for the same text) and the rule classes.
_validate = lru_cache(maxsize=1000)(validate_document)


@dataclass(frozen=True, eq=False)  # hashed by identity: a cache key, made once per schema
class DocumentLimits:
    max_tokens: int
    # GraphQL's own rules and the limits' (depth, aliases), as one tuple built once: the validation cache
    # keys on it, and a limiter made per request would make new rule classes each time and never hit it.
    rules: tuple[type[ASTValidationRule], ...]

    @classmethod
    def of(cls, max_tokens: int, limit_rules: tuple[type[ASTValidationRule], ...]) -> "DocumentLimits":
        return cls(max_tokens, (*specified_rules, *limit_rules))

    def parse(self, query: str) -> DocumentNode:
        """The document; GraphQLSyntaxError when the text is not one, or has more tokens than allowed."""
        return _parse(query, max_tokens=self.max_tokens)

    def validate(self, schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        return _validate(schema, document, self.rules)
