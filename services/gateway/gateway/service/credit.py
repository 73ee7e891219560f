"""Credit for group buyers at the till (C-04) and group-buy coupons (C-09): asked of the credit service
synchronously, because the cashier must know before the goods leave."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from vipcore.errors import Unavailable
from vipcore.identity import bearer_auth

from ..config import GatewaySettings
from ..domain.access import same_store


def credit_client(settings: GatewaySettings, tracer_provider: TracerProvider,
                  token: Callable[[], str]) -> httpx.AsyncClient:
    """The gateway's client for credit's internal routes, each call with the gateway's service token."""
    client = httpx.AsyncClient(
        base_url=settings.credit_url, timeout=5.0, auth=bearer_auth(token),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50))
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=tracer_provider)
    return client


class CreditDesk:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def ask(self, store: str, store_id: str, path: str, body: dict[str, Any],
                  rule: str) -> tuple[int, dict[str, Any]]:
        """Credit's answer (status, body): 2xx granted, or 404/409/422 refused naming the rule."""
        same_store(store, store_id)
        try:
            resp = await self.client.post(path, json=body)
        except httpx.HTTPError as e:
            raise Unavailable("store_id", f"the credit service did not answer ({type(e).__name__}); try again "
                                          "shortly", rule) from None
        if resp.status_code in (200, 201, 404, 409, 422):
            try:
                answer = resp.json()
            except ValueError:
                answer = None
            if isinstance(answer, dict):
                return resp.status_code, answer
        raise Unavailable("store_id", f"the credit service answered {resp.status_code}; try again shortly", rule)
