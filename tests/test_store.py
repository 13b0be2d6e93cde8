"""The store on its own: migrations, refusal of foreign schemas, pagination bounds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text, update

from regard.errors import InvalidInputError, StoreError
from regard.store.database import head_revision, normalise_url, open_engine
from regard.store.locking import serialise
from regard.store.repository import Store
from regard.store.tables import CollectionRow


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


def test_migrated_to_head_on_each_backend(database_url: str) -> None:
    engine = open_engine(database_url)
    with engine.connect() as conn:
        assert conn.scalar(text("select version_num from alembic_version")) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"collections", "subjects", "faces", "user_models", "ledger_entries", "deployments"} <= tables
    engine.dispose()
    open_engine(database_url).dispose()  # reopening is a no-op


def test_newer_schema_is_refused(database_url: str) -> None:
    engine = open_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("update alembic_version set version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer"):
        open_engine(database_url)


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_unreachable_postgres_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        open_engine(f"postgresql+psycopg://nobody@/regard?host={tmp_path}&connect_timeout=2")


def test_named_lock_serialises_check_and_write(database_url: str) -> None:
    """Read, pause, write back +1 from 6 threads: with the lock no increment is lost, on either backend."""
    store = Store(open_engine(database_url))
    store.create_collection("t", "c", "sface", 128, "")
    ref = store.collection("t", "c")
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(5):
                with store.transaction() as session:
                    serialise(session, f"collection:{ref.id}")
                    seen = session.scalar(select(CollectionRow.revision).where(CollectionRow.id == ref.id))
                    time.sleep(0.005)  # widen the window a lost update needs
                    session.execute(update(CollectionRow).where(CollectionRow.id == ref.id).values(revision=seen + 1))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.revision(ref.id) == 30
    store.engine.dispose()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        open_engine(f"sqlite:///{path}")


def test_page_bounds(database_url: str) -> None:
    store = Store(open_engine(database_url))
    with pytest.raises(InvalidInputError):
        store.list_collections("t", -1, 10)
    with pytest.raises(InvalidInputError):
        store.list_collections("t", 0, 0)
    with pytest.raises(InvalidInputError):
        store.list_collections("t", 0, 5000)
    store.engine.dispose()


def test_upgrade_keeps_existing_data(database_url: str) -> None:
    """A database made by the first release is migrated in place; its collections keep working."""
    from alembic import command
    from sqlalchemy import create_engine

    from regard.store.database import _alembic_config

    Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    old = create_engine(database_url)
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
    engine = open_engine(database_url)
    store = Store(engine)
    ref = store.collection("default", "legacy")
    assert ref.purpose == "" and store.subject_count(ref) == 1
    with engine.connect() as conn:
        assert conn.scalar(text("select version_num from alembic_version")) == head_revision()
        assert conn.scalar(text("select last_interaction_at from subjects")) is not None
    engine.dispose()


def test_concurrent_enrollments_of_one_new_subject(database_url: str) -> None:
    """Four threads create the same subject at once: one subject row, every template kept, no unique-key error."""
    import numpy as np

    from regard.store.repository import NewFace

    store = Store(open_engine(database_url))
    store.create_collection("t", "c", "sface", 4, "")
    ref = store.collection("t", "c")
    errors: list[BaseException] = []

    def enroll(worker: int) -> None:
        try:
            for i in range(3):
                face = NewFace(np.full(4, 0.5, np.float32), "sface", (0, 0, 9, 9), 0.9, {}, f"{worker}-{i}")
                store.add_faces(ref, "same-person", None, [face])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=enroll, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.subject_count(ref) == 1 and len(store.template_ids(ref)) == 12
    store.engine.dispose()
