"""Database wiring: async engine per service, Alembic migrations applied at start, transient-error test."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    # No pre-ping: it costs a BEGIN/ROLLBACK per checkout. A connection that died with the server fails
    # once with a disconnect error, SQLAlchemy drops it, and callers retry transient errors (is_transient).
    # hide_parameters: a failed statement's error (logs, spans, the DLQ's x-dlq-error header) never quotes the bound
    # values, which are mobiles, names and ID numbers as often as not.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800,
                               hide_parameters=True)


def upgrade(sync_url: str, versions_dir: Path, target: str = "head",
            metadata: Sequence[MetaData] | None = None) -> None:
    """Apply a service's Alembic migrations (its own versions folder, the shared env.py, its table metadata).

    Several instances of a service start together (`./dev up --instances 2`): a session advisory lock makes them
    migrate one after the other (the later ones find the database at head), instead of racing to create the
    same tables."""
    import sqlalchemy as sa
    from alembic import command

    from .migrations import alembic_config

    engine = sa.create_engine(sync_url, poolclass=sa.pool.NullPool, hide_parameters=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                command.upgrade(alembic_config(sync_url, versions_dir, metadata), target)
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


MIGRATION_LOCK_KEY = 0x76697063_6D696772  # "vipcmigr": one per database, taken by whoever migrates it


async def upgrade_async(sync_url: str, versions_dir: Path, metadata: Sequence[MetaData] | None = None) -> None:
    await asyncio.to_thread(upgrade, sync_url, versions_dir, "head", metadata)


def is_transient(e: BaseException) -> bool:
    """True for failures that go away by themselves (database or network down): retry, never skip."""
    if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
        return True
    if isinstance(e, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                      sa_exc.DisconnectionError, ConnectionError, OSError, asyncio.TimeoutError)):
        return True
    try:
        import asyncpg

        if isinstance(e, (asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                          asyncpg.InterfaceError)):
            return True
        if isinstance(e, asyncpg.PostgresError) and getattr(e, "sqlstate", "").startswith(("08", "57P")):
            return True
    except ImportError:  # pragma: no cover
        pass
    cause = e.__cause__ or e.__context__
    if isinstance(e, sa_exc.DBAPIError) and cause is not None and cause is not e:
        return is_transient(cause)
    try:
        from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError

        return isinstance(e, (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError))
    except ImportError:  # pragma: no cover
        return False
