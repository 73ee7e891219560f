"""Each report read from the service that owns it, with the staff member's token (that service decides who may):
loyalty (points liability, stored value, movements; R-03, L-11) and members (KPIs, M-21)."""

from __future__ import annotations

from datetime import date

from ..adapters.upstream import Upstream
from ..domain import reports
from .desk import Session


async def fetch(up: Upstream, s: Session, name: str, since: date, until: date, period: str,
                store_id: str) -> reports.Table:
    if name == "liability":
        return reports.liability(await up.call("loyalty", "GET", "/v1/reports/liability", s.token))
    if name == "stored_value":
        return reports.stored_value(await up.call("loyalty", "GET", "/v1/reports/stored-value", s.token,
                                                  params={"since": since.isoformat(), "until": until.isoformat()}))
    if name == "movements":
        return reports.movements(await up.call("loyalty", "GET", "/v1/reports/movements", s.token,
                                               params={"since": since.isoformat(), "until": until.isoformat()}))
    if name == "kpi":
        return reports.kpi(await up.call("members", "GET", "/v1/kpi", s.token,
                                         params={"period": period, "store_id": store_id}))
    raise KeyError(name)
