"""Kafka adapters: credit records receivables from pos.sales."""

from __future__ import annotations

from vipcore.contracts.credit import ReceivableRecorded
from vipcore.contracts.pos import SaleRecorded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import CREDIT_EVENTS, POS_SALES

from ..service import receivables


def register(rt: ServiceRuntime) -> None:
    rt.consume(POS_SALES, {SaleRecorded.TYPE: receivables.on_sales}, accept={SaleRecorded.TYPE: [SaleRecorded]})
    rt.publishes(CREDIT_EVENTS, ReceivableRecorded)
