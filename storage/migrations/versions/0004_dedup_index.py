"""dedup_keys: URL, MinHash band and anchor keys of the dedup index

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dedup_keys",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_dedup_keys_item_id_items"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "day", "item_id", name=op.f("pk_dedup_keys")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("dedup_keys")
