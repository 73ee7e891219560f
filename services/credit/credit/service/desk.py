"""The desk's lists (issue 12, the console's credit screens) as use cases: each confined to what the caller
reaches (O-02: `report_scope` gives the store or region; asking for another is refused), filtered, one page at a
time. Queries in `adapters/desk.py`."""

from __future__ import annotations

from typing import Any

from vipcore.pii import mask_mobile

from ..adapters import desk as q
from .context import Credit

Where = tuple[str | None, str | None]  # (store, region) from tenancy.report_scope


def _page(name: str, rows: list[Any], more: bool, page: int) -> dict[str, Any]:
    return {name: [dict(r) for r in rows], "page": page, "has_more": more}


async def accounts(c: Credit, where: Where, text: str | None, overdue: bool | None, suspended: bool | None,
                   page: int, limit: int) -> dict[str, Any]:
    """C-01/C-02: accounts in reach, by customer id or name, overdue or suspended."""
    async with c.engine.connect() as conn:
        rows, more = await q.accounts_page(conn, *where, text, overdue, suspended, page, limit)
    return _page("accounts", rows, more, page)


async def raises(c: Credit, customer_id: str, limit: int) -> dict[str, Any]:
    """C-02: a customer's temporary raises with who asked, who decided and the expiry."""
    async with c.engine.connect() as conn:
        rows = await q.raises_of(conn, customer_id, limit)
    return {"customer_id": customer_id, "raises": [dict(r) for r in rows]}


async def authorizations(c: Credit, where: Where, customer_id: str | None, status: str | None, page: int,
                         limit: int) -> dict[str, Any]:
    """C-04: authorisations per store and customer, held / captured / released."""
    async with c.engine.connect() as conn:
        rows, more = await q.authorizations_page(conn, *where, customer_id, status, page, limit)
    return _page("authorizations", rows, more, page)


async def receivables(c: Credit, where: Where, customer_id: str | None, open_only: bool, overdue: bool,
                      staff_id: str | None, page: int, limit: int) -> dict[str, Any]:
    """C-03/C-07: receivables with due dates and what each owes; overdue on the store's own date."""
    async with c.engine.connect() as conn:
        rows, more = await q.receivables_page(conn, c.default_tz, c.clock(), *where, customer_id, open_only,
                                              overdue, staff_id, page, limit)
    return _page("receivables", rows, more, page)


async def extensions(c: Credit, where: Where, customer_id: str | None, status: str | None, page: int,
                     limit: int) -> dict[str, Any]:
    """C-03: extension applications with their decision."""
    async with c.engine.connect() as conn:
        rows, more = await q.extensions_page(conn, *where, customer_id, status, page, limit)
    return _page("extensions", rows, more, page)


async def payments(c: Credit, where: Where, customer_id: str | None, status: str | None, method: str | None,
                   page: int, limit: int) -> dict[str, Any]:
    """C-05: payments and cheques (pending, cleared, bounced) with who recorded and who settled them."""
    async with c.engine.connect() as conn:
        rows, more = await q.payments_page(conn, *where, customer_id, status, method, page, limit)
    return _page("payments", rows, more, page)


async def writeoffs(c: Credit, where: Where, customer_id: str | None, status: str | None, page: int,
                    limit: int) -> dict[str, Any]:
    """C-06: write-off applications with the responsible staff member and line leader."""
    async with c.engine.connect() as conn:
        rows, more = await q.writeoffs_page(conn, *where, customer_id, status, page, limit)
    return _page("writeoffs", rows, more, page)


async def rebates(c: Credit, where: Where, customer_id: str | None, period: str | None, status: str | None,
                  page: int, limit: int) -> dict[str, Any]:
    """C-08: rebates with decision, slip and collection."""
    async with c.engine.connect() as conn:
        rows, more = await q.rebates_page(conn, *where, customer_id, period, status, page, limit)
    return _page("rebates", rows, more, page)


async def batches(c: Credit, page: int, limit: int) -> dict[str, Any]:
    """C-09: coupon batches with their stock by state."""
    async with c.engine.connect() as conn:
        rows, more = await q.batches_page(conn, page, limit)
    return _page("batches", rows, more, page)


async def coupon_sales(c: Credit, where: Where, cheque_status: str | None, unit: str | None, page: int,
                       limit: int) -> dict[str, Any]:
    """C-09: coupon sales, the buyer's phone masked (N-06)."""
    async with c.engine.connect() as conn:
        rows, more = await q.coupon_sales_page(conn, *where, cheque_status, unit, page, limit)
    sales = [{**{k: v for k, v in r.items() if k not in ("phone_enc", "phone_index")},
              "phone": mask_mobile(c.unseal(r["phone_enc"]) or "")} for r in rows]
    return {"sales": sales, "page": page, "has_more": more}


async def coupon_conflicts(c: Credit, where: Where, receipt_no: str | None, coupon_no: str | None, page: int,
                           limit: int) -> dict[str, Any]:
    """C-09: sales that reached credit naming coupons they could not spend (spent by another receipt, unpaid
    cheque, unknown), for finance to settle."""
    async with c.engine.connect() as conn:
        rows, more = await q.coupon_conflicts_page(conn, *where, receipt_no, coupon_no, page, limit)
    return _page("conflicts", rows, more, page)


async def credit_refusals(c: Credit, where: Where, customer_id: str | None, receipt_no: str | None, page: int,
                          limit: int) -> dict[str, Any]:
    """C-04: credit sales recorded at a till that booked no receivable: no authorisation of their store and
    customer covering them (kept by the pos.sales consumer with the rule and the reason)."""
    async with c.engine.connect() as conn:
        rows, more = await q.credit_refusals_page(conn, *where, customer_id, receipt_no, page, limit)
    return _page("refusals", rows, more, page)
