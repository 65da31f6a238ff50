from spek import migrate
from tests.support import sql

TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
EXTENSIONS = "SELECT extname FROM pg_extension WHERE extname = 'vector'"


def test_upgrade_on_an_empty_database_and_downgrade_to_base(stack) -> None:
    url = stack.postgres.ensure_database("migration_check")
    assert sql(url, TABLES) == []

    migrate.upgrade(url)
    tables = {name for (name,) in sql(url, TABLES)}
    assert tables == {
        "alembic_version", "audit_log", "jobs", "notebooks", "page_tags", "pages", "recordings", "refresh_tokens", "sections",
        "segments", "tags", "transcripts", "users",
    }
    assert sql(url, EXTENSIONS) == [("vector",)]
    assert sql(url, "SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector") == [(1.0,)]

    migrate.downgrade(url, "base")
    assert sql(url, TABLES) == [("alembic_version",)]
    assert sql(url, EXTENSIONS) == []

    migrate.upgrade(url)  # and back up again, cleanly
    assert len(sql(url, TABLES)) == len(tables)
