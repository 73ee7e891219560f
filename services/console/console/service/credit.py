"""The credit screens' calls to credit (issue 12), each with the logged-in staff member's token: credit decides
what this person may see (O-02: their store's, or the chain's) and do (its role matrix), and records the
operator from the token (C-01..C-09). The console sends no operator of its own."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from ..adapters.upstream import Refusal, Upstream
from ..domain.credit import TABS, params_of
from .desk import Section, Session


class CreditDesk:
    def __init__(self, up: Upstream) -> None:
        self.up = up

    async def _get(self, s: Session, path: str, **params: Any) -> Any:
        return await self.up.call("credit", "GET", path, s.token, params=params)

    async def _post(self, s: Session, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.up.call("credit", "POST", path, s.token, json=body)

    async def tab(self, s: Session, name: str, given: dict[str, str], page: int, limit: int) -> dict[str, Any]:
        """One page of a tab's list (accounts, authorisations, receivables...) with its filters."""
        tab = TABS[name]
        ans = await self._get(s, tab.path, **params_of(tab, given, page, limit))
        extra = {k: v for k, v in ans.items() if k not in (tab.key, "page", "has_more")}  # e.g. tiers' in_force
        return {**extra, "rows": list(ans[tab.key]), "page": int(ans["page"]), "has_more": bool(ans["has_more"])}

    async def account(self, s: Session, customer_id: str, limit: int) -> dict[str, Any]:
        """An account (C-01, C-02) with its raises, authorisations, receivables and payments, read at once; a part
        credit refuses shows its refusal alone."""
        async def part(path: str, **params: Any) -> Section:
            try:
                return Section(await self._get(s, path, **params))
            except Refusal as e:
                return Section(refusal=e)

        account = await self._get(s, f"/v1/accounts/{customer_id}")  # refused: the whole page is
        raises, auths, recs, pays = await asyncio.gather(
            part(f"/v1/accounts/{customer_id}/raises"),
            part("/v1/authorizations", customer_id=customer_id, limit=limit),
            part("/v1/receivables", customer_id=customer_id, limit=limit),
            part("/v1/payments", customer_id=customer_id, limit=limit))
        return {"account": account, "raises": raises, "authorizations": auths, "receivables": recs,
                "payments": pays}

    async def liabilities(self, s: Session, staff_id: str) -> dict[str, Any]:
        """A staff member's bad-debt charges and fines (C-06)."""
        return dict(await self._get(s, f"/v1/staff/{staff_id}/liabilities"))

    async def tally(self, s: Session, day: date, store_id: str) -> dict[str, Any]:
        """The 17:00 coupon tally of a day (C-09); the coupon conflicts are their own paged tab."""
        return {"tally": await self._get(s, "/v1/reports/coupon-tally", date=day.isoformat(), store_id=store_id)}

    async def reconciliation(self, s: Session, month: str) -> dict[str, Any]:
        """The month's coupon reconciliation with finance (C-08)."""
        return dict(await self._get(s, "/v1/reports/coupon-reconciliation", month=month))

    # -- actions: credit checks the role and scope and records the operator from the token --------------------

    async def apply_raise(self, s: Session, customer_id: str, body: dict[str, Any]) -> Any:
        return await self._post(s, f"/v1/accounts/{customer_id}/raises", body)  # C-02

    async def suspend(self, s: Session, customer_id: str, reason: str | None) -> Any:
        if reason is None:
            return await self.up.call("credit", "DELETE", f"/v1/accounts/{customer_id}/suspension", s.token)
        return await self._post(s, f"/v1/accounts/{customer_id}/suspension", {"reason": reason})  # C-01

    async def pay(self, s: Session, customer_id: str, body: dict[str, Any]) -> Any:
        return await self._post(s, f"/v1/accounts/{customer_id}/payments", body)  # C-05

    async def settle_cheque(self, s: Session, payment_id: str, cleared: bool) -> Any:
        return await self._post(s, f"/v1/payments/{payment_id}/{'clearing' if cleared else 'bounce'}")  # C-05

    async def apply_extension(self, s: Session, receivable_id: str, new_due: str, reason: str) -> Any:
        return await self._post(s, f"/v1/receivables/{receivable_id}/extensions",
                                {"new_due_date": new_due, "reason": reason})  # C-03

    async def apply_writeoff(self, s: Session, receivable_id: str, reason: str) -> Any:
        return await self._post(s, f"/v1/receivables/{receivable_id}/writeoffs", {"reason": reason})  # C-06

    async def decide(self, s: Session, kind: str, ident: str, approve: bool) -> Any:
        """A manager's decision on a raise (C-02), extension (C-03), write-off (C-06) or rebate (C-08)."""
        return await self._post(s, f"/v1/{kind}/{ident}/decision", {"approve": approve})

    async def run_rebates(self, s: Session, start: str, end: str) -> Any:
        return await self._post(s, "/v1/rebate-runs", {"start": start, "end": end})  # C-08

    async def collect(self, s: Session, slip_no: str, coupon_nos: list[str], collected_by: str) -> Any:
        return await self._post(s, f"/v1/rebate-slips/{slip_no}/collection",
                                {"coupon_nos": coupon_nos, "collected_by": collected_by})  # C-08

    async def draw_batch(self, s: Session, body: dict[str, Any]) -> Any:
        return await self._post(s, "/v1/coupon-batches", body)  # C-09

    async def sell_coupons(self, s: Session, body: dict[str, Any]) -> Any:
        return await self._post(s, "/v1/coupon-sales", body)  # C-09

    async def settle_coupon_cheque(self, s: Session, sale_id: str, cleared: bool) -> Any:
        return await self._post(s, f"/v1/coupon-sales/{sale_id}/{'clearing' if cleared else 'bounce'}")  # C-05

    async def set_tiers(self, s: Session, tiers: list[dict[str, int]], effective_from: str | None) -> Any:
        """C-08: a new version of the rebate tiers from a date, or from credit's today (finance; credit records who
        from the token)."""
        body: dict[str, Any] = {"tiers": tiers}
        if effective_from:
            body["effective_from"] = effective_from
        return await self.up.call("credit", "PUT", "/v1/rebate-tiers", s.token, json=body)

    async def close_month(self, s: Session, month: str) -> Any:
        return await self._post(s, "/v1/reconciliation-closes", {"month": month})  # C-08
