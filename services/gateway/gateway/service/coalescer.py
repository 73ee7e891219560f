"""Concurrent single-sale POSTs share one transaction.

While one group of sales is being written, the next group gathers; at low load a group is one sale and
nothing waits, under load one commit (one WAL flush, one outbox statement) serves many cashiers. Each
sale keeps its own request's trace and gets its own answer; a failing group is retried sale by sale so
one bad sale never fails the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from vipcore.errors import Unavailable
from vipcore.telemetry import current_trace_id, current_traceparent

from ..entrypoints.schemas import SaleIn
from .sales import Outcome, SalesDesk

T = TypeVar("T")
R = TypeVar("R")


class Gatherer(ABC, Generic[T, R]):
    """Items submitted while a flush is under way wait for the next flush, which takes them together.

    Each submitter awaits its own answer; the flushing task runs in a clean context (it belongs to no single
    request's trace). Subclasses say how a group is flushed and settle every future of the group.

    Bounded: at most `max_pending` items are admitted at once (waiting or being written); one more is refused with
    503 and Retry-After *before* anything of it is done (`slot()`), so nothing is lost or half-written."""

    def __init__(self, max_batch: int, max_pending: int = 2000) -> None:
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._queue: list[tuple[T, Any, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None
        self._admitted = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """A place among the `max_pending` admitted items for as long as the block runs, or Unavailable (503 with
        Retry-After) at once when every place is taken. Take it before any side effect of the item."""
        if self._admitted >= self.max_pending:
            raise Unavailable(self.field, f"the gateway has {self._admitted} {self.what} waiting already; retry "
                                          "shortly", retry_after_s=1)
        self._admitted += 1
        try:
            yield
        finally:
            self._admitted -= 1

    field = "body"
    what = "requests"

    async def _submit(self, item: T, ctx: Any) -> R:
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, ctx, fut))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), context=contextvars.Context())
        return await fut

    async def _drain(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            await self._flush(group)

    @abstractmethod
    async def _flush(self, group: list[tuple[T, Any, asyncio.Future[R]]]) -> None:
        """Answer every future of the group (settle), never raise."""


class SaleCoalescer(Gatherer[SaleIn, Outcome]):
    field, what = "receipt_no", "sales"

    def __init__(self, desk: SalesDesk, max_batch: int = 200, max_pending: int = 2000) -> None:
        super().__init__(max_batch, max_pending)
        self.desk = desk

    async def submit(self, sale: SaleIn) -> Outcome:
        """Write the sale with the next group; call inside `slot()` (taken before the sale was paid)."""
        return await self._submit(sale, (current_traceparent(), current_trace_id()))

    async def _flush(self, group: list[tuple[SaleIn, Any, asyncio.Future[Outcome]]]) -> None:
        try:
            outs = await self.desk.record([g[0] for g in group], [g[1] for g in group])
        except Exception as e:  # noqa: BLE001 - decided per sale below
            if len(group) == 1:
                settle(group[0][2], error=e)
                return
            for sale, trace, fut in group:
                try:
                    (out,) = await self.desk.record([sale], [trace])
                    settle(fut, out)
                except Exception as e1:  # noqa: BLE001
                    settle(fut, error=e1)
            return
        for (_, _, fut), out in zip(group, outs, strict=True):
            settle(fut, out)


def settle(fut: asyncio.Future[Any], result: Any = None, error: BaseException | None = None) -> None:
    if fut.done():  # the client went away
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)
