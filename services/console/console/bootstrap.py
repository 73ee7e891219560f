"""Builds the console from its settings: no database, no broker — an HTTP client for the owning services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from vipcore.auth import TokenVerifier
from vipcore.http import install_docs, install_problem_handlers, ops_router
from vipcore.limits import BodyLimit
from vipcore.telemetry import make_tracer_provider

from .adapters.upstream import Upstream
from .config import ConsoleSettings
from .domain.ops import Viewer
from .entrypoints import (
    credit_http,
    csrf,
    dashboard_http,
    export_http,
    files_http,
    http,
    loyalty_http,
    member_http,
    notify_http,
    ops_http,
    reports_http,
    stores_http,
)
from .service.credit import CreditDesk
from .service.desk import Desk
from .service.export import ExportDesk
from .service.files import FileDesk
from .service.notify import NotifyDesk
from .service.ops import TRACES, OpsDesk
from .service.stores import StoreDesk

HERE = Path(__file__).resolve().parent


def build(settings: ConsoleSettings, tracer_provider: TracerProvider | None = None) -> FastAPI:
    tp = tracer_provider or make_tracer_provider(settings.service_name, settings.otel_exporter_otlp_endpoint)
    viewer = Viewer.of(settings.traces_url)
    upstream = Upstream({"members": settings.members_url, "loyalty": settings.loyalty_url,
                         "credit": settings.credit_url, "notify": settings.notify_url,
                         "gateway": settings.gateway_url, **({TRACES: viewer.api} if viewer else {})},
                        timeout_s=settings.upstream_timeout_s)
    HTTPXClientInstrumentor.instrument_client(upstream.client, tracer_provider=tp)
    desk = Desk(upstream, TokenVerifier(settings.staff_token_public_key))
    templates = Jinja2Templates(directory=HERE / "templates")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await upstream.aclose()

    app = FastAPI(title="Console", description="HQ and store staff screens (server-rendered, htmx)", version="1",
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    install_problem_handlers(app)
    install_docs(app)

    async def ready() -> dict[str, str]:
        return {"members": "ok"}  # the console holds no state; a down service shows on the page that needs it

    app.include_router(ops_router(CollectorRegistry(), ready))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    programs = tuple(p.strip() for p in settings.programs.split(",") if p.strip())
    app.include_router(http.router(desk, templates, settings.page_size, settings.cookie_secure, programs))
    pages = http.Pages(desk, templates)
    app.include_router(member_http.router(upstream, pages, settings.page_size))
    app.include_router(dashboard_http.router(upstream, pages))
    app.include_router(reports_http.router(upstream, pages, settings.page_size))
    app.include_router(ops_http.router(OpsDesk(upstream, viewer), pages))
    app.include_router(loyalty_http.router(upstream, pages, settings.page_size))
    app.include_router(stores_http.router(StoreDesk(upstream), pages, settings.page_size))
    app.include_router(files_http.router(FileDesk(upstream), pages, settings.page_size))
    app.include_router(notify_http.router(NotifyDesk(upstream), pages, settings.page_size))
    app.include_router(credit_http.router(CreditDesk(upstream), pages, settings.page_size))
    app.include_router(export_http.router(ExportDesk(upstream), pages, settings.page_size))
    app.middleware("http")(http.session_renewal(desk, settings.cookie_secure, settings.session_renew_before_s))
    app.middleware("http")(csrf.middleware(settings.cookie_secure))  # outside the renewal: a forged post does nothing
    app.add_middleware(BodyLimit, default=settings.http_max_body_bytes,  # outermost: 413 before the form is parsed
                       routes={"/imports/upload": settings.import_max_body_bytes})  # a spreadsheet (M-19)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tp, excluded_urls="healthz,readyz,metrics,static",
                                       exclude_spans=["receive", "send"])
    return app
