"""Opening the database: engine settings that keep SQLite safe, and migrations to head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DatabaseError, OperationalError

from regard.errors import StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; a killed writer's transaction is rolled back on reopen.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Deleted templates and thumbnails are overwritten with zeros, not left in free pages (see Store.scrub).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def normalise_url(url: str) -> str:
    """PostgreSQL URLs use psycopg 3 unless they name another driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def open_engine(url: str) -> Engine:
    """Create the engine and bring the schema to the latest migration (SQLite or PostgreSQL)."""
    url = normalise_url(url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        _make_folder(Path(url.removeprefix("sqlite:///")).parent)
    if url.startswith("postgresql"):
        # A server restarted under us leaves dead pooled connections: check before use.
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        upgrade_to_head(engine)
    except (DatabaseError, OperationalError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open the database at {engine.url!r}: {exc.orig}") from exc
    except StoreError:
        engine.dispose()
        raise
    return engine


def _make_folder(folder: Path) -> None:
    """The database's folder (the data directory), or a one-line StoreError saying what is wrong with it."""
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder} is not a folder: point REGARD_DATA_DIR (or --data-dir) at a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data directory {folder}: {exc.strerror}") from None


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""


def upgrade_to_head(engine: Engine) -> None:
    """Apply pending migrations; refuse a database written by a newer Regard."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _alembic_config()
    script = ScriptDirectory.from_config(config)
    with engine.begin() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
            raise StoreError(f"database schema {current} is newer than this Regard ({script.get_current_head()})")
        if current == script.get_current_head():
            return
        if current is None and inspect(connection).has_table("collections"):
            raise StoreError("database has Regard tables but no migration record; refusing to touch it")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
