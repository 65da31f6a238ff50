"""One search index for everything: pages, notes, document passages and transcript segments.

Keyword search: a stored tsvector computed by the database from the text, in the English or Russian
configuration by the text's script, with accents folded. Semantic search: an HNSW index per packaged
embedding model (pgvector needs a fixed dimension; the column takes any, each row names its model).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Letters with accents and their plain forms; Russian ё reads as е (people type it so).
ACCENTED = "ÀÁÂÃÄÅàáâãäåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÇçÑñÝýÿŠšŽžЁё"
PLAIN = "AAAAAAaaaaaaEEEEeeeeIIIIiiiiOOOOOOooooooUUUUuuuuCcNnYyySsZzЕе"
# The packaged models (spek.embeddings): their names and dimensions.
MODELS = {"minilm": ("all-MiniLM-L6-v2", 384), "e5_small": ("multilingual-e5-small-q4", 384)}


def upgrade() -> None:
    assert len(ACCENTED) == len(PLAIN)
    op.execute(
        f"""CREATE FUNCTION spek_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN translate($1, '{ACCENTED}', '{PLAIN}')"""
    )
    op.execute(
        """CREATE FUNCTION spek_text_search_config(text) RETURNS regconfig LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN CASE WHEN $1 ~ '[А-Яа-яЁё]' THEN 'pg_catalog.russian'::regconfig
                    ELSE 'pg_catalog.english'::regconfig END"""
    )
    op.create_table(
        "search_entries",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("NOTE", "PAGE", "DOCUMENT", "TRANSCRIPT", name="searchkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("start", sa.Float(), nullable=True),
        sa.Column("end", sa.Float(), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector(spek_text_search_config(text), spek_fold(text))", persisted=True),
            nullable=False,
        ),
        sa.Column("embedding", pgvector.sqlalchemy.Vector(), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id"),
    )
    op.create_index(op.f("ix_search_entries_user_id"), "search_entries", ["user_id"], unique=False)
    op.create_index(op.f("ix_search_entries_parent_id"), "search_entries", ["parent_id"], unique=False)
    op.create_index(
        "ix_search_entries_search_vector", "search_entries", ["search_vector"], unique=False, postgresql_using="gin"
    )
    for key, (name, dimension) in MODELS.items():
        op.execute(
            f"CREATE INDEX ix_search_entries_embedding_{key} ON search_entries "
            f"USING hnsw ((embedding::vector({dimension})) vector_cosine_ops) WHERE embedding_model = '{name}'"
        )


def downgrade() -> None:
    for key in MODELS:
        op.execute(f"DROP INDEX ix_search_entries_embedding_{key}")
    op.drop_index("ix_search_entries_search_vector", table_name="search_entries", postgresql_using="gin")
    op.drop_index(op.f("ix_search_entries_parent_id"), table_name="search_entries")
    op.drop_index(op.f("ix_search_entries_user_id"), table_name="search_entries")
    op.drop_table("search_entries")
    op.execute("DROP FUNCTION spek_text_search_config(text)")
    op.execute("DROP FUNCTION spek_fold(text)")
