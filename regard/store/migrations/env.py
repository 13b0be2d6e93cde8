"""Alembic environment: runs on the connection the store hands over (no ini file needed)."""

from __future__ import annotations

from alembic import context

import regard.store.audit_tables  # registers the fairness audit tables
import regard.store.governance_tables  # noqa: F401  (registers the governance tables)
from regard.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when run through the alembic CLI
    from sqlalchemy import create_engine

    connection = create_engine(context.config.get_main_option("sqlalchemy.url") or "").connect()

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
