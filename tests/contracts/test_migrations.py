"""Every service's migrations, written out, give exactly its tables: an empty database upgraded to head has no drift
from the models (`<service>.adapters.tables` + `vipcore.outbox` + `vipcore.dlq`), and downgrade to base then upgrade
again works.

Alembic's comparison covers tables, columns (types, nullability, server defaults, comments, identities), primary,
unique and foreign keys and indexes; what it does not compare — named CHECK constraints, partial-index predicates,
sequences — is compared here from the reflected database. A revision may not build from the live tables
(`create_all`, importing `adapters.tables`) nor guard with existence checks: a fresh database and an upgraded one
must go through the same statements.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from devstack.testing import SERVICES, create_database, pg_admin_env, pg_admin_password
from vipcore.migrations import alembic_config, target_metadata, versions_dir

pytestmark = pytest.mark.integration

FORBIDDEN = re.compile(r"create_all|drop_all|if[ _]not[ _]exists|if[ _]exists|has_table|to_regclass|get_columns"
                       r"|inspect\(|adapters\.tables|adapters import", re.IGNORECASE)


@pytest.fixture(scope="module")
def pg_host_port(pg_node: Any) -> tuple[str, int, str | None]:
    return (*(pg_admin_env() or ("127.0.0.1", pg_node.port)), pg_admin_password(pg_node))


@pytest_asyncio.fixture
async def fresh_db(pg_host_port: tuple[str, int, str | None]) -> AsyncIterator[str]:
    """A new, empty database (random name) on the test server, owned by a login role of its own as a service's is
    (no superuser): the migrations run as that role. Its psycopg URL; dropped afterwards."""
    host, port, password = pg_host_port
    admin = f"postgresql://postgres{':' + password if password else ''}@{host}:{port}/postgres"
    name, role_pw = f"tmig_{secrets.token_hex(5)}", secrets.token_hex(12)
    await create_database(admin, name, (name, role_pw))
    yield f"postgresql+psycopg://{name}:{role_pw}@{host}:{port}/{name}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await conn.close()


@pytest.fixture
def engine(fresh_db: str) -> Iterator[sa.Engine]:
    e = sa.create_engine(fresh_db, poolclass=sa.pool.NullPool)
    yield e
    e.dispose()


def _norm(sql: str | None) -> str:
    """A predicate as PostgreSQL prints it, and as SQLAlchemy compiles it, reduced to the same words."""
    s = re.sub(r"::[a-z ]+", "", (sql or "").lower())
    return re.sub(r"[()\s]+", " ", s).strip()


def _where(index: sa.Index, dialect: Any) -> str | None:
    where = index.dialect_options["postgresql"].get("where")
    if where is None:
        return None
    if isinstance(where, str):
        return where
    return str(dialect.statement_compiler(dialect, None).process(where, include_table=False, literal_binds=True))


def drift(conn: sa.Connection, service: str) -> list[Any]:
    """Differences between the database and the service's models (empty list: none)."""
    mds = target_metadata(service)
    mc = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    diffs: list[Any] = list(compare_metadata(mc, mds))  # type: ignore[arg-type]  # a sequence of MetaData works
    insp = sa.inspect(conn)
    for md in mds:
        for table in md.tables.values():
            want_checks = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            have_checks = {c["name"] for c in insp.get_check_constraints(table.name)}
            if want_checks != have_checks:
                diffs.append(("check constraints", table.name, sorted(want_checks), sorted(have_checks)))
            have_where = {i["name"]: i.get("dialect_options", {}).get("postgresql_where")
                          for i in insp.get_indexes(table.name)}
            for index in table.indexes:
                want, have = _norm(_where(index, conn.dialect)), _norm(have_where.get(str(index.name)))
                if want != have:
                    diffs.append(("partial index predicate", index.name, want, have))
    want_seqs = {s.name for md in mds for s in md._sequences.values()}
    have_seqs = set(standalone_sequences(conn))
    if want_seqs != have_seqs:
        diffs.append(("sequences", sorted(want_seqs), sorted(have_seqs)))
    return diffs


def standalone_sequences(conn: sa.Connection) -> list[str]:
    """Sequences other than those behind identity columns (which come and go with their tables)."""
    return list(conn.scalars(sa.text(
        "SELECT c.relname FROM pg_class c WHERE c.relkind = 'S' AND NOT EXISTS "
        "(SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('i', 'a'))")))


def leftovers(conn: sa.Connection) -> list[str]:
    """What a downgrade to base left behind: tables, views, sequences, functions, types."""
    insp = sa.inspect(conn)
    found = [t for t in insp.get_table_names() if t != "alembic_version"] + insp.get_view_names()
    found += list(conn.scalars(sa.text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'S'")))
    found += list(conn.scalars(sa.text(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'")))
    found += list(conn.scalars(sa.text(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0")))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_revisions_are_written_out(service: str) -> None:
    """No revision builds from today's tables or guards against what exists; one line of revisions."""
    folder = versions_dir(service)
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused", folder))
    revisions = list(script.walk_revisions())
    assert revisions, f"{service} has no migrations"
    assert len(script.get_heads()) == 1, f"{service}: one head expected, got {script.get_heads()}"
    for rev in revisions:
        assert rev.revision.startswith(f"{service}_"), rev.revision
        path = Path(str(rev.path))
        found = FORBIDDEN.findall(path.read_text().replace(rev.module.__doc__ or "", ""))  # code, not the docstring
        assert not found, f"{path.name} uses {found}: write the operations out"


@pytest.mark.parametrize("service", SERVICES)
async def test_upgrade_to_head_has_no_drift_and_downgrade_then_upgrade_works(service: str, fresh_db: str,
                                                                             engine: sa.Engine) -> None:
    cfg = alembic_config(fresh_db, versions_dir(service), target_metadata(service))
    await asyncio.to_thread(command.upgrade, cfg, "head")
    with engine.connect() as conn:
        assert drift(conn, service) == []
    await asyncio.to_thread(command.downgrade, cfg, "base")
    with engine.connect() as conn:
        assert leftovers(conn) == [], "downgrade to base left these behind"
    await asyncio.to_thread(command.upgrade, cfg, "head")
    with engine.connect() as conn:
        assert drift(conn, service) == []
    await asyncio.to_thread(command.check, cfg)  # what `python -m vipcore.migrations <service> check` runs


async def test_l11_held_never_above_balance_on_a_migrated_database(fresh_db: str) -> None:
    """L-11: the database itself refuses a hold above the balance (the CHECK the loyalty migration writes)."""
    cfg = alembic_config(fresh_db, versions_dir("loyalty"))
    await asyncio.to_thread(command.upgrade, cfg, "head")
    conn = await asyncpg.connect(fresh_db.replace("+psycopg", ""))
    try:
        await conn.execute("INSERT INTO stored_value (member_id, program, balance) VALUES ('M-1', 'generic', 50000)")
        assert await conn.fetchval("SELECT balance - held FROM stored_value WHERE member_id = 'M-1'") == 50000
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE stored_value SET held = 50001 WHERE member_id = 'M-1'")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE stored_value SET held = -1 WHERE member_id = 'M-1'")
    finally:
        await conn.close()
