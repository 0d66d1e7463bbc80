"""Dialect-aware INSERT … ON CONFLICT, the one primitive behind every idempotent write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def dialect_insert(session: Session, model: type[DeclarativeBase]) -> Any:
    """The dialect's INSERT (with ON CONFLICT support) into `model`'s table.

    A Core insert of the table, not the ORM's bulk insert of the class: the ORM's bookkeeping for
    each row (about a tenth of an archived item's write) buys nothing when no object is made."""
    dialect = session.get_bind().dialect.name
    table = cast(Table, model.__table__)
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {dialect}")


def insert_ignoring_conflict(
    session: Session,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """Insert a row unless one with the same key exists; True when this call inserted it."""
    key = model.__table__.primary_key.columns.values()[0]  # type: ignore[attr-defined]
    stmt = dialect_insert(session, model).on_conflict_do_nothing(index_elements=list(conflict_columns)).returning(key)
    # The values as parameters, not .values(): the statement's cache key then does not walk every
    # value, and its compiled form is reused. RETURNING yields a row only when the insert happened
    # (rowcount is not reliable across drivers).
    return session.execute(stmt, dict(values)).first() is not None


def upsert_row(
    session: Session,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> None:
    """Insert a row, or overwrite the non-key columns of the existing one."""
    stmt: Insert = dialect_insert(session, model).values(**values)
    updates = {name: value for name, value in values.items() if name not in conflict_columns}
    session.execute(
        stmt.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=list(conflict_columns), set_=updates
        )
    )
