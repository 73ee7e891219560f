"""A refusal may name every field at fault at once (a member file with a placeholder name and a landline, M-02):
`Refused.each` keeps the first as the headline, and the problem details list them all, each with its rule."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from vipcore import errors
from vipcore.http import install_problem_handlers


async def test_m02_every_field_at_fault_is_named_in_one_answer() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/file")
    async def file() -> None:
        raise errors.RuleViolation.each([("full_name", "an honorific placeholder", "M-02"),
                                         ("mobile", "a landline", "M-02"), ("gender", "female or male", "M-01")])

    @app.get("/dup")
    async def dup() -> None:
        raise errors.Conflict.each([("mobile", "already on file", "M-06")])

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/file")
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "M-02: an honorific placeholder"
        assert r.json()["errors"] == [{"field": "full_name", "rule": "M-02", "message": "an honorific placeholder"},
                                      {"field": "mobile", "rule": "M-02", "message": "a landline"},
                                      {"field": "gender", "rule": "M-01", "message": "female or male"}]
        r = await c.get("/dup")
        assert r.status_code == 409 and [e["field"] for e in r.json()["errors"]] == ["mobile"]
