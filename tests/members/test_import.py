"""M-19 on the real stack: CSV and XLSX imports, each row validated by M-02 (and M-05/M-06/M-16), refused rows
reported with reasons, progress as a resource, the CLI's progress bar, and imported members at the gateway."""

from __future__ import annotations

import io
from typing import Any

from devstack.testing import Stack, sql_value, wait_for
from members.cli_import import bar

from tests.members.test_member_files import STORE, mobile, setup


async def run_import(stack: Stack, content: bytes, fmt: str, **params: str) -> dict[str, Any]:
    r = await stack.admin.post(f"{stack.url('members')}/v1/imports", params={"store_id": STORE, "format": fmt,
                                                                               **params}, content=content)
    assert r.status_code == 202, r.text
    url = stack.url("members") + r.json()["progress"]

    async def finished() -> Any:
        p = (await stack.admin.get(url)).json()
        return p if p["status"] != "running" else None

    return dict(await wait_for(finished, 60, "import finished"))


async def test_m19_csv_and_xlsx_rows_validated_and_reported(stack: Stack) -> None:
    employee = mobile()
    key = await setup(stack, employee)
    good1, good2, dup = mobile(), mobile(), mobile()
    csv = "\n".join([
        "姓名,手机,性别,生日,地址,推荐人,备注",
        f"王建国,{good1},男,1980-05-06,西安市雁塔区高新路25号,S1,老客户",
        "王先生,13800138000,男,,,,",                         # honorific-only name
        "李娜,02988886666,女,,,,",                            # landline
        f"赵丽,{good2},女,--12-24,西安市,,",                   # bare city address
        f"张伟,{employee},男,,,,",                             # an employee (M-05)
        f"刘洋,{dup},男,,,,",
        f"刘洋,{dup},男,,,,",                                  # same mobile twice (M-06)
        f"陈静,{mobile()},女,3月8日,,,",                        # free-text date
        f"杨磊,{mobile()},男,,,S404,",                         # unknown referrer
    ]).encode("utf-8-sig")
    p = await run_import(stack, csv, "csv", filename="customers.csv")
    assert (p["total"], p["processed"], p["imported"], p["rejected"], p["percent"]) == (9, 9, 2, 7, 100.0)
    report = (await stack.admin.get(f"{stack.url('members')}/v1/imports/{p['import_id']}/rejected.csv")).text
    lines = report.strip().splitlines()
    assert len(lines) == 8 and lines[0] == "row,reasons,full_name,mobile"
    assert "M-02" in lines[1] and "王先生" in lines[1] and "138****8000" in lines[1]  # masked in the report
    assert "M-05" in report and "M-06" in report and "birth_date" in report and "S404" in report
    assert employee not in report
    card = await sql_value(stack.cfg, "members", "SELECT card_no FROM members WHERE name_index IS NOT NULL AND "
                           "full_name = '王建国'")
    await stack.wait_directory(key, card)  # imported members are ordinary members everywhere

    # XLSX with its own column names (mapping); a row already on file is refused, never half-imported
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["客户姓名", "联系电话", "性别"])
    ws.append(["孙丽华", mobile(), "女"])
    ws.append(["王建国", good1, "男"])
    buf = io.BytesIO()
    wb.save(buf)
    p = await run_import(stack, buf.getvalue(), "xlsx", mapping='{"客户姓名": "full_name", "联系电话": "mobile"}')
    assert (p["imported"], p["rejected"]) == (1, 1)
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members") == 3
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM cards") == 3
    r = await stack.admin.post(f"{stack.url('members')}/v1/imports", params={"store_id": STORE, "format": "xlsx"},
                               content=b"not a workbook")
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-19"


def test_m19_cli_progress_bar() -> None:
    assert bar(50, 200, width=8) == "[##......] 50/200  25.0%"
    assert bar(0, 0, width=4) == "[####] 0/0 100.0%"


async def test_m19_a_row_refused_by_the_database_costs_only_itself(stack: Stack) -> None:
    """A file for row 5's mobile is registered concurrently (its transaction still open when the import checks):
    the import's insert meets the unique index (M-06) only at the database; row 10 holds a NUL the database
    refuses. Those rows are reported with their reasons; every other row of the chunk is imported whole, with
    its card, and the card numbers have no gap."""
    import asyncpg
    from vipcore.pii import blind_index, encrypt

    await setup(stack, mobile())
    phones = [mobile() for _ in range(12)]
    rows = [f"王{'建国立华明丽强军伟芳静敏'[i]}{'东西南北中'[i % 5]},{p}," for i, p in enumerate(phones)]
    rows[8] += "西安\x00贸易公司"  # row 10: a NUL passes M-02 but PostgreSQL refuses it (not a constraint)
    csv = "\n".join(["姓名,手机,工作单位", *rows]).encode()
    env = stack.cfg.env("members")
    other = await asyncpg.connect(stack.cfg.db_url("members").replace("+asyncpg", ""))
    tx = other.transaction()
    await tx.start()
    await other.execute(
        "INSERT INTO members (member_id, store_id, full_name, name_index, mobile_enc, mobile_index, card_status, "
        "status, stage) VALUES ('MCONCURRENT', $1, '李四海', 'x', $2, $3, 'none', 'incomplete', 0)",
        STORE, encrypt(env["PII_KEYS"], phones[3]), blind_index(env["PII_INDEX_KEY"], phones[3]))
    r = await stack.admin.post(f"{stack.url('members')}/v1/imports", params={"store_id": STORE}, content=csv)
    assert r.status_code == 202
    url = stack.url("members") + r.json()["progress"]

    async def import_waits_on_the_other_file() -> bool:
        return bool(await sql_value(stack.cfg, "members", "SELECT count(*) FROM pg_stat_activity WHERE "
                                    "wait_event_type = 'Lock' AND datname = current_database()"))

    await wait_for(import_waits_on_the_other_file, 30, "the import's insert waiting on the concurrent file")
    await tx.commit()
    await other.close()

    async def finished() -> Any:
        p = (await stack.admin.get(url)).json()
        return p if p["status"] != "running" else None

    p = await wait_for(finished, 60, "import finished")
    assert (p["status"], p["imported"], p["rejected"]) == ("done", 10, 2), p
    report = (await stack.admin.get(url + "/rejected.csv")).text.strip().splitlines()
    assert len(report) == 3 and report[1].startswith("5,mobile already has a file in this store (M-06)")
    assert report[2].startswith("10,refused by the database") and "M-19" in report[2]
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM members WHERE card_no IS NOT NULL") == 10
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM cards") == 10
    assert await sql_value(stack.cfg, "members", "SELECT count(*) FROM outbox WHERE headers->>'ce_type' = "
                           "'members.member.registered'") == 10
    assert await sql_value(stack.cfg, "members", "SELECT max(card_no) FROM cards") == "75500010"  # no gap
