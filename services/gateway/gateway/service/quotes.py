"""Concurrent quotes share one call to loyalty (L-06 on the cashier's critical path).

While one call is in flight the next quotes gather; at low load a call carries one quote, in the
request's own trace, and nothing waits; under load one request and one database read in loyalty serve
every cashier who asked meanwhile, which keeps the tail short at the POS's peak. A shared call belongs
to no single request's trace: its span links to each request's span instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from vipcore.errors import Unavailable
from vipcore.httpclient import InternalClient, Reply, Unreachable

from ..entrypoints.schemas import QuoteIn
from .coalescer import Gatherer, settle
from .directory import Directory


class QuoteBatcher(Gatherer[dict[str, Any], Reply]):
    field, what = "lines", "quotes"

    def __init__(self, loyalty: InternalClient, max_batch: int = 100, max_pending: int = 2000) -> None:
        super().__init__(max_batch, max_pending)
        self.loyalty = loyalty

    async def price(self, quote: dict[str, Any]) -> Reply:
        """Loyalty's answer for one basket: 200 with the priced basket, or loyalty's status and problem.
        503 (Unavailable) at once when `max_pending` quotes are waiting already."""
        with self.slot():
            return await self._submit(quote, otel_context.get_current())

    async def _flush(self, group: list[tuple[dict[str, Any], Context, asyncio.Future[Reply]]]) -> None:
        if len(group) == 1:  # alone: the call is part of the request's trace
            await self._alone(*group[0])
            return
        try:
            links = [trace.Link(trace.get_current_span(ctx).get_span_context()) for _, ctx, _ in group]
            reply = await self.loyalty.post("/internal/quotes:batch", {"quotes": [g[0] for g in group]},
                                            links=links)
        except Unreachable as e:  # loyalty is down: every waiting request gets that
            for _, _, fut in group:
                settle(fut, error=e)
            return
        except Exception:  # noqa: BLE001 - not loyalty being down: each quote is asked on its own below
            reply = Reply(500, None)
        results = reply.body.get("results") if reply.status == 200 and isinstance(reply.body, dict) else None
        if isinstance(results, list) and len(results) == len(group):
            for (_, _, fut), res in zip(group, results, strict=True):
                settle(fut, _item_reply(res))
            return
        await asyncio.gather(*(self._alone(quote, ctx, fut) for quote, ctx, fut in group))

    async def _alone(self, quote: dict[str, Any], ctx: Context, fut: asyncio.Future[Reply]) -> None:
        """One quote asked on its own, in its request's trace: its answer (or failure) is its own."""
        token = otel_context.attach(ctx)
        try:
            settle(fut, await self.loyalty.post("/internal/quotes", quote))
        except Exception as e:  # noqa: BLE001 - this quote's waiter gets the failure
            settle(fut, error=e)
        finally:
            otel_context.detach(token)


def _item_reply(res: Any) -> Reply:
    """A result of a shared call: a priced basket, or (should loyalty answer per item) that item's problem."""
    if isinstance(res, dict) and isinstance(res.get("status"), int) and res["status"] >= 400:
        return Reply(res["status"], res)
    return Reply(200, res)


class Quoting:
    """L-06 on the cashier's critical path: which member, then loyalty's member price for the basket."""

    def __init__(self, directory: Directory, engine: Any, batcher: QuoteBatcher) -> None:
        self.directory, self.engine, self.batcher = directory, engine, batcher

    async def quote(self, q: QuoteIn) -> tuple[str | None, Reply]:
        """(member_id, loyalty's reply): 200 with the priced basket, or loyalty's 4xx problem for this basket."""
        member_id = None
        if q.member is not None:
            ref = q.member.model_dump()
            member_id = self.directory.cached_member(ref, q.store_id)
            if member_id is None:
                async with self.engine.connect() as conn:
                    (member_id,) = await self.directory.resolve(conn, [ref], q.store_id)  # O-02: this program's
                self.directory.remember_member(ref, q.store_id, member_id)
        try:
            reply = await self.batcher.price({
                "store_id": q.store_id, "member_id": member_id, "id_verified": q.id_verified,
                "by_mobile": q.member is not None and q.member.card_no is None,  # L-06 birthday proof
                "lines": [ln.model_dump() for ln in q.lines]})
        except Unreachable:
            raise Unavailable("lines", "member prices cannot be computed right now; charge the regular price or "
                                       "retry", "L-06") from None
        if reply.status == 200 or (400 <= reply.status < 500 and isinstance(reply.body, dict)):
            return member_id, reply
        raise Unavailable("lines", f"loyalty answered {reply.status} to a quote; charge the regular price or retry",
                          "L-06")
