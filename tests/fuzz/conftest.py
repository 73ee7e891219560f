"""One stack per fuzz module (starting five services takes ~15 s; the fuzz tests share it), seeded with what
gets requests past authentication: a store with its POS API key, and one logged-in staff member per role."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio
from devstack import postgres
from devstack.testing import Stack, StackConfig, pg_admin_env, pg_admin_password

STORE = "FZ-001"
ROLES = ("hq_admin", "hq_cs", "store_manager", "store_cs_manager", "staff", "auditor")


@dataclass
class Seeded:
    stack: Stack
    store_id: str
    api_key: str
    staff_tokens: dict[str, str] = field(default_factory=dict)  # role -> staff token
    staff_ids: dict[str, str] = field(default_factory=dict)     # role -> staff id


@pytest_asyncio.fixture(scope="module")
async def seeded(kafka_bootstrap: str, pg_node: postgres.PgNode | None) -> AsyncIterator[Seeded]:
    host, port = pg_admin_env() or ("127.0.0.1", pg_node.port if pg_node else 5432)
    async with Stack(StackConfig(pg_host=host, pg_port=port, kafka_bootstrap=kafka_bootstrap,
                                 pg_password=pg_admin_password(pg_node))) as stack:
        key = await stack.add_store(STORE, "jewelry")
        suffix = secrets.token_hex(3)
        ids = {role: f"FZ-{role}-{suffix}" for role in ROLES}
        r = await stack.admin.post(f"{stack.url('members')}/v1/staff", json=[
            {"staff_id": sid, "store_id": STORE, "name": f"测试{role}", "position": "fuzz", "role": role,
             "password": f"pw-{sid}-long"} for role, sid in ids.items()])
        assert r.status_code == 201, r.text
        tokens = {}
        for role, sid in ids.items():
            r = await stack.admin.post(f"{stack.url('members')}/v1/auth/login",
                                       json={"staff_id": sid, "password": f"pw-{sid}-long"})
            assert r.status_code == 200, r.text
            tokens[role] = r.json()["token"]
        yield Seeded(stack, STORE, key, tokens, ids)
