"""Serialised writes: the one place that knows how each database takes a write lock before reading.

A limit checked on a count read in one transaction and enforced in another lets
concurrent writers race past it (six processes enrolling under a limit of three
all succeed).  So a write that depends on what it reads takes the lock first and
reads inside the same transaction:

* SQLite has one writer at a time.  ``BEGIN IMMEDIATE`` takes the write lock
  before the first read; other writers wait for it (``busy_timeout``) instead of
  reading a count that is about to change, or failing when their snapshot turns
  out stale.
* PostgreSQL locks rows: ``SELECT ... FOR UPDATE`` on the row the limit belongs
  to (the collection) makes the next writer of that collection wait until this
  transaction ends, then read what it wrote.

Both go through SQLAlchemy; SQLite ignores ``FOR UPDATE`` and PostgreSQL has no
``BEGIN IMMEDIATE``, so calling both is right on either.
"""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from regard.store.tables import CollectionRow


def begin_write(target: Session | Connection) -> None:
    """Take SQLite's write lock now, at the start of the transaction (nothing to do on other databases).

    Must come before the transaction's first write; a transaction that has
    already written holds the lock, and this does nothing.
    """
    connection = target.connection() if isinstance(target, Session) else target
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:  # type: ignore[attr-defined]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_collection(session: Session, collection_id: int) -> None:
    """Serialise every writer of one collection until this transaction ends (its subject count stays true)."""
    begin_write(session)
    session.execute(select(CollectionRow.id).where(CollectionRow.id == collection_id).with_for_update())
