"""Alembic environment: runs against the URL set by agentladder.db.alembic_config."""

from __future__ import annotations

from alembic import context

from agentladder.db import get_engine
from agentladder.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "agentladder.db.alembic_config sets the URL"

# Batch mode lets SQLite alter tables (it copies them); PostgreSQL ignores it.
if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif (shared := config.attributes.get("connection")) is not None:
    # A caller's open connection (a restore): the migrations join its transaction.
    context.configure(
        connection=shared, target_metadata=metadata, render_as_batch=True, compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    with get_engine(url).connect() as connection:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
