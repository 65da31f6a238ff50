from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from spek import migrate
from spek.db import create_engine
from spek.models import Base
from tests.support import run_async, sql

TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
EXTENSIONS = "SELECT extname FROM pg_extension WHERE extname = 'vector'"


def test_upgrade_on_an_empty_database_and_downgrade_to_base(stack) -> None:
    url = stack.postgres.ensure_database("migration_check")
    assert sql(url, TABLES) == []

    migrate.upgrade(url)
    tables = {name for (name,) in sql(url, TABLES)}
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert run_async(_differences_from_models(url)) == []
    assert sql(url, EXTENSIONS) == [("vector",)]
    assert sql(url, "SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector") == [(1.0,)]

    migrate.downgrade(url, "base")
    assert sql(url, TABLES) == [("alembic_version",)]
    assert sql(url, EXTENSIONS) == []

    migrate.upgrade(url)  # and back up again, cleanly
    assert len(sql(url, TABLES)) == len(tables)


async def _differences_from_models(url: str) -> list:
    """What Alembic's autogenerate would still change: the migrations must leave nothing."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
