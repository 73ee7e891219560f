"""Kafka adapters: credit records receivables from pos.sales."""

from __future__ import annotations

from vipcore.contracts.pos import SaleRecorded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import POS_SALES

from ..service import receivables


def register(rt: ServiceRuntime) -> None:
    rt.consume(POS_SALES, {SaleRecorded.TYPE: receivables.on_sales}, accept={SaleRecorded.TYPE: [SaleRecorded]})
