"""HTTP plumbing shared by every service: RFC 9457 problem details, trace ids, health, metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from .telemetry import current_trace_id, current_traceparent

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


def problem_response(p: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if p.status == 401 else None
    return JSONResponse(p.body(), status_code=p.status, media_type=PROBLEM, headers=headers)


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
        return problem_response(Problem(exc.status_code, str(exc.detail)))

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


def ops_router(registry: CollectorRegistry, ready: Callable[[], Awaitable[dict[str, str]]]) -> APIRouter:
    """/healthz (process alive), /readyz (database and broker reachable), /metrics (Prometheus)."""
    r = APIRouter(tags=["ops"])

    @r.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @r.get("/readyz")
    async def readyz() -> Response:
        """Readiness: database and Kafka reachable."""
        checks = await ready()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                            status_code=200 if ok else 503)

    @r.get("/metrics")
    async def metrics() -> Response:
        """Prometheus metrics of this service."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return r


def admin_guard(token: str) -> Callable[[Request], Awaitable[None]]:
    """Dependency: HQ admin / service-to-service calls carry `Authorization: Bearer <ADMIN_TOKEN>`."""
    import hmac

    async def guard(request: Request) -> None:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise Problem(401, "Unauthorized", "missing bearer token",
                          [FieldError("Authorization", "a bearer token is required")])
        if not hmac.compare_digest(auth[7:].strip().encode(), token.encode()):
            raise Problem(403, "Forbidden", "this token may not call admin endpoints")

    return guard
