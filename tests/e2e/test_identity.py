"""Service identity (issue 11 item 4; docs/architecture.md "Identity"): per-service tokens with an audience, HQ
administration through staff login with roles, the static admin token only behind a switch that is off, staff
tokens revoked within a minute of `members.staff.changed` (O-03), refresh tokens rotated on use, and a console
that keeps working across staff-token expiry."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from devstack.procs import free_port
from devstack.testing import InProcessServer, Stack, StackConfig, build_app, wait_for
from vipcore.auth import new_keypair
from vipcore.identity import ServiceTokens

STORE = {"store_id": "ID-1", "name": "Identity store", "region_code": "029", "program": "generic"}
PASSWORD = "pw-identity-long"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_o02_admin_routes_take_an_hq_admin_staff_token_and_the_static_token_only_when_switched_on(
        stack_config: StackConfig) -> None:
    cfg = stack_config
    assert cfg.admin_token_enabled is False  # the default everywhere: ADMIN_TOKEN_ENABLED=false
    async with Stack(cfg, services=("members",)) as stack, httpx.AsyncClient(base_url=stack.url("members")) as c:
        r = await c.post("/v1/stores", json=STORE, headers=bearer(cfg.bootstrap_token))
        assert r.status_code == 401, r.text  # the static admin token is refused when the switch is off
        r = await c.post("/v1/stores", json=STORE, headers=bearer(cfg.staff_token("CS-1", "hq_cs")))
        assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "O-02"  # a staff token of another role
        r = await c.post("/v1/stores", json=STORE, headers=bearer(cfg.admin_token))
        assert r.status_code == 201, r.text  # an hq_admin staff token
        r = await c.get("/ops/dlq", headers=bearer(cfg.bootstrap_token))
        assert r.status_code == 401  # every admin route of the runtime too (DLQ redrive)
        assert (await c.get("/ops/dlq", headers=bearer(cfg.admin_token))).status_code == 200
        r = await c.post("/v1/stores", json=STORE, headers=bearer(cfg.service_token("gateway", "members")))
        assert r.status_code == 403  # a service not allowed on this route

    on = StackConfig(pg_host=cfg.pg_host, pg_port=cfg.pg_port, kafka_bootstrap=cfg.kafka_bootstrap,
                     pg_password=cfg.pg_password, admin_token_enabled=True)
    async with Stack(on, services=("members",)) as stack, httpx.AsyncClient(base_url=stack.url("members")) as c:
        r = await c.post("/v1/stores", json=STORE, headers=bearer(on.bootstrap_token))
        assert r.status_code == 201, r.text  # ADMIN_TOKEN_ENABLED=true: the bootstrap switch
        r = await c.post("/v1/stores", json=STORE, headers=bearer(on.bootstrap_token + "x"))
        assert r.status_code == 401


async def test_service_tokens_are_checked_for_audience_caller_expiry_and_key(stack_config: StackConfig) -> None:
    cfg = stack_config
    async with Stack(cfg, services=("loyalty", "credit")) as stack, httpx.AsyncClient() as c:
        account = f"{stack.url('loyalty')}/internal/accounts/m-1"
        params = {"store_id": "ID-1"}

        async def status(token: str, url: str = account) -> int:
            return (await c.get(url, params=params, headers=bearer(token))).status_code

        assert await status(cfg.service_token("gateway", "loyalty")) == 200  # the gateway, for loyalty
        assert await status(cfg.service_token("gateway", "credit")) == 401  # another audience
        assert await status(cfg.service_token("members", "loyalty")) == 403  # a known service not allowed here
        assert await status(cfg.service_token("gateway", "loyalty", now=time.time() - 1000)) == 401  # expired
        forged = ServiceTokens("gateway", new_keypair()[0]).token("loyalty")
        assert await status(forged) == 401  # signed with a key that is not the gateway's
        assert await status(ServiceTokens("pos", new_keypair()[0]).token("loyalty")) == 401  # unknown service
        assert await status(cfg.admin_token) == 403  # internal routes take no staff token, not even HQ's
        assert await status(cfg.bootstrap_token) == 401
        # an admin route does not take the gateway's service token
        r = await c.get(f"{stack.url('loyalty')}/v1/reports/liability", headers=bearer(
            cfg.service_token("gateway", "loyalty")))
        assert r.status_code == 403
        # credit: the same router holds internal and admin routes; each takes its own credential
        auth = f"{stack.url('credit')}/internal/authorizations/none"
        assert await status(cfg.service_token("gateway", "credit"), auth) == 404
        assert await status(cfg.service_token("gateway", "loyalty"), auth) == 401
        assert await status(cfg.admin_token, auth) == 403
        r = await c.get(f"{stack.url('credit')}/v1/receivables", headers=bearer(cfg.admin_token))
        assert r.status_code == 200
        # the receivables list is a staff route (the console's, credit READERS): a service token is no staff
        # credential there at all
        r = await c.get(f"{stack.url('credit')}/v1/receivables", headers=bearer(cfg.service_token("gateway", "credit")))
        assert r.status_code == 401


async def _login(c: httpx.AsyncClient, members: str, staff_id: str) -> dict[str, Any]:
    r = await c.post(f"{members}/v1/auth/login", json={"staff_id": staff_id, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_o03_staff_token_refused_within_a_minute_of_a_role_change_or_leaving_even_after_a_restart(
        stack: Stack) -> None:
    cfg = stack.cfg
    members, loyalty = stack.url("members"), stack.url("loyalty")
    (await stack.admin.post(f"{members}/v1/stores", json=STORE)).raise_for_status()
    (await stack.admin.post(f"{members}/v1/staff", json=[
        {"staff_id": sid, "store_id": "ID-1", "name": "员工", "position": "cs", "role": "hq_cs", "password": PASSWORD}
        for sid in ("RC-1", "LV-1")])).raise_for_status()
    async with httpx.AsyncClient(timeout=30) as c:
        changing, leaving = await _login(c, members, "RC-1"), await _login(c, members, "LV-1")

        async def status(token: str, base: str = loyalty, path: str = "/v1/adjustments") -> int:
            return (await c.get(base + path, headers=bearer(token))).status_code

        for t in (changing["token"], leaving["token"]):
            assert await status(t) == 200 and await status(t, members, "/v1/review-queue") == 200

        # the role change: hq_cs → staff
        t0 = time.monotonic()
        (await stack.admin.post(f"{members}/v1/staff", json=[
            {"staff_id": "RC-1", "store_id": "ID-1", "name": "员工", "position": "cs", "role": "staff"}])
         ).raise_for_status()
        await wait_for(lambda: _is(status(changing["token"]), 401), 60, "loyalty to refuse the old token")
        assert time.monotonic() - t0 < 60
        await wait_for(lambda: _is(status(changing["token"], members, "/v1/review-queue"), 401), 60,
                       "members to refuse the old token")
        r = await c.get(loyalty + "/v1/adjustments", headers=bearer(changing["token"]))
        assert r.json()["errors"][0]["rule"] == "O-03"
        r = await c.post(f"{members}/v1/auth/token:refresh", json={"refresh_token": changing["refresh_token"]})
        assert r.status_code == 401  # the refresh token died with the change
        fresh = await _login(c, members, "RC-1")  # a new login carries the new role: refused by role, not revoked
        assert fresh["role"] == "staff" and await status(fresh["token"]) == 403

        # leaving
        (await stack.admin.post(f"{members}/v1/staff/LV-1/leave")).raise_for_status()
        await wait_for(lambda: _is(status(leaving["token"]), 401), 60, "loyalty to refuse the leaver's token")
        r = await c.post(f"{members}/v1/auth/token:refresh", json={"refresh_token": leaving["refresh_token"]})
        assert r.status_code == 401

        # a restarted loyalty (a new process state: nothing in memory) reads the changes back and still refuses
        port = free_port()
        async with InProcessServer(build_app("loyalty", cfg.settings("loyalty")), port):
            again = f"http://127.0.0.1:{port}"
            assert await status(changing["token"], again) == 401
            assert await status(leaving["token"], again) == 401
            assert await status(cfg.admin_token, again) == 200  # others' tokens still work


async def _is(v: Any, want: Any) -> bool:
    return bool(await v == want)


async def test_o03_refresh_rotates_and_a_spent_refresh_token_is_refused(stack: Stack) -> None:
    members = stack.url("members")
    (await stack.admin.post(f"{members}/v1/stores", json=STORE)).raise_for_status()
    (await stack.admin.post(f"{members}/v1/staff", json=[
        {"staff_id": "RF-1", "store_id": "ID-1", "name": "员工", "position": "cs", "role": "hq_cs",
         "password": PASSWORD}])).raise_for_status()
    async with httpx.AsyncClient(timeout=30) as c:
        first = await _login(c, members, "RF-1")
        assert first["expires_in"] == stack.cfg.staff_token_ttl_s and first["refresh_token"]
        r = await c.post(f"{members}/v1/auth/token:refresh", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"] and second["role"] == "hq_cs"
        assert (await c.get(f"{members}/v1/review-queue", headers=bearer(second["token"]))).status_code == 200
        r = await c.post(f"{members}/v1/auth/token:refresh", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 401 and r.json()["errors"][0]["rule"] == "O-03"  # spent
        # a spent token coming back means it was copied: the person's other refresh tokens end too
        r = await c.post(f"{members}/v1/auth/token:refresh", json={"refresh_token": second["refresh_token"]})
        assert r.status_code == 401
        r = await c.post(f"{members}/v1/auth/token:refresh", json={"refresh_token": "not-a-token"})
        assert r.status_code == 401


async def test_o03_console_keeps_working_across_staff_token_expiry(stack_config: StackConfig) -> None:
    stack_config.staff_token_ttl_s = 30  # the shortest allowed: the test waits past one expiry
    async with Stack(stack_config, services=("members", "loyalty")) as stack:
        members = stack.url("members")
        (await stack.admin.post(f"{members}/v1/stores", json=STORE)).raise_for_status()
        (await stack.admin.post(f"{members}/v1/staff", json=[
            {"staff_id": "CN-1", "store_id": "ID-1", "name": "员工", "position": "cs", "role": "hq_cs",
             "password": PASSWORD}])).raise_for_status()
        settings = stack.cfg.settings("console").model_copy(update={"session_renew_before_s": 3})
        port = stack.cfg.port("console")
        async with InProcessServer(build_app("console", settings), port):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as browser:
                page = await browser.get("/login")  # the login form carries this browser's CSRF token
                token = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert token is not None
                r = await browser.post("/login", data={"staff_id": "CN-1", "password": PASSWORD, "next": "/reviews",
                                                       "csrf": token.group(1)})
                assert r.status_code == 303 and r.headers["location"] == "/reviews"
                first = browser.cookies["console_session"]
                assert (await browser.get("/reviews")).status_code == 200
                exp = _exp(first)
                await wait_for(lambda: _after(exp + 1), 40, "the first staff token to expire", interval=0.5)
                async with httpx.AsyncClient() as c:  # members refuses the first token now
                    r = await c.get(f"{members}/v1/review-queue", headers=bearer(first))
                    assert r.status_code == 401
                r = await browser.get("/reviews")
                assert r.status_code == 200 and "/login" not in str(r.url), r.text[:300]
                assert browser.cookies["console_session"] != first  # renewed with the refresh token
                assert (await browser.get("/members", params={"name": "王"})).status_code == 200


def _exp(token: str) -> float:
    import jwt

    return float(jwt.decode(token, options={"verify_signature": False})["exp"])


async def _after(t: float) -> bool:
    return time.time() > t


async def test_o02_the_first_hq_admin_is_made_by_the_operator_command_and_logs_in(stack_config: StackConfig) -> None:
    import asyncio
    import os
    import sys

    from devstack.testing import ROOT

    cfg = stack_config
    async with Stack(cfg, services=("members",)) as stack, httpx.AsyncClient(base_url=stack.url("members")) as c:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "members", "staff", "create-admin", "--staff-id", "HQ-FIRST",
            "--password-env", "FIRST_PASSWORD", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **cfg.env("members"), "FIRST_PASSWORD": PASSWORD})
        out, err = await proc.communicate()
        assert proc.returncode == 0, (out + err).decode()
        login = await _login(c, stack.url("members"), "HQ-FIRST")
        assert login["role"] == "hq_admin"
        r = await c.post("/v1/stores", json=STORE, headers=bearer(login["token"]))
        assert r.status_code == 201, r.text  # HQ administers with the staff token, no static admin token
