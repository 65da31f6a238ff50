"""Pooled database connections: one the server has closed is replaced when next taken, never handed out
(what pool_pre_ping did, with three round trips before every session)."""

import asyncio

from sqlalchemy import text

from spek.db import create_engine, create_sessionmaker
from spek.errors import is_outage
from tests.support import GraphQLClient, register, run_async, sql

TERMINATE_IDLE = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
)


def test_a_connection_the_database_closed_is_replaced(stack) -> None:
    async def scenario() -> None:
        engine = create_engine(stack.database_url)
        sessions = create_sessionmaker(engine)
        try:
            async with sessions() as session:
                first = (await session.execute(text("SELECT pg_backend_pid()"))).scalar()
            admin = create_engine(stack.database_url)
            async with admin.begin() as connection:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            await admin.dispose()
            await asyncio.sleep(0.5)
            async with sessions() as session:
                second = (await session.execute(text("SELECT pg_backend_pid()"))).scalar()
            assert second != first
        finally:
            await engine.dispose()

    run_async(scenario())


def test_the_api_answers_after_the_database_dropped_its_connections(stack, client: GraphQLClient) -> None:
    account = register(client)
    for _ in range(20):  # every API process has connections in its pool
        client.data("{ me { id } }", token=account.access_token)
    [(terminated,)] = sql(stack.database_url, TERMINATE_IDLE)
    assert terminated > 0
    for _ in range(40):
        assert client.data("{ me { id } }", token=account.access_token)["me"]["id"] == account.id


def test_a_connection_lost_under_a_driver_level_read_is_an_outage(stack) -> None:
    """accounts.get_user reads on the driver's connection, past SQLAlchemy's error wrapping: losing the
    connection there must still be told as UNAVAILABLE (try again), not INTERNAL."""

    async def scenario() -> None:
        engine = create_engine(stack.database_url)
        try:
            async with engine.connect() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                pid = await driver.fetchval("SELECT pg_backend_pid()")
                reading = asyncio.ensure_future(driver.fetchval("SELECT pg_sleep(10)"))
                await asyncio.sleep(0.3)
                async with engine.connect() as admin:
                    await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                try:
                    await reading
                except Exception as error:  # noqa: BLE001 - whatever the driver raises is what is checked
                    assert is_outage(error), repr(error)
                else:
                    raise AssertionError("the read outlived its connection")
        finally:
            await engine.dispose()

    run_async(scenario())
