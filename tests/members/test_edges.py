"""Members' edges refuse what they cannot store with 422 problem details naming the field, never a 500
(issue 10: a fuzzer got 500s from `POST /v1/auth/login`, `/v1/staff`, `/v1/stores`, `/v1/members`,
`/v1/imports` and `/v1/admin/month-end`), and one phone has one spelling: `+86 138-0013-8000`, full-width
digits and `13800138000` are the same mobile at registration and at lookup (M-02, M-06)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from json import dumps
from typing import Any

import httpx
from devstack.testing import Stack, StackConfig

STORE = "XA-901"


def mobile() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def spelled(phone: str) -> list[str]:
    """Other ways staff and tills write the same mainland mobile."""
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in phone)
    return [f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", full_width, f"0086{phone}",
            f"{phone[:3]} {phone[3:7]} {phone[7:]}"]


@asynccontextmanager
async def members_only(cfg: StackConfig) -> AsyncIterator[Stack]:
    """Members alone (no other service is reached by these routes), with a store and one staff per role."""
    async with Stack(cfg, services=("members",)) as stack:
        url = stack.url("members")
        r = await stack.admin.post(f"{url}/v1/stores", json={"store_id": STORE, "name": "边界店", "region_code": "029",
                                                            "program": "jewelry"})
        assert r.status_code == 201, r.text
        r = await stack.admin.post(f"{url}/v1/staff", json=[
            {"staff_id": sid, "store_id": STORE, "name": f"员工{sid}", "position": "sales assistant", "role": role,
             "password": f"pw-{sid}-long"} for sid, role in (("S1", "staff"), ("CS1", "store_cs_manager"),
                                                             ("HQ1", "hq_cs"), ("HQ2", "hq_cs"))])
        assert r.status_code == 201, r.text
        yield stack


async def login(stack: Stack, staff_id: str) -> httpx.AsyncClient:
    r = await stack.admin.post(f"{stack.url('members')}/v1/auth/login",
                               json={"staff_id": staff_id, "password": f"pw-{staff_id}-long"})
    assert r.status_code == 200, r.text
    return httpx.AsyncClient(base_url=stack.url("members"), timeout=30,
                             headers={"Authorization": f"Bearer {r.json()['token']}"})


async def refused(client: httpx.AsyncClient, method: str, path: str, body: Any, field: str,
                  rule: str | None = None) -> None:
    # json.dumps escapes a lone surrogate as \\ud800, as a client written in another language would send it
    r = await client.request(method, path, content=None if body is None else dumps(body),
                             headers={"content-type": "application/json"})
    assert r.status_code == 422, (method, path, body, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json", path
    errors = r.json()["errors"]
    assert field in [e["field"] for e in errors], (path, body, errors)
    if rule is not None:
        assert rule in [e["rule"] for e in errors if e["field"] == field], (path, body, errors)


STAFF = {"staff_id": "S9", "store_id": STORE, "name": "李文静", "position": "sales assistant"}
STORE_IN = {"store_id": "XA-902", "name": "新店", "region_code": "029", "program": "jewelry"}
MEMBER = {"store_id": STORE, "full_name": "周文博", "mobile": "13800138000"}

ADMIN_CASES: list[tuple[str, str, Any, str, str | None]] = [
    # the six operations the fuzzer broke, each with what broke it
    ("POST", "/v1/auth/login", {"staff_id": "S\u0000", "password": "x"}, "staff_id", None),
    ("POST", "/v1/auth/login", {"staff_id": "", "password": "x"}, "staff_id", None),
    ("POST", "/v1/auth/login", {"staff_id": "S1", "password": "\ud800"}, "password", None),
    ("POST", "/v1/staff", [], "body", None),
    ("POST", "/v1/staff", [STAFF | {"name": "李\u0000"}], "0.name", None),
    ("POST", "/v1/staff", [STAFF | {"position": "x" * 61}], "0.position", None),
    ("POST", "/v1/staff", [STAFF | {"started_on": "0001-01-01"}], "0.started_on", None),
    ("POST", "/v1/staff", [STAFF | {"mobile": "029-88886666"}], "0.mobile", "M-02"),
    ("POST", "/v1/staff", [STAFF | {"staff_id": "S 9"}], "0.staff_id", None),
    ("POST", "/v1/stores", STORE_IN | {"store_id": ""}, "store_id", None),
    ("POST", "/v1/stores", STORE_IN | {"timezone": "Mars/Olympus"}, "timezone", None),
    ("POST", "/v1/stores", STORE_IN | {"region_code": "\u0661\u0662\u0663"}, "region_code", None),
    ("POST", "/v1/stores", STORE_IN | {"name": "\ud800"}, "name", None),
    ("POST", "/v1/stores", STORE_IN | {"program": "Gold Club"}, "program", None),
    ("POST", "/v1/members", [], "body", None),
    ("POST", "/v1/members", [MEMBER | {"mobile": "12345"}], "0.mobile", "M-02"),
    ("POST", "/v1/members", [MEMBER | {"birthday": "0001-01-01"}], "0.birthday", None),
    ("POST", "/v1/members", [MEMBER | {"full_name": "周\u0000博"}], "0.full_name", None),
    ("POST", "/v1/members", [MEMBER | {"referrer_staff_id": ""}], "0.referrer_staff_id", None),
    ("POST", "/v1/imports?store_id=", None, "store_id", None),
    ("POST", f"/v1/imports?store_id={STORE}&format=pdf", None, "format", None),
    ("POST", f"/v1/imports?store_id={STORE}&mapping=%5B1%5D", None, "mapping", "M-19"),
    ("POST", f"/v1/imports?store_id={STORE}&mapping=%7B%22a%22%3A%20%22nope%22%7D", None, "mapping", "M-19"),
    ("POST", "/v1/admin/month-end", {"period": "0000-01"}, "period", None),
    ("POST", "/v1/admin/month-end", {"period": 202610}, "period", None),
    # and what the same probes found elsewhere
    ("POST", "/v1/admin/daily", {"date": "0001-01-01"}, "date", None),
    ("POST", "/v1/admin/daily", {"date": "2026-02-30"}, "date", None),
    ("GET", "/v1/programs/Gold%20Club/card-validity", None, "program", None),
    ("PUT", "/v1/programs/jewelry/card-validity", {"validity_years": 2**64}, "validity_years", None),
    ("GET", "/v1/members/M%00", None, "member_id", None),
    ("GET", "/v1/imports/" + "I" * 201, None, "import_id", None),
    ("POST", "/v1/staff/S%201/leave", None, "staff_id", None),
]


async def test_bad_input_is_422_problem_details_naming_the_field(stack_config: StackConfig) -> None:
    async with members_only(stack_config) as stack:
        base = stack.url("members")
        async with httpx.AsyncClient(base_url=base, timeout=30, auth=stack.cfg.admin_auth()) as admin:
            for method, path, body, field, rule in ADMIN_CASES:
                await refused(admin, method, path, body, field, rule)
            r = await admin.post(f"/v1/imports?store_id={STORE}&format=xlsx", content=b"not a workbook")
            assert r.status_code == 422 and r.json()["errors"][0] | {} == {
                "field": "body", "rule": "M-19", "message": r.json()["errors"][0]["message"]}, r.text
            r = await admin.post(f"/v1/imports?store_id={STORE}", content=b"\xff\xfe broken utf-8")
            assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-19", r.text

        staff, cs, hq = await login(stack, "S1"), await login(stack, "CS1"), await login(stack, "HQ1")
        async with staff, cs, hq:
            file = {"full_name": "王建国", "mobile": mobile()}
            for client, method, path, body, field, rule in (
                    (staff, "POST", "/v1/member-files", file | {"full_name": "\ud800"}, "full_name", None),
                    (staff, "POST", "/v1/member-files", file | {"mobile": "1\u00003800138000"}, "mobile", None),
                    (staff, "POST", "/v1/member-files", file | {"id_card": "\u0661" * 18}, "id_card", "M-01"),
                    (staff, "PATCH", "/v1/member-files/M1", {"address": "x\u0000"}, "address", None),
                    (staff, "GET", "/v1/member-files?mobile=12345", None, "mobile", "M-02"),
                    (staff, "GET", "/v1/member-files?status=", None, "status", None),
                    (staff, "POST", "/v1/access-grants", {"reason": "covering", "member_id": "M1", "hours": 2**64},
                     "hours", None),
                    (staff, "POST", "/v1/access-grants", {"reason": "covering", "member_id": "M1", "hours": "8"},
                     "hours", None),
                    (staff, "POST", "/v1/member-files/M1/revisits", {"summary": "called", "next_date": "0001-01-01"},
                     "next_date", None),
                    (staff, "GET", "/v1/revisits/plan?on=0001-01-01", None, "on", None),
                    (staff, "POST", "/v1/prospects", {"full_name": "王建国", "mobile": "1", "intent": "H"},
                     "mobile", "M-02"),
                    (cs, "POST", "/v1/blacklist", {"mobile": "02988886666", "full_name": "王建国", "reason": "闹事"},
                     "mobile", "M-02"),
                    (cs, "GET", "/v1/kpi?period=0000-01", None, "period", None),
                    (cs, "POST", "/v1/handovers", {"from_staff_id": "S1", "to_staff_id": "S2", "type": "same_position",
                                                   "reason": "resigned", "member_ids": ["M\u0000"]},
                     "member_ids.0", None),
                    (hq, "PUT", "/v1/reviewer-leave", {"delegate_staff_id": "HQ2", "until": "2026-01-01T00:00:00"},
                     "until", None),
                    (hq, "PUT", "/v1/reviewer-leave", {"delegate_staff_id": "HQ2",
                                                       "until": "9999-12-31T23:59:59-14:00"}, "until", None)):
                await refused(client, method, path, body, field, rule)


async def test_refusals_name_the_field_and_the_rule(stack_config: StackConfig) -> None:
    async with members_only(stack_config) as stack:
        url = stack.url("members")
        r = await stack.admin.get(f"{url}/v1/imports/I-NONE")
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "import_id"
        r = await stack.admin.get(f"{url}/v1/members/M-NONE")
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "member_id"
        r = await stack.admin.post(f"{url}/v1/staff/NOBODY/leave")
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "staff_id"
        # O-01: every unknown store of a batch is named, not only the first
        r = await stack.admin.post(f"{url}/v1/members", json=[MEMBER | {"store_id": "NO-1", "mobile": mobile()},
                                                               MEMBER | {"mobile": mobile()},
                                                               MEMBER | {"store_id": "NO-2", "mobile": mobile()}])
        assert r.status_code == 422 and [(e["field"], e["rule"]) for e in r.json()["errors"]] == [
            ("0.store_id", "O-01"), ("2.store_id", "O-01")], r.text
        r = await stack.admin.post(f"{url}/v1/auth/login", json={"staff_id": "S1", "password": "wrong"})
        assert r.status_code == 401 and r.json()["errors"][0]["rule"] == "O-03"
        assert r.headers["www-authenticate"] == "Bearer"


async def test_m02_m06_one_phone_one_spelling_at_registration_and_lookup(stack_config: StackConfig) -> None:
    async with members_only(stack_config) as stack:
        url = stack.url("members")
        # HQ registration: a number written another way is the same mobile, so the same file (M-06)
        phone = mobile()
        r = await stack.admin.post(f"{url}/v1/members", json=[MEMBER | {"mobile": spelled(phone)[0]}])
        assert r.status_code == 201, r.text
        for other in [phone, *spelled(phone)[1:]]:
            r = await stack.admin.post(f"{url}/v1/members", json=[MEMBER | {"mobile": other}])
            assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-06", (other, r.text)

        # staff files: opened with full-width digits, found however the lookup writes the number
        async with await login(stack, "S1") as s1:
            phone = mobile()
            r = await s1.post("/v1/member-files", json={"full_name": "王建国", "gender": "male",
                                                        "mobile": spelled(phone)[1], "birth_date": "--03-08"})
            assert r.status_code == 201, r.text
            mid = r.json()["member_id"]
            r = await s1.get(f"/v1/member-files/{mid}")
            assert r.status_code == 200 and r.json()["mobile"] == phone, r.text
            for written in [phone, *spelled(phone)]:
                r = await s1.get("/v1/member-files", params={"mobile": written})
                assert r.status_code == 200 and [m["member_id"] for m in r.json()["members"]] == [mid], written
            r = await s1.post("/v1/member-files", json={"full_name": "王建国", "mobile": spelled(phone)[2]})
            assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "M-06", r.text

        # M-05 and M-16 see through the spelling too: a staff work mobile written with +86 is an employee's
        employee = mobile()
        r = await stack.admin.post(f"{url}/v1/staff", json=[STAFF | {"mobile": spelled(employee)[0]}])
        assert r.status_code == 201, r.text
        async with await login(stack, "S1") as s1:
            r = await s1.post("/v1/member-files", json={"full_name": "赵文静", "mobile": spelled(employee)[1]})
            assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "M-05", r.text
