"""Loyalty's migration 0003 upgrades a database made before stored-value holds (L-11) without losing balances."""

from __future__ import annotations

import asyncpg
from devstack.testing import Stack, sql_value
from loyalty.bootstrap import MIGRATIONS
from vipcore.db import upgrade_async


async def test_l11_migration_0003_adds_holds_to_a_0002_database(stack: Stack) -> None:
    conn = await asyncpg.connect(stack.cfg.db_url("loyalty").replace("+asyncpg", ""))
    try:  # back to what 0002 left: no holds table, no held column, a member with 500 yuan
        await conn.execute("DROP TABLE stored_value_holds; ALTER TABLE stored_value DROP COLUMN held; "
                           "UPDATE alembic_version SET version_num = 'loyalty_0002'; "
                           "INSERT INTO stored_value (member_id, program, balance) VALUES ('M-old', 'generic', 50000)")
    finally:
        await conn.close()
    await upgrade_async(stack.cfg.settings("loyalty").sync_database_url, MIGRATIONS)
    assert await sql_value(stack.cfg, "loyalty", "SELECT version_num FROM alembic_version") == "loyalty_0003"
    assert await sql_value(stack.cfg, "loyalty", "SELECT balance - held FROM stored_value WHERE member_id=$1",
                           "M-old") == 50000
    assert await sql_value(stack.cfg, "loyalty", "SELECT count(*) FROM stored_value_holds") == 0
    conn = await asyncpg.connect(stack.cfg.db_url("loyalty").replace("+asyncpg", ""))
    try:  # the guarantee holds on the upgraded database too: never more held than the balance
        try:
            await conn.execute("UPDATE stored_value SET held = 50001 WHERE member_id = 'M-old'")
            raise AssertionError("held above the balance was accepted")
        except asyncpg.CheckViolationError:
            pass
    finally:
        await conn.close()
