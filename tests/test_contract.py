"""The live schema serves every type, field, argument and enum value of the contract, as typed there."""

from pathlib import Path

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    build_schema,
    print_ast,
)
from graphql.utilities import ast_from_value

from graphql_schema.schema import build_schema as build_live_schema
from spek.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "api" / "contract.graphql"
SHARED_CONTRACT = ROOT.parent / "shared" / "api" / "contract.graphql"

contract = build_schema(CONTRACT.read_text())
live = build_live_schema(Settings())._schema
CONTRACT_TYPES = sorted(name for name in contract.type_map if not name.startswith("__"))


def _default(argument: GraphQLArgument | GraphQLInputField) -> str | None:
    """The default as SDL. The contract's SDL keeps literals; `= null` on a nullable one means no default."""
    default = argument.default
    if default is not None and default.literal is not Undefined:
        node = default.literal
    else:
        node = ast_from_value(default.value if default is not None else argument.default_value, argument.type)
    printed = print_ast(node) if node is not None else None
    return None if printed == "null" else printed


def test_our_copy_keeps_all_of_the_shared_contract() -> None:
    """Our copy may add to the contract clients are written against, never change or drop from it."""
    if not SHARED_CONTRACT.exists():
        pytest.skip("../shared is not beside this checkout")
    shared = build_schema(SHARED_CONTRACT.read_text())
    names = [name for name in shared.type_map if not name.startswith("__")]
    assert [found for name in names for found in differences(shared, contract, name)] == []


def differences(expected_schema: GraphQLSchema, actual_schema: GraphQLSchema, name: str) -> list[str]:
    """What `actual_schema` lacks or types differently from `expected_schema` for the type `name`."""
    expected: GraphQLNamedType = expected_schema.type_map[name]
    actual = actual_schema.type_map.get(name)
    if actual is None:
        return [f"type {name} is missing"]
    if not isinstance(actual, type(expected)):
        return [f"{name} is a {type(actual).__name__}, the contract says {type(expected).__name__}"]
    if isinstance(expected, GraphQLEnumType):
        return [f"{name}.{value} is missing" for value in expected.values if value not in actual.values]
    if not isinstance(expected, GraphQLObjectType | GraphQLInputObjectType):
        return []
    found = []
    for field_name, field in expected.fields.items():
        served = actual.fields.get(field_name)
        if served is None:
            found.append(f"{name}.{field_name} is missing")
            continue
        if str(served.type) != str(field.type):
            found.append(f"{name}.{field_name} is {served.type}, the contract says {field.type}")
        if isinstance(expected, GraphQLInputObjectType):
            if _default(served) != _default(field):
                found.append(f"{name}.{field_name} defaults to {_default(served)}, the contract says {_default(field)}")
            continue
        for arg_name, arg in field.args.items():
            served_arg = served.args.get(arg_name)
            where = f"{name}.{field_name}({arg_name})"
            if served_arg is None:
                found.append(f"{where} is missing")
            elif str(served_arg.type) != str(arg.type):
                found.append(f"{where} is {served_arg.type}, the contract says {arg.type}")
            elif _default(served_arg) != _default(arg):
                found.append(f"{where} defaults to {_default(served_arg)}, the contract says {_default(arg)}")
        # Arguments we add must be optional, or existing clients break.
        found += [
            f"{name}.{field_name}({arg_name}) is required but not in the contract"
            for arg_name in set(served.args) - set(field.args)
            if str(served.args[arg_name].type).endswith("!")
        ]
    return found


@pytest.mark.parametrize("name", CONTRACT_TYPES)
def test_type_matches_the_contract(name: str) -> None:
    assert differences(contract, live, name) == []


def test_the_comparison_catches_drift() -> None:
    drifted = build_schema(
        CONTRACT.read_text()
        .replace(
            "  title: String!\n  description: String\n  sections", "  name: String!\n  description: String\n  sections"
        )
        .replace("recordings(limit: Int = 50", "recordings(limit: Int = 20")
        .replace("  CONFLICT\n", "")
    )
    assert differences(contract, drifted, "Notebook") == ["Notebook.title is missing"]
    assert differences(contract, drifted, "Query") == ["Query.recordings(limit) defaults to 20, the contract says 50"]
    assert differences(contract, drifted, "ErrorCode") == ["ErrorCode.CONFLICT is missing"]
    assert {"Query", "Mutation", "Subscription", "Upload", "RecordingInput"} <= set(CONTRACT_TYPES)
