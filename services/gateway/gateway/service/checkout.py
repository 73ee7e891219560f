"""Recording sales from the till: what is paid is secured first, then the sale is recorded.

Order matters (C-04, L-11, C-09): the credit authorisations a sale names are checked and claimed by its receipt
first (a refusal leaves nothing behind; a claim left by a sale refused later serves the same receipt's retry and
lapses with the authorisation). The stored-value hold is taken before the coupons are spent, because a refused hold
leaves nothing behind while a spent coupon is gone; when the coupons are refused the hold is given back at once.
An upload of offline receipts (`sales:batch`) gives each receipt the same path and its own answer: a malformed or
refused receipt fails alone, before anything of its own is spent, and never fails the others."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError
from vipcore.errors import Refused, Unavailable

from ..domain.access import same_store
from ..entrypoints.schemas import SaleIn
from .coalescer import SaleCoalescer
from .coupons import CouponGate
from .credit import CreditSaleGate
from .sales import Outcome, SalesDesk
from .stored_value import StoredValuePayments, pays_with_stored_value

log = logging.getLogger("gateway.checkout")
RECEIPT = re.compile(r"[\x21-\x7e]{1,64}")


def _error(field: str, message: str, rule: str | None) -> dict[str, Any]:
    # a field name may echo a key of the upload: keep it encodable (no lone surrogates)
    return {"field": field.encode("utf-8", "backslashreplace").decode("utf-8"), "rule": rule, "message": message}


def _receipt_of(raw: Any) -> str | None:
    """The receipt number an invalid item carried, echoed only when it is a well-formed identifier."""
    r = raw.get("receipt_no") if isinstance(raw, dict) else None
    return r if isinstance(r, str) and RECEIPT.fullmatch(r) else None


class Checkout:
    """Records sales for the POS API: one sale (POST /v1/sales) or an upload of many (POST /v1/sales:batch)."""

    def __init__(self, desk: SalesDesk, coalescer: SaleCoalescer | None = None,
                 stored_value: StoredValuePayments | None = None, coupons: CouponGate | None = None,
                 credit: CreditSaleGate | None = None) -> None:
        self.desk, self.coalescer, self.stored_value, self.coupons = desk, coalescer, stored_value, coupons
        self.credit = credit

    async def pay(self, sale: SaleIn) -> None:
        """Secure what the sale is paid with: its credit authorisations checked and claimed first (C-04), then
        stored value held (L-11), then coupons spent (C-09)."""
        if self.credit is not None:
            await self.credit.claim(sale)  # C-04: refused before anything is held or spent
        held = False
        if self.stored_value is not None and pays_with_stored_value(sale):
            held = await self.stored_value.hold(sale)  # L-11: refused when the member's free balance is short
        if self.coupons is not None:
            try:
                await self.coupons.spend(sale)
            except Refused:
                if held and self.stored_value is not None:
                    await self.stored_value.release(sale)  # the refused sale spends nothing
                raise

    async def record(self, store: str, sale: SaleIn) -> Outcome:
        """One sale; durable (database + outbox) before it is answered, idempotent on (store, receipt)."""
        same_store(store, sale.store_id)
        if self.coalescer is not None:
            with self.coalescer.slot():  # 503 when the queue is full: before anything is paid or written
                await self.pay(sale)
                return await self.coalescer.submit(sale)
        await self.pay(sale)
        (out,) = await self.desk.record([sale])
        return out

    async def record_batch(self, store: str, raw_sales: list[Any]) -> list[dict[str, Any]]:
        """Each receipt of an upload validated, paid and recorded on its own; one result per receipt, in order."""
        results: list[dict[str, Any] | None] = [None] * len(raw_sales)
        ready: list[tuple[int, SaleIn]] = []
        paid: set[tuple[str, str]] = set()
        for i, raw in enumerate(raw_sales):
            try:
                sale = SaleIn.model_validate(raw)
            except ValidationError as e:
                results[i] = {"receipt_no": _receipt_of(raw), "status": 422, "errors": [
                    _error(".".join(str(x) for x in err.get("loc", ())) or "body", err.get("msg", "invalid"),
                           err.get("type")) for err in e.errors()]}
                continue
            key = (sale.store_id, sale.receipt_no)
            try:
                same_store(store, sale.store_id)
                if key not in paid:  # the same receipt again in this upload: the desk answers 200 or 409
                    await self.pay(sale)
            except Refused as e:
                results[i] = {"receipt_no": sale.receipt_no, "status": e.status,
                              "errors": [_error(e.field, e.message, e.rule)]}
                continue
            paid.add(key)
            ready.append((i, sale))
        for (i, sale), out in zip(ready, await self._record_each([s for _, s in ready]), strict=True):
            item: dict[str, Any] = {"receipt_no": sale.receipt_no, "status": out.status}
            if out.refusal is not None:
                item["errors"] = [_error(out.refusal.field, out.refusal.message, out.refusal.rule)]
            else:
                item["sale_id"] = out.body["sale_id"]
                item["member_id"] = out.body["member_id"]
            results[i] = item
        return [r for r in results if r is not None]

    async def _record_each(self, batch: list[SaleIn]) -> list[Outcome]:
        """All together in one transaction; should that fail, sale by sale, so one never fails the others."""
        if len(batch) > 1:
            try:
                return await self.desk.record(batch)
            except Exception:  # noqa: BLE001, S110 - decided per sale below
                pass
        out = []
        for sale in batch:
            try:
                (one,) = await self.desk.record([sale])
            except Exception as e:  # noqa: BLE001 - this receipt alone is answered with the failure
                log.error("recording receipt failed: %s", type(e).__name__)
                refusal: Refused = e if isinstance(e, Refused) else Unavailable(
                    "receipt_no", "the receipt could not be recorded; send it again")
                one = Outcome(refusal.status, {}, refusal)
            out.append(one)
        return out
