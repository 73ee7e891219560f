"""HTTP plumbing shared by every service: RFC 9457 problem details, trace ids, health, metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import errors
from .telemetry import current_trace_id, current_traceparent

log = logging.getLogger("vipcore.http")

PROBLEM = "application/problem+json"


class FieldError(dict[str, Any]):
    """{field, rule, message} as in the POS API's `errors` list."""

    def __init__(self, field: str, message: str, rule: str | None = None) -> None:
        super().__init__(field=field, rule=rule, message=message)


class Problem(Exception):
    """Raise to answer with problem details; `errors` names each field and the rule it breaks."""

    def __init__(self, status: int, title: str, detail: str | None = None,
                 errors: Sequence[FieldError] = (), type_: str | None = None) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail or title
        self.errors = list(errors)
        self.type = type_ or f"https://vip.example/problems/{title.lower().replace(' ', '-')}"

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "title": self.title, "status": self.status,
                "detail": self.detail, "errors": self.errors, "trace_id": current_trace_id()}


def problem_response(p: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if p.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(p.body(), status_code=p.status, media_type=PROBLEM, headers=headers or None)


def refused_problem(e: errors.Refused) -> Problem:
    """A domain refusal as problem details naming its rule and field."""
    detail = f"{e.rule}: {e.message}" if e.rule else e.message
    return Problem(e.status, e.title, detail, [FieldError(e.field, e.message, e.rule),
                                               *(FieldError(f, m, r) for f, m, r in e.also)])


class ProblemDoc(BaseModel):
    """RFC 9457 problem details, as every error of every service is answered."""

    type: str = Field(examples=["https://vip.example/problems/refused-by-a-rule"])
    title: str = Field(examples=["Refused by a rule"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["L-07: not enough available points"])
    errors: list[dict[str, Any]] = Field(
        default_factory=list,
        examples=[[{"field": "points", "rule": "L-07", "message": "not enough available points"}]],
        description="each field at fault with the rule it breaks: {field, rule, message}")
    trace_id: str | None = Field(None, description="the trace of the request that failed")


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDoc, "content": {PROBLEM: {}}, "description": text}
    for code, text in ((401, "no valid credential"), (403, "the caller may not do this"),
                       (404, "not found"), (409, "conflict with the current state"),
                       (413, "request body too large"),
                       (422, "input or business rule refused"), (429, "too many requests"),
                       (500, "unexpected error (problem details with the trace id)"),
                       (503, "a dependency is unavailable; retry"))
}
"""Error answers every route may give; pass as `responses=` to APIRouter so OpenAPI documents them."""


def _db_data_error(exc: BaseException) -> bool:
    """A value the database cannot store (out of range, NUL, bad encoding): the input is at fault."""
    try:
        import asyncpg
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - every service has both
        return False
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, (sa_exc.DataError, asyncpg.exceptions.DataError,
                          asyncpg.exceptions.CharacterNotInRepertoireError,
                          asyncpg.exceptions.UntranslatableCharacterError, UnicodeError, OverflowError)):
            return True
        if isinstance(e, asyncpg.exceptions.InterfaceError) and "invalid input for query argument" in str(e):
            return True
        e = getattr(e, "orig", None) or e.__cause__ or e.__context__
    return False


def _db_conflict(exc: BaseException) -> bool:
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, sa_exc.IntegrityError)


def _db_unreachable(exc: BaseException) -> bool:
    """The database cannot be reached right now (restarting, refusing connections, a pooled connection broken by a
    restart, the pool exhausted): the request did nothing and may be sent again, so the answer is 503 with
    Retry-After, not an unexpected 500. Anything else of the driver's stays a 500."""
    try:
        import asyncpg
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - every service has both
        return False
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, (ConnectionError, asyncpg.exceptions.CannotConnectNowError,
                          asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.PostgresConnectionError,
                          asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.TooManyConnectionsError,
                          asyncpg.exceptions.InternalClientError, sa_exc.TimeoutError)):
            return True
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, asyncpg.exceptions.InterfaceError) and "connection is closed" in str(e):
            return True
        e = e.__cause__ or e.__context__
    return False


def validation_errors(errors: Sequence[Any]) -> list[FieldError]:
    """Pydantic errors → [{field, rule, message}]; the rule is the pydantic check that failed."""
    out = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path")]
        msg = e.get("msg", "invalid")
        rule = e.get("ctx", {}).get("rule") if isinstance(e.get("ctx"), dict) else None
        out.append(FieldError(".".join(loc) or "body", msg, rule or e.get("type")))
    return out


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(Problem(422, "Invalid request", "The request breaks the API contract",
                                        validation_errors(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 413:  # a streamed body past its cap (vipcore.limits.BodyLimit)
            return problem_response(Problem(413, "Request body too large", str(exc.detail),
                                            [FieldError("body", str(exc.detail), "max_body_bytes")]),
                                    {"Connection": "close"})
        return problem_response(Problem(exc.status_code, str(exc.detail)))

    @app.exception_handler(errors.Refused)
    async def _refused(_: Request, exc: errors.Refused) -> JSONResponse:
        retry = getattr(exc, "retry_after_s", None)  # 503 Unavailable, 429 TooManyRequests
        headers = {"Retry-After": str(retry)} if retry is not None else None
        return problem_response(refused_problem(exc), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # values are never put in the answer or the log line: they may be personal data
        if _db_data_error(exc):
            return problem_response(Problem(422, "Invalid request",
                                            "a value cannot be stored (out of range, or characters the database "
                                            "refuses)", [FieldError("body", "a value cannot be stored", "storable")]))
        if _db_conflict(exc):
            return problem_response(Problem(409, "Conflict", "the request conflicts with data written concurrently; "
                                                             "retry"))
        if _db_unreachable(exc):
            log.warning("database unreachable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
            return problem_response(Problem(503, "Service unavailable", "the database cannot be reached right now; "
                                            "send the same request again shortly",
                                            [FieldError("body", "database unreachable", "retry")]),
                                    {"Retry-After": "1"})
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(Problem(500, "Internal error", "an unexpected error; the trace id names the request"))

    app.add_middleware(TraceparentHeader)


class TraceparentHeader:
    """Adds the request's W3C `traceparent` to every response (pure ASGI: no per-request task like
    Starlette's BaseHTTPMiddleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_trace(message: Any) -> None:
            if message["type"] == "http.response.start":
                tp = current_traceparent()
                if tp:
                    message["headers"] = [*message.get("headers", []), (b"traceparent", tp.encode())]
            await send(message)

        await self.app(scope, receive, send_with_trace)


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ok", "unavailable"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "kafka": "ok"}],
                                   description="each dependency: ok, or why it is unavailable")


def ops_router(registry: CollectorRegistry, ready: Callable[[], Awaitable[dict[str, str]]]) -> APIRouter:
    """/healthz (process alive), /readyz (database and broker reachable), /metrics (Prometheus)."""
    r = APIRouter(tags=["ops"])
    ready_gauge = Gauge("service_ready", "1 when a dependency of this instance answers (database, kafka), "
                        "else 0; refreshed at every /readyz and /metrics", ["check"], registry=registry)

    async def checked() -> dict[str, str]:
        checks = await ready()
        for name, state in checks.items():
            ready_gauge.labels(name).set(1 if state == "ok" else 0)
        return checks

    @r.get("/healthz")
    async def healthz() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @r.get("/readyz", response_model=Readiness,
           responses={503: {"model": Readiness, "description": "the database or the broker is unreachable"}})
    async def readyz() -> Response:
        """Readiness: database and Kafka reachable."""
        checks = await checked()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                            status_code=200 if ok else 503)

    @r.get("/metrics", response_class=Response, responses={200: {
        "description": "Prometheus text exposition format",
        "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}})
    async def metrics() -> Response:
        """Prometheus metrics of this service (readiness checked first, so `service_ready` is current)."""
        await checked()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return r


def install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs with its assets served by this process (no CDN: stores often have no
    internet), from the `swagger-ui-bundle` package. Create the app with `docs_url=None`."""
    import swagger_ui_bundle

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} — API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")
