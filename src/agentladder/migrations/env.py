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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table and drops the old copy: with foreign keys on, the drop
            # deletes every row that references it (ON DELETE CASCADE), a user's roles with the
            # users table. The pragma only works outside a transaction, hence the commits.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                connection.commit()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
