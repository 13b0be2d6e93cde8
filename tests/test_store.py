"""The store on its own: migrations, refusal of foreign schemas, pagination bounds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from regard.errors import InvalidInputError, StoreError
from regard.store.database import head_revision, open_engine
from regard.store.repository import Store


def test_new_database_is_migrated_to_head(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'r.db'}")
    with engine.connect() as conn:
        assert conn.scalar(text("select version_num from alembic_version")) == head_revision()
        tables = set(conn.scalars(text("select name from sqlite_master where type='table'")))
        assert {"collections", "subjects", "faces", "user_models"} <= tables
        assert conn.scalar(text("pragma journal_mode")) == "wal"
        assert conn.scalar(text("pragma foreign_keys")) == 1
    engine.dispose()
    open_engine(f"sqlite:///{tmp_path / 'r.db'}").dispose()  # reopening is a no-op


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    open_engine(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("update alembic_version set version_num = '9999_future'")
    with pytest.raises(StoreError, match="newer"):
        open_engine(f"sqlite:///{path}")


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        open_engine(f"sqlite:///{path}")


def test_page_bounds(tmp_path: Path) -> None:
    store = Store(open_engine(f"sqlite:///{tmp_path / 'r.db'}"))
    with pytest.raises(InvalidInputError):
        store.list_collections("t", -1, 10)
    with pytest.raises(InvalidInputError):
        store.list_collections("t", 0, 0)
    with pytest.raises(InvalidInputError):
        store.list_collections("t", 0, 5000)


def test_upgrade_keeps_existing_data(tmp_path: Path) -> None:
    """A database made by the first release is migrated in place; its collections keep working."""
    from alembic import command
    from sqlalchemy import create_engine

    from regard.store.database import _alembic_config

    path = tmp_path / "old.db"
    old = create_engine(f"sqlite:///{path}")
    config = _alembic_config()
    with old.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text(
                "insert into collections (tenant, name, model_id, dimension, description, created_at, revision)"
                " values ('default', 'legacy', 'sface', 128, '', '2025-01-01', 0)"
            )
        )
        conn.execute(
            text(
                "insert into subjects (collection_id, external_id, display_name, created_at)"
                " values (1, 's', 's', '2025-01-01')"
            )
        )
    old.dispose()
    engine = open_engine(f"sqlite:///{path}")
    store = Store(engine)
    ref = store.collection("default", "legacy")
    assert ref.purpose == "" and store.subject_count(ref) == 1
    with engine.connect() as conn:
        assert conn.scalar(text("select version_num from alembic_version")) == head_revision()
        assert conn.scalar(text("select last_interaction_at from subjects")) is not None
