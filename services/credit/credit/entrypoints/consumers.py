"""Kafka adapters: credit records receivables, spent coupons and purchases from pos.sales and refunds, and knows
stores, staff and member classes from members."""

from __future__ import annotations

from vipcore.contracts import credit as ev
from vipcore.contracts.members import MemberRegistered, MemberUpdated, StaffChanged, StoreRegistered
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.runtime import ServiceRuntime
from vipcore.topics import CREDIT_EVENTS, MEMBERS_EVENTS, POS_SALES

from ..service.members_in import MemberClasses
from ..service.receivables import ReceivableBook
from ..service.sales_in import SalesIn
from ..service.staff import StaffDirectory


def register(rt: ServiceRuntime, book: ReceivableBook, staff: StaffDirectory, classes: MemberClasses) -> None:
    sales = SalesIn(book)
    rt.consume(POS_SALES, {SaleRecorded: sales.on_sales, SaleRefunded: sales.on_refunds})
    rt.consume(MEMBERS_EVENTS, {StoreRegistered: book.on_stores, StaffChanged: staff.on_staff,
                                MemberRegistered: classes.on_members, MemberUpdated: classes.on_members})
    rt.publishes(CREDIT_EVENTS, ev.ReceivableRecorded, ev.AuthorizationGranted, ev.AuthorizationRefused,
                 ev.AuthorizationReleased, ev.InvoiceOverdue, ev.PaymentReceived, ev.WriteoffApproved,
                 ev.RebateApproved)
