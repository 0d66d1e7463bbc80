"""item_search: the full-text search index (SQLite FTS5, PostgreSQL tsvector + GIN), backfilled

Revision ID: 0007
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from storage import search

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Not contentless: SQLite 3.40 has no contentless_delete, and re-indexing an edited item
        # must delete its old row without knowing the old text.
        op.execute(
            f"CREATE VIRTUAL TABLE {search.INDEX_TABLE} USING fts5("
            f"title, text, title_folded, text_folded, tokenize=\"{search.SQLITE_TOKENIZER}\")"
        )
    else:
        op.create_table(
            search.INDEX_TABLE,
            sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("document", TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_item_search_item_id_items",
                                    ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("item_id", name="pk_item_search"),
        )
        op.create_index("ix_item_search_document", search.INDEX_TABLE, ["document"], postgresql_using="gin")
    search.backfill(bind)


def downgrade() -> None:
    op.drop_table(search.INDEX_TABLE)
