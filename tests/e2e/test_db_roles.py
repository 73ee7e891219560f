"""PostgreSQL with passwords and one least-privileged role per service (issue 11, item 6).

A server of its own (the shared test server may trust loopback): scram-sha-256 for TCP and the local socket, the
superuser's password needed for administration, each service's role owning its database and reaching no other."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from devstack import postgres
from devstack.procs import free_port
from devstack.testing import StackConfig

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def scram_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[postgres.PgNode]:
    home = Path(tmp_path_factory.mktemp("pg-scram"))
    # made first without passwords, as the dev system's older clusters were: start() must switch it to scram
    old = postgres.PgNode(home=home, port=free_port(), durable=False)
    postgres.start(old)
    postgres.stop(old)
    node = postgres.PgNode(home=home, port=old.port, durable=False, password=secrets.token_urlsafe(18))
    roles = {s: secrets.token_urlsafe(12) for s in postgres.SERVICE_DATABASES}
    postgres.start(node, roles=roles)
    object.__setattr__(node, "roles", roles)
    yield node
    postgres.wipe(node)


def dsn(node: postgres.PgNode, user: str, password: str | None, db: str) -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgresql://{auth}@127.0.0.1:{node.port}/{db}"


async def refused(target: str, **kw: object) -> str:
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError)) as e:
        conn = await asyncpg.connect(target, **kw)
        await conn.close()
    return type(e.value).__name__


async def test_nobody_connects_without_the_password_over_tcp_or_the_socket(scram_node: postgres.PgNode) -> None:
    n = scram_node
    assert await refused(dsn(n, "postgres", None, "postgres")) in (
        "InvalidPasswordError", "InvalidAuthorizationSpecificationError", "InterfaceError")
    assert await refused(dsn(n, "postgres", "wrong", "postgres")) == "InvalidPasswordError"
    assert await refused(dsn(n, "gateway", None, "gateway"))  # a service role without its password
    # the local socket asks for a password too (no `trust` left in pg_hba.conf)
    assert await refused(f"postgresql://postgres@/postgres?host={n.home}&port={n.port}")
    hba = (n.data / "pg_hba.conf").read_text()
    assert "trust" not in hba and "scram-sha-256" in hba
    admin = await asyncpg.connect(dsn(n, "postgres", n.password, "postgres"))
    try:
        assert await admin.fetchval("SHOW password_encryption") == "scram-sha-256"
        assert await admin.fetchval("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid "
                                    "WHERE rolname = 'gateway'")
    finally:
        await admin.close()


async def test_each_service_role_owns_its_database_and_reaches_no_other(scram_node: postgres.PgNode) -> None:
    n, pw = scram_node, scram_node.roles  # type: ignore[attr-defined]
    gw = await asyncpg.connect(dsn(n, "gateway", pw["gateway"], "gateway"))
    try:
        await gw.execute("CREATE TABLE IF NOT EXISTS probe (x int)")  # its migrations run as itself: it owns the db
        await gw.execute("INSERT INTO probe VALUES (1)")
        row = await gw.fetchrow("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'gateway'")
        assert tuple(row) == (False, False, False)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await gw.execute("CREATE DATABASE sneaky")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await gw.execute("CREATE ROLE sneaky")
    finally:
        await gw.close()
    # another service's database: no CONNECT, whether with its own password or trying the other's role
    assert await refused(dsn(n, "gateway", pw["gateway"], "members")) == "InsufficientPrivilegeError"
    assert await refused(dsn(n, "members", pw["members"], "gateway")) == "InsufficientPrivilegeError"
    assert await refused(dsn(n, "members", pw["gateway"], "members")) == "InvalidPasswordError"  # not its password


async def test_stack_config_makes_a_role_per_service_on_a_password_server(scram_node: postgres.PgNode) -> None:
    """The test harness on a scram server: databases made by the superuser, services connect as their role."""
    cfg = StackConfig(pg_host="127.0.0.1", pg_port=scram_node.port, kafka_bootstrap="127.0.0.1:9",
                      pg_password=scram_node.password)
    await cfg.create_service_database("loyalty")
    await cfg.create_service_database("credit")
    conn = await asyncpg.connect(cfg.db_url("loyalty").replace("+asyncpg", ""))
    try:
        assert await conn.fetchval("SELECT current_user") == cfg.db_role("loyalty")
        assert await conn.fetchval("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1",
                                   cfg.db_name("loyalty")) == cfg.db_role("loyalty")
    finally:
        await conn.close()
    other = cfg.db_url("loyalty").replace("+asyncpg", "").rsplit("/", 1)[0] + "/" + cfg.db_name("credit")
    assert await refused(other) == "InsufficientPrivilegeError"
