"""Credit for group buyers at the till (C-04) and group-buy coupons (C-09): asked of the credit service
synchronously, because the cashier must know before the goods leave."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import RuleViolation, Unavailable
from vipcore.identity import bearer_auth

from ..adapters.tables import sales
from ..config import GatewaySettings
from ..domain.access import same_store
from ..entrypoints.schemas import SaleIn


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


class CreditSaleGate:
    """C-04: a sale paying on credit is recorded only when credit has checked the authorisation each `credit`
    payment names — this store's, this customer's, covering the amount, not used by another receipt — and bound
    it to the receipt. A refusal is the cashier's 422 naming C-04; nothing is recorded. A receipt already recorded
    is left to the sales desk (replay 200 or conflict 409)."""

    def __init__(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        self.client = client
        self.engine = engine

    async def claim(self, sale: SaleIn) -> None:
        """Raise RuleViolation (naming `payments[i].…` and the rule) or Unavailable when credit cannot be used."""
        wanted = credit_claims(sale)
        if not wanted:
            return
        async with self.engine.connect() as conn:
            if await conn.scalar(sa.select(sa.literal(1)).where(
                    sales.c.store_id == sale.store_id, sales.c.receipt_no == sale.receipt_no)):
                return
        for (customer_id, auth_id), (i, amount) in wanted.items():
            try:
                resp = await self.client.post(f"/internal/authorizations/{auth_id}/claims", json={
                    "store_id": sale.store_id, "receipt_no": sale.receipt_no, "customer_id": customer_id,
                    "amount": amount})
            except httpx.HTTPError as e:
                raise Unavailable(f"payments[{i}].authorization_id", f"credit could not be checked "
                                                                     f"({type(e).__name__}); try again shortly",
                                  "C-04") from None
            if resp.status_code in (200, 201):
                continue
            if resp.status_code in (404, 422):
                try:
                    first = (resp.json().get("errors") or [{}])[0]
                except (ValueError, AttributeError):
                    first = {}
                field = "amount" if first.get("field") == "amount" else "authorization_id"
                raise RuleViolation(first.get("rule") or "C-04", f"payments[{i}].{field}",
                                    first.get("message") or "the authorisation does not cover this sale")
            raise Unavailable(f"payments[{i}].authorization_id",
                              f"the credit service answered {resp.status_code}; try again shortly", "C-04")


def credit_claims(sale: SaleIn) -> dict[tuple[str, str], tuple[int, int]]:
    """(customer, authorisation) -> (index of its first payment, total amount) of a sale's credit payments."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for i, p in enumerate(sale.payments):
        if p.method == "credit" and p.credit_customer_id and p.authorization_id:
            k = (p.credit_customer_id, p.authorization_id)
            first, total = out.get(k, (i, 0))
            out[k] = (first, total + p.amount)
    return out
