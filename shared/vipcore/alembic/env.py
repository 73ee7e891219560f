"""Shared Alembic environment: each service passes its own versions folder, database URL and table metadata.

The metadata (`config.attributes["target_metadata"]`, set by vipcore.migrations) is what autogenerate and
`alembic check` compare the database with; migrations themselves never read it (they are written out).
"""

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
target_metadata = config.attributes.get("target_metadata")


def run() -> None:
    engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, transaction_per_migration=True,
                          compare_type=True, compare_server_default=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, compare_type=True,
                      compare_server_default=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
