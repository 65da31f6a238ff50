"""One real Spek stack per test session: embedded PostgreSQL and Redis, the API, a worker and a chat worker."""

from collections.abc import Iterator

import pytest

from tests.support import Account, GraphQLClient, Stack, register, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("spek-data")) as running:
        yield running


@pytest.fixture(scope="session")
def client(stack: Stack) -> GraphQLClient:
    return GraphQLClient(stack.base_url)


@pytest.fixture(scope="module")
def owner(client: GraphQLClient) -> Account:
    """One account shared by a module's tests (with the transcript they work on)."""
    return register(client)


@pytest.fixture
def alice(client: GraphQLClient) -> Account:
    return register(client)


@pytest.fixture
def bob(client: GraphQLClient) -> Account:
    return register(client)
