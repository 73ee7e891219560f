"""Kafka adapters: credit records receivables from pos.sales and refunds, and knows stores from members."""

from __future__ import annotations

from vipcore.contracts import credit as ev
from vipcore.contracts.members import StoreRegistered
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import CREDIT_EVENTS, MEMBERS_EVENTS, POS_SALES

from ..service.receivables import ReceivableBook


def register(rt: ServiceRuntime, book: ReceivableBook) -> None:
    rt.consume(POS_SALES, {SaleRecorded.TYPE: book.on_sales, SaleRefunded.TYPE: book.on_refunds},
               accept={SaleRecorded.TYPE: [SaleRecorded], SaleRefunded.TYPE: [SaleRefunded]})
    rt.consume(MEMBERS_EVENTS, {StoreRegistered.TYPE: book.on_stores}, accept={StoreRegistered.TYPE: [StoreRegistered]})
    rt.publishes(CREDIT_EVENTS, ev.ReceivableRecorded, ev.AuthorizationGranted, ev.AuthorizationRefused,
                 ev.AuthorizationReleased, ev.InvoiceOverdue, ev.PaymentReceived, ev.WriteoffApproved,
                 ev.RebateApproved)
