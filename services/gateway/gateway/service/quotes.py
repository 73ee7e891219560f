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
from vipcore.httpclient import InternalClient, Reply

from .coalescer import Gatherer, settle


class QuoteBatcher(Gatherer[dict[str, Any], Reply]):
    def __init__(self, loyalty: InternalClient, max_batch: int = 100) -> None:
        super().__init__(max_batch)
        self.loyalty = loyalty

    async def price(self, quote: dict[str, Any]) -> Reply:
        """Loyalty's answer for one basket: 200 with the priced basket, or loyalty's status and problem."""
        return await self._submit(quote, otel_context.get_current())

    async def _flush(self, group: list[tuple[dict[str, Any], Context, asyncio.Future[Reply]]]) -> None:
        try:
            if len(group) == 1:
                quote, ctx, fut = group[0]
                token = otel_context.attach(ctx)  # alone: the call is part of the request's trace
                try:
                    settle(fut, await self.loyalty.post("/internal/quotes", quote))
                finally:
                    otel_context.detach(token)
                return
            links = [trace.Link(trace.get_current_span(ctx).get_span_context()) for _, ctx, _ in group]
            reply = await self.loyalty.post("/internal/quotes:batch", {"quotes": [g[0] for g in group]},
                                            links=links)
        except Exception as e:  # noqa: BLE001 - every waiting request gets the failure
            for _, _, fut in group:
                settle(fut, error=e)
            return
        if reply.status == 200:
            for (_, _, fut), res in zip(group, reply.body["results"], strict=True):
                settle(fut, Reply(200, res))
        else:
            for _, _, fut in group:
                settle(fut, reply)
