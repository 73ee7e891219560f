"""A database restart must not turn into 500s at the edges (found by the 100,000-sale chaos run: 30 answers of
500 while PostgreSQL restarted). Connection refused, a pooled connection broken by the restart, the server still
starting, the pool exhausted: 503 with Retry-After, so a till sends the same request again. Other driver errors
stay an unexpected 500."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from vipcore.http import install_problem_handlers


def _wrapped(e: BaseException) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises a driver error: its own exception, the driver's as the cause."""
    try:
        raise sa_exc.OperationalError("SELECT 1", None, e) from e
    except sa_exc.OperationalError as w:
        return w


UNREACHABLE = {
    "refused": ConnectionRefusedError(111, "Connection refused"),
    "reset": ConnectionResetError(104, "Connection reset by peer"),
    "starting": asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    "shutdown": asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    "closed": asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    "broken": asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation is in progress"),
    "closed_pooled": asyncpg.exceptions.InterfaceError("connection is closed"),
    "wrapped": _wrapped(ConnectionRefusedError(111, "Connection refused")),
    "pool": sa_exc.TimeoutError("QueuePool limit reached"),
}


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/sales/{case}")
    async def sale(case: str) -> None:
        if case in UNREACHABLE:
            raise UNREACHABLE[case]
        raise sa_exc.ProgrammingError("SELECT nope", None, asyncpg.exceptions.UndefinedColumnError("nope"))

    return app


@pytest.mark.parametrize("case", sorted(UNREACHABLE))
async def test_an_unreachable_database_is_503_with_retry_after(app: FastAPI, case: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://t") as c:
        r = await c.post(f"/v1/sales/{case}")
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "1"
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["rule"] == "retry"


async def test_other_database_errors_stay_500(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://t") as c:
        r = await c.post("/v1/sales/bug")
    assert r.status_code == 500
