"""Bulk export of member files as a background job (M-07: bulk export is its own permission, files.export; every
file exported, and every download, is written to the access log; issue 12: long work shows live progress), on
members alone: the scope per role (HQ every store, a store manager their own), the filters, the CSV (UTF-8 with a
BOM, Chinese intact, masked as search masks), one access-log row per chunk naming every member id, a refused role's
403 naming its rule, a job interrupted by a stopped process marked failed, and an export past the old 10,000 cap."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.testing import ServiceProcess, Stack, StackConfig, sql_value, wait_for
from sqlalchemy.ext.asyncio import create_async_engine

from tests.members.test_member_files import login, mobile

pytestmark = pytest.mark.integration
STORE, OTHER = "EX-101", "EX-202"  # region 755; HQ in 000, as test_member_files.login expects
NAMES = ("韩雪梅", "唐国强", "李晓红")


async def seed(stack: Stack) -> None:
    m = stack.url("members")
    for store, region in ((STORE, "755"), (OTHER, "755"), ("EX-HQ", "000")):
        r = await stack.admin.post(f"{m}/v1/stores", json={"store_id": store, "name": f"店{store}",
                                                             "region_code": region, "program": "jewelry"})
        assert r.status_code == 201, r.text
    people = [("X-S1", STORE, "staff"), ("X-SM", STORE, "store_manager"), ("X-OM", OTHER, "store_manager"),
              ("X-CS", STORE, "store_cs_manager"), ("X-ADM", "EX-HQ", "hq_admin"), ("X-AUD", "EX-HQ", "auditor")]
    r = await stack.admin.post(f"{m}/v1/staff", json=[
        {"staff_id": s, "store_id": store, "name": f"员工{s}", "position": "customer-service representative",
         "role": role, "password": "pw-" + s + "-long"} for s, store, role in people])
    assert r.status_code == 201, r.text


async def finished(c: httpx.AsyncClient, export_id: str, timeout: float = 120) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    async def done() -> Any:
        r = await c.get(f"/v1/member-file-exports/{export_id}")
        assert r.status_code == 200, r.text
        seen.append(r.json())
        return r.json() if r.json()["state"] != "running" else None

    return dict(await wait_for(done, timeout, f"export {export_id} finished"))


async def export(c: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    r = await c.post("/v1/member-file-exports", json={"reason": "季度回访名单", **body})
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["state"] in ("running", "done") and started["file"] in (None, f"/v1/member-file-exports/"
                                                                                  f"{started['export_id']}/file")
    got = await finished(c, started["export_id"])
    assert got["state"] == "done", got
    return got


async def rows_of(c: httpx.AsyncClient, export_id: str) -> list[dict[str, str]]:
    r = await c.get(f"/v1/member-file-exports/{export_id}/file")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8: Chinese intact
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))


async def logged(stack: Stack, export_id: str, action: str) -> list[list[str]]:
    """The access-log rows of one export (its reason names the export), each with its member ids."""
    import asyncpg

    conn = await asyncpg.connect(stack.cfg.db_url("members").replace("+asyncpg", ""))
    try:
        rows = await conn.fetch("SELECT staff_id, member_ids FROM access_log WHERE action = $1 AND reason LIKE $2 "
                                "ORDER BY id", action, f"% (export {export_id})")
    finally:
        await conn.close()
    return [list(r["member_ids"]) for r in rows]


async def test_m07_export_scope_per_role_masked_csv_and_every_id_access_logged(members_only: Stack) -> None:
    stack = members_only
    await seed(stack)
    mine = await stack.add_members([{"store_id": STORE, "full_name": n, "mobile": mobile(),
                                     "referrer_staff_id": "X-S1"} for n in NAMES])
    theirs = await stack.add_members([{"store_id": OTHER, "full_name": n, "mobile": mobile()}
                                      for n in ("王建国", "=HYPERLINK(1)")])
    adm, sm, om, s1, cs, aud = [await login(stack, s) for s in ("X-ADM", "X-SM", "X-OM", "X-S1", "X-CS", "X-AUD")]

    # HQ admin: every store's files
    hq = await export(adm)
    assert (hq["total"], hq["done"], hq["percent"], hq["started_by"]) == (5, 5, 100.0, "X-ADM")
    assert hq["reason"] == "季度回访名单" and hq["filters"]["store_id"] is None
    rows = await rows_of(adm, hq["export_id"])
    assert {r["member_id"] for r in rows} == {m["member_id"] for m in mine + theirs}
    by_id = {r["member_id"]: r for r in rows}
    first = by_id[mine[0]["member_id"]]
    assert first["full_name"] == "韩*梅" and first["store_id"] == STORE  # masked as HQ's search shows it
    assert "*" in first["mobile"] and first["mobile"][:3] == "139" and len(first["mobile"]) == 11
    assert by_id[theirs[1]["member_id"]]["full_name"].startswith("'=")  # never a formula (vipcore.exports)
    # M-07: one access-log row per chunk, naming every member id exported; the download logged as well
    assert sorted(sum(await logged(stack, hq["export_id"], "export"), [])) == sorted(by_id)
    assert sorted(sum(await logged(stack, hq["export_id"], "export:download"), [])) == sorted(by_id)
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM access_log WHERE action = 'export' AND "
                           "staff_id = 'X-ADM'") == 1  # 5 files, one chunk: one row, not one per member

    # a store manager: their store only, whatever they ask; naming another store is refused (M-07)
    own = await export(sm, status="active")
    assert {r["member_id"] for r in await rows_of(sm, own["export_id"])} == {m["member_id"] for m in mine}
    assert own["filters"]["store_id"] == STORE
    r = await sm.post("/v1/member-file-exports", json={"reason": "x", "store_id": OTHER})
    assert r.status_code == 403 and {(e["field"], e["rule"]) for e in r.json()["errors"]} == {("store_id", "M-07")}
    other = await export(om)
    assert {r["member_id"] for r in await rows_of(om, other["export_id"])} == {m["member_id"] for m in theirs}

    # HQ filters: one store, registration days (in the store's zone)
    one = await export(adm, store_id=OTHER)
    assert one["total"] == 2
    await sql_value(stack.cfg, "members", "UPDATE members SET created_at = '2026-01-15 02:00+00' WHERE member_id = $1 "
                    "RETURNING 1", mine[1]["member_id"])
    jan = await export(adm, registered_from="2026-01-15", registered_to="2026-01-15")
    assert [r["member_id"] for r in await rows_of(adm, jan["export_id"])] == [mine[1]["member_id"]]
    r = await adm.post("/v1/member-file-exports", json={"reason": "x", "registered_from": "2026-02-01",
                                                        "registered_to": "2026-01-01"})
    assert r.status_code == 422

    # O-02: a role without files.export is refused, naming the rule; no job, nothing logged
    for c in (s1, cs, aud):
        r = await c.post("/v1/member-file-exports", json={"reason": "x"})
        assert r.status_code == 403 and [e["rule"] for e in r.json()["errors"]] == ["O-02"], r.text
        assert (await c.get("/v1/member-file-exports")).status_code == 403
    assert (await sm.post("/v1/member-file-exports", json={})).status_code == 422  # the reason is required

    # only the starter or an HQ admin follows or downloads an export (M-07)
    for path in (f"/v1/member-file-exports/{own['export_id']}", f"/v1/member-file-exports/{own['export_id']}/file"):
        r = await om.get(path)
        assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "M-07", r.text
    assert len(await rows_of(adm, own["export_id"])) == 3
    downloads = await logged(stack, own["export_id"], "export:download")  # the store manager's, then HQ's
    assert [sorted(d) for d in downloads] == [sorted(m["member_id"] for m in mine)] * 2

    # the list: newest first, paged; a store manager sees their own, HQ admin everyone's (or one person's)
    r = await sm.get("/v1/member-file-exports")
    assert [e["export_id"] for e in r.json()["exports"]] == [own["export_id"]] and r.json()["next_before"] is None
    every = (await adm.get("/v1/member-file-exports", params={"limit": 2})).json()
    assert [e["export_id"] for e in every["exports"]] == [jan["export_id"], one["export_id"]]
    nxt = (await adm.get("/v1/member-file-exports", params={"limit": 2, "before": every["next_before"]})).json()
    assert [e["export_id"] for e in nxt["exports"]] == [other["export_id"], own["export_id"]]
    r = await adm.get("/v1/member-file-exports", params={"started_by": "X-SM"})
    assert [e["export_id"] for e in r.json()["exports"]] == [own["export_id"]]
    assert (await adm.get("/v1/member-file-exports/Enope")).status_code == 404
    for c in (adm, sm, om, s1, cs, aud):
        await c.aclose()


async def test_m07_export_interrupted_by_a_stopped_process_reads_as_failed(members_only: Stack) -> None:
    """A job whose process was killed keeps no heartbeat: it reads as failed (on read and by the sweeper that runs
    at start-up), never running forever, and its part-written file is never offered."""
    from members.service.exports import ExportSweeper, FileExports

    stack = members_only
    await seed(stack)
    await stack.add_members([{"store_id": STORE, "full_name": n, "mobile": mobile()} for n in NAMES])
    adm = await login(stack, "X-ADM")
    jobs = [(await export(adm))["export_id"] for _ in range(2)]
    # as a killed process leaves them: running, the heartbeat 10 minutes old
    for job in jobs:
        await sql_value(stack.cfg, "members", "UPDATE member_file_exports SET state = 'running', finished_at = NULL, "
                        "done = 1, heartbeat_at = now() - interval '10 minutes' WHERE export_id = $1 RETURNING 1",
                        job)
    # on read
    got = (await adm.get(f"/v1/member-file-exports/{jobs[0]}")).json()
    assert got["state"] == "failed" and "interrupted" in got["error"] and got["file"] is None
    r = await adm.get(f"/v1/member-file-exports/{jobs[0]}/file")
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-07"
    # by the sweeper the service runs at start-up (and every minute)
    engine = create_async_engine(stack.cfg.db_url("members"))
    try:
        await ExportSweeper(FileExports(engine, None, None, clock=_now)).tick()  # type: ignore[arg-type]
    finally:
        await engine.dispose()
    assert await sql_value(stack.cfg, "members", "SELECT state FROM member_file_exports WHERE export_id = $1",
                           jobs[1]) == "failed"
    # a fresh heartbeat is left alone
    await sql_value(stack.cfg, "members", "UPDATE member_file_exports SET state = 'running', heartbeat_at = now() "
                    "WHERE export_id = $1 RETURNING 1", jobs[1])
    assert (await adm.get(f"/v1/member-file-exports/{jobs[1]}")).json()["state"] == "running"
    await adm.aclose()


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_m07_export_of_12000_files_goes_past_the_old_cap_in_chunks(members_only: Stack) -> None:
    """The synchronous GET /v1/member-files:export answered at most 10,000 files; the job has no cap: 12,000 files
    in keyset chunks of 5,000, one access-log row per chunk, progress visible while it runs."""
    stack = members_only
    await seed(stack)
    for batch in range(12):
        await stack.add_members([{"store_id": STORE if i % 2 else OTHER, "full_name": f"会员{batch:02d}{i:04d}",
                                  "mobile": f"137{batch:02d}{i:06d}"} for i in range(1000)])  # all distinct
    adm = await login(stack, "X-ADM")
    r = await adm.post("/v1/member-file-exports", json={"reason": "全量备份"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["total"] == 12000
    got = await finished(adm, job["export_id"])
    assert (got["state"], got["done"], got["total"]) == ("done", 12000, 12000)
    rows = await rows_of(adm, job["export_id"])
    assert len(rows) == 12000 and len({r["member_id"] for r in rows}) == 12000
    assert rows[0]["full_name"].startswith("会")
    chunks = await logged(stack, job["export_id"], "export")
    assert [len(c) for c in chunks] == [5000, 5000, 2000]
    assert {m for c in chunks for m in c} == {r["member_id"] for r in rows}
    await adm.aclose()


@dataclass
class KillConfig(StackConfig):
    """Small chunks (the export takes a while) and a 3-second heartbeat limit (a restart finds the job stale)."""

    def env(self, service: str) -> dict[str, str]:
        return {**super().env(service), "EXPORT_CHUNK_ROWS": "100", "EXPORT_STALE_S": "3"}


async def test_m07_export_of_a_killed_process_is_failed_by_the_sweeper_at_start_up(stack_config: StackConfig,
                                                                                   tmp_path: Path) -> None:
    """The members process is killed (SIGKILL) in the middle of an export: the job is left `running` with its
    heartbeat; when members starts again, its sweeper marks the job failed before anyone reads it (the state is read
    from the database, not through the API, which would sweep too); no file is offered."""
    cfg = KillConfig(pg_host=stack_config.pg_host, pg_port=stack_config.pg_port,
                     kafka_bootstrap=stack_config.kafka_bootstrap, pg_password=stack_config.pg_password)
    await cfg.prepare()
    proc = ServiceProcess(cfg, "members", tmp_path)
    proc.start()
    try:
        await proc.wait_ready()
        m = cfg.url("members")
        async with httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {cfg.admin_token}"}) as c:
            for store, region in ((STORE, "755"), ("EX-HQ", "000")):
                assert (await c.post(f"{m}/v1/stores", json={"store_id": store, "name": "店", "region_code": region,
                                                             "program": "jewelry"})).status_code == 201
            assert (await c.post(f"{m}/v1/staff", json=[{"staff_id": "X-ADM", "store_id": "EX-HQ", "name": "员工",
                                                         "position": "hq", "role": "hq_admin",
                                                         "password": "pw-X-ADM-long"}])).status_code == 201
            for batch in range(5):
                r = await c.post(f"{m}/v1/members", json=[{"store_id": STORE, "full_name": f"会员{i:05d}",
                                                           "mobile": f"138{batch:02d}{i:06d}"} for i in range(1000)])
                assert r.status_code == 201, r.text
            tok = (await c.post(f"{m}/v1/auth/login", json={"staff_id": "X-ADM", "password": "pw-X-ADM-long"})
                   ).json()["token"]
            c.headers["Authorization"] = f"Bearer {tok}"
            r = await c.post(f"{m}/v1/member-file-exports", json={"reason": "全量备份"})
            assert r.status_code == 202, r.text
            export_id = r.json()["export_id"]

            async def under_way() -> Any:
                got = (await c.get(f"{m}/v1/member-file-exports/{export_id}")).json()
                assert got["state"] == "running", got  # 50 chunks of 100: still running when it is caught
                return got if got["done"] > 0 else None

            await wait_for(under_way, 30, "the export under way", interval=0.05)
        proc.kill()  # SIGKILL: no shutdown, the job row stays as the dead process left it
        state = await sql_value(cfg, "members", "SELECT state || '/' || done FROM member_file_exports WHERE "
                                "export_id = $1", export_id)
        assert state.startswith("running/") and state != "running/5000"
        await asyncio.sleep(3.5)  # the heartbeat goes stale
        proc.start()
        await proc.wait_ready()

        async def swept() -> Any:
            return await sql_value(cfg, "members", "SELECT error FROM member_file_exports WHERE export_id = $1 AND "
                                   "state = 'failed'", export_id)

        assert "interrupted" in await wait_for(swept, 30, "the sweeper to fail the interrupted export")
        async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {tok}"}) as c:
            r = await c.get(f"{m}/v1/member-file-exports/{export_id}/file")
            assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-07"
    finally:
        proc.stop()
