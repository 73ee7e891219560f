"""Issue 11, item 5: key rotation of the members service's personal data. Rows written under the old key k1 are
re-encrypted under k2 (first in PII_KEYS) in batches; the service reads every row throughout, old and new
ciphertexts alike; an interrupted rotation is simply run again and finishes; then nothing is left under k1, and
the old key alone opens nothing."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import uuid

import asyncpg
import pytest
from devstack.testing import ROOT, Stack, StackConfig
from members.pii import SEALED
from vipcore.db import make_engine
from vipcore.pii import Keyring
from vipcore.pii_upkeep import count_stale, rotate

from tests.members.test_member_files import login, setup


class Interrupted(Exception):
    pass


async def test_rotation_reencrypts_everything_while_old_ciphertexts_keep_decrypting(
        stack_config: StackConfig) -> None:
    old, new = "k1=" + secrets.token_hex(16), "k2=" + secrets.token_hex(16)
    stack_config.pii_keys["members"] = f"{new},{old}"  # the new key put first; the old one still listed
    ring, k1 = Keyring.parse(f"{new},{old}"), Keyring.parse(old)
    async with Stack(stack_config, services=("members", "gateway")) as stack:
        await setup(stack, f"135{uuid.uuid4().int % 10**8:08d}")
        s1 = await login(stack, "S1")
        phones = {}
        for i in range(7):
            p = f"135{uuid.uuid4().int % 10**8:08d}"
            r = await s1.post("/v1/member-files", json={"full_name": f"王{'建国立华明丽强'[i]}东", "mobile": p,
                                                        **({"id_card": "61010319900308123X"} if i == 0 else {})})
            assert r.status_code == 201, r.text
            phones[r.json()["member_id"]] = p
        # the rows as written before k2 existed: every ciphertext under k1
        db = await asyncpg.connect(stack_config.db_url("members").replace("+asyncpg", ""))
        try:
            for table, key, cols in (("members", "member_id", ("mobile_enc", "id_card_enc")),
                                     ("staff", "staff_id", ("mobile_enc",))):
                for row in await db.fetch(f"SELECT {key}, {', '.join(cols)} FROM {table}"):
                    for c in cols:
                        if row[c]:
                            await db.execute(f"UPDATE {table} SET {c}=$1 WHERE {key}=$2",
                                             k1.encrypt(ring.decrypt(row[c])), row[key])
            assert all(v.startswith("k1:") for v in await db.fetch("SELECT mobile_enc FROM members")
                       for v in [v["mobile_enc"]])

            async def service_reads_every_file() -> None:
                for mid, p in phones.items():
                    r = await s1.get(f"/v1/member-files/{mid}")
                    assert r.status_code == 200 and r.json()["mobile"] == p, r.text

            await service_reads_every_file()
            engine = make_engine(stack_config.db_url("members"), 2)
            try:
                left = await count_stale(engine, ring, SEALED)
                assert left["members.mobile_enc,id_card_enc"] == 7 and left["staff.mobile_enc"] == 1

                def stop_midway(name: str, done: int, total: int) -> None:
                    if name.startswith("members.") and done >= 2:
                        raise Interrupted()

                with pytest.raises(Interrupted):
                    await rotate(engine, ring, SEALED, batch=2, progress=stop_midway)
                prefixes = {v["mobile_enc"][:3] for v in await db.fetch("SELECT mobile_enc FROM members")}
                assert prefixes == {"k1:", "k2:"}  # half way: both keys in use
                await service_reads_every_file()  # old and new ciphertexts alike
                done = await rotate(engine, ring, SEALED, batch=2)  # run again: it takes what is left
                assert done["members.mobile_enc,id_card_enc"] == 5 and done["staff.mobile_enc"] == 1
                assert not any((await count_stale(engine, ring, SEALED)).values())
            finally:
                await engine.dispose()
            values = [v for r in await db.fetch("SELECT mobile_enc, id_card_enc FROM members") for v in r if v]
            values += [r["mobile_enc"] for r in await db.fetch("SELECT mobile_enc FROM staff WHERE mobile_enc "
                                                              "IS NOT NULL")]
            assert values and all(v.startswith("k2:") for v in values)
            with pytest.raises(KeyError):
                k1.decrypt(values[0])  # the old key alone opens nothing now: it can be dropped
        finally:
            await db.close()
        await service_reads_every_file()
        # the command an operator runs: nothing left to do
        env = {**os.environ, **{k: v for k, v in stack_config.env("members").items()}}
        r = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "members.pii", "status"], env=env,
                                    cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "members.mobile_enc,id_card_enc: 0 not under k2" in r.stdout
        await s1.aclose()
