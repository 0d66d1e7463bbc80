"""Applying Alembic migrations programmatically, on the archive's own connection.

An archive at the newest revision is recognised with one query against `alembic_version`
(`HEAD_REVISION`); Alembic, whose import costs more than the rest of opening an archive, is loaded
only when that query does not say "current": to migrate, or to judge an archive it cannot.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The revision of the newest file in migrations/versions: change it with every new migration
# (tests/test_startup.py compares it with Alembic's head).
HEAD_REVISION = "0008"
_DOWN_REVISION = re.compile(r"^down_revision\b.*$", re.MULTILINE)


def alembic_config() -> Config:
    from alembic.config import Config  # noqa: PLC0415 - Alembic loads only when it has work

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def _head_is_newest() -> bool:
    """Whether HEAD_REVISION is plainly the newest migration: its file (`NNNN_what.py`) sorts last and no file
    names it as down_revision. A migration added without updating HEAD_REVISION turns the quick check off,
    rather than getting skipped. (Read once: the migrations are code, loaded once like the modules.)"""
    paths = sorted(path for path in (MIGRATIONS_DIR / "versions").glob("*.py") if path.name != "__init__.py")
    if not paths or not paths[-1].name.startswith(f"{HEAD_REVISION}_"):
        return False
    quoted = (f'"{HEAD_REVISION}"', f"'{HEAD_REVISION}'")
    return not any(any(q in line for q in quoted)
                   for path in paths for line in _DOWN_REVISION.findall(path.read_text(encoding="utf-8")))


def _known_current(engine: Engine) -> bool:
    """True when `alembic_version` holds exactly HEAD_REVISION; False when this cannot tell (no version
    table yet, another revision): then Alembic decides, as it always did. A database that cannot be
    reached raises here, as it did from Alembic's check."""
    if not _head_is_newest():
        return False
    with engine.connect() as connection:
        try:
            revisions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except SQLAlchemyError:
            return False
    return list(revisions) == [HEAD_REVISION]


def _alembic_is_current(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def is_current(engine: Engine) -> bool:
    return _known_current(engine) or _alembic_is_current(engine)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op on a current archive."""
    if is_current(engine):
        return
    from alembic import command  # noqa: PLC0415

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        logger.info("migrating archive schema to head")
        command.upgrade(config, "head")
