"""The shared input types (vipcore.inputs) and the one error convention (vipcore.http)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from vipcore import errors
from vipcore.http import install_docs, install_problem_handlers
from vipcore.inputs import (
    BusinessTime,
    Ident,
    Mobile,
    Money,
    Name,
    RequestModel,
    normalize_mobile,
)


class Body(RequestModel):
    store_id: Ident
    name: Name
    amount: Money
    at: BusinessTime | None = None
    mobile: Mobile | None = None


def ok(**kw: object) -> Body:
    return Body.model_validate({"store_id": "S1", "name": "王小明", "amount": 100, **kw})


def refused(**kw: object) -> list[str]:
    with pytest.raises(ValidationError) as e:
        ok(**kw)
    return [".".join(map(str, x["loc"])) for x in e.value.errors()]


def test_identifiers_are_printable_ascii_bounded_and_non_empty() -> None:
    assert ok().store_id == "S1"
    for bad in ("", "a b", "S\x00", "店1", "x" * 65, "\ud800"):
        assert refused(store_id=bad) == ["store_id"], bad


def test_text_refuses_control_characters_and_lone_surrogates() -> None:
    assert ok(name="Zoë 李").name == "Zoë 李"
    for bad in ("", "a\x00b", "a\x07", "\ud800x", "two\nlines", "x" * 41):
        assert refused(name=bad) == ["name"], repr(bad)


def test_money_is_a_strict_bounded_integer() -> None:
    assert ok(amount=0).amount == 0
    for bad in (-1, 10**12 + 1, 2**63, "100", 1.0, True, None):
        assert refused(amount=bad) == ["amount"], bad


def test_business_time_has_an_offset_and_lies_near_now() -> None:
    now = datetime.now(UTC)
    assert ok(at=now.isoformat()).at is not None
    for bad in ("2026-01-01T00:00:00", (now + timedelta(days=2)).isoformat(), "0001-01-01T00:00:00+14:00",
                "9999-12-31T23:59:59-14:00", (now - timedelta(days=500)).isoformat()):
        assert refused(at=bad) == ["at"], bad


@pytest.mark.parametrize("raw", ["13800138000", "138-0013-8000", "+86 138 0013 8000", "008613800138000",
                                 "１３８００１３８０００", "(138) 0013 8000", "8613800138000"])
def test_m02_one_mobile_one_spelling(raw: str) -> None:
    assert ok(mobile=raw).mobile == "13800138000"
    assert normalize_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "phone", "1" * 40,
                                 "١٣٨٠٠١٣٨٠٠٠"])  # other scripts' digits survive NFKC: not a mobile
def test_m02_not_a_mobile(raw: str) -> None:
    assert refused(mobile=raw) == ["mobile"]
    with pytest.raises(ValidationError) as e:
        ok(mobile=raw)
    assert e.value.errors()[0]["ctx"]["rule"] == "M-02"  # the problem details name the rule


def test_unknown_fields_are_refused() -> None:
    assert refused(colour="red") == ["colour"]


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)
    install_problem_handlers(app)
    install_docs(app)

    @app.post("/things")
    async def make(body: Body) -> dict[str, int]:
        return {"amount": body.amount}

    @app.get("/refuse")
    async def refuse() -> None:
        raise errors.RuleViolation("L-07", "points", "not enough available points")

    @app.get("/missing")
    async def missing() -> None:
        raise errors.NotFound("card_no", "no such card")

    @app.get("/busy")
    async def busy() -> None:
        raise errors.Unavailable("loyalty", "loyalty does not answer", retry_after_s=2)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret 13800138000")

    @app.get("/too-big")
    async def too_big() -> None:
        import asyncpg

        raise asyncpg.exceptions.NumericValueOutOfRangeError("bigint out of range")

    return app


async def call(app: FastAPI, method: str, path: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.request(method, path, **kw)  # type: ignore[arg-type]


async def test_a_rule_violation_is_problem_details_naming_rule_and_field(app: FastAPI) -> None:
    r = await call(app, "GET", "/refuse")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"field": "points", "rule": "L-07", "message": "not enough available points"}]
    assert (await call(app, "GET", "/missing")).status_code == 404
    busy = await call(app, "GET", "/busy")
    assert busy.status_code == 503 and busy.headers["retry-after"] == "2"


async def test_unexpected_errors_are_problem_json_never_plain_text_and_leak_nothing(app: FastAPI) -> None:
    r = await call(app, "GET", "/boom")
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert "13800138000" not in r.text and "trace_id" in r.json()


async def test_a_value_the_database_cannot_store_is_the_input_at_fault(app: FastAPI) -> None:
    r = await call(app, "GET", "/too-big")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


async def test_bad_bodies_are_422_problem_details(app: FastAPI) -> None:
    for body in (b"{not json", b'{"store_id":"S1","name":"x","amount":99999999999999999999999}',
                 b'{"store_id":"S\\u0000","name":"x","amount":1}', b'{"store_id":"S1","name":"\\ud800","amount":1}'):
        r = await call(app, "POST", "/things", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, body
        assert r.headers["content-type"] == "application/problem+json"


async def test_docs_assets_are_served_locally(app: FastAPI) -> None:
    page = await call(app, "GET", "/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    js = await call(app, "GET", "/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_bounds_other_than_the_aliases_are_written_with_the_grouped_metadata() -> None:
    from typing import Annotated

    from vipcore.inputs import IdentOf, TextOf

    class Other(RequestModel):
        key: Annotated[str, IdentOf(3)]
        note: Annotated[str, TextOf(5, multiline=True)]

    assert Other(key="abc", note="a\nb").key == "abc"
    for bad in ({"key": "abcd", "note": ""}, {"key": "a b", "note": ""}, {"key": "a", "note": "\x00"}):
        with pytest.raises(ValidationError):
            Other.model_validate(bad)
    schema = Other.model_json_schema()["properties"]["key"]
    assert schema["maxLength"] == 3 and schema["pattern"] == "^[!-~]+$"  # fuzzers and clients see the rule
