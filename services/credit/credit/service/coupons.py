"""C-09: numbered coupon batches drawn from finance, sales to organisations, the 17:00 tally, redemption at the
POS (a coupon is spent once); coupons paid by cheque are released when it clears (C-05)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from vipcore.errors import Conflict, NotFound, RuleViolation
from vipcore.pii import mask_mobile, mobile_index

from ..adapters import reports
from ..adapters.tables import coupon_batches, coupon_movements, coupon_sales, coupons, stores
from ..domain.coupons import TALLY_HOUR, tally_window
from ..domain.rules import PAYMENT_METHODS, cheque_clears_on
from ..domain.tenancy import coupon_number_well_formed, new_coupon_number
from .context import Credit


async def draw_batch(c: Credit, body: dict[str, Any], by: str) -> dict[str, Any]:
    """Numbered coupons drawn from finance into stock. C-09: a coupon is a bearer voucher any till of the chain
    accepts, so its number is the prefix, 12 random digits and a check digit: nobody guesses a sold coupon's
    number from another one."""
    now = c.clock()
    async with c.engine.begin() as conn:
        nos: list[str] = []
        while len(nos) < body["count"]:
            fresh = list(dict.fromkeys(new_coupon_number(body["prefix"]) for _ in range(body["count"] - len(nos))))
            taken = set((await conn.execute(sa.select(coupons.c.coupon_no).where(
                coupons.c.coupon_no.in_(fresh)))).scalars())
            nos += [n for n in fresh if n not in taken and n not in nos]
        batch_id = f"CB-{uuid.uuid4().hex[:10]}"
        await conn.execute(coupon_batches.insert().values(
            batch_id=batch_id, prefix=body["prefix"], face_value=body["face_value"], count=body["count"],
            expires_on=body["expires_on"], drawn_by=by, drawn_at=now))
        await conn.execute(coupons.insert(), [
            {"coupon_no": n, "batch_id": batch_id, "face_value": body["face_value"], "expires_on": body["expires_on"],
             "status": "in_stock", "drawn_at": now} for n in nos])
        await book(conn, "issued", [(n, body["face_value"]) for n in nos], now)
    return {"batch_id": batch_id, "first_no": nos[0], "last_no": nos[-1], "count": len(nos), "coupon_nos": nos}


async def book(conn: AsyncConnection, kind: str, items: list[tuple[str, int]], at: Any) -> None:
    """C-08: every movement of coupon stock goes to the ledger when it happens (issued, sold, rebate, returned);
    a month's reconciliation is read from it, so a later event never rewrites an earlier month."""
    if items:
        await conn.execute(coupon_movements.insert(), [{"coupon_no": n, "kind": kind, "face_value": v, "at": at}
                                                       for n, v in items])


async def take_from_stock(conn: AsyncConnection, nos: list[str], today: date, rule: str) -> list[Any]:
    """Lock the coupons; every one must be in stock and unexpired, else 422 naming them."""
    rows = (await conn.execute(sa.select(coupons).where(coupons.c.coupon_no.in_(nos)).with_for_update())).all()
    found = {r.coupon_no: r for r in rows}
    bad = [n for n in nos if n not in found or found[n].status != "in_stock" or found[n].expires_on < today]
    if bad or len(set(nos)) != len(nos):
        raise RuleViolation(rule, "coupon_nos", f"not in stock (unknown, sold, given or expired): {', '.join(bad)}"
                            if bad else "a coupon number is listed twice")
    return list(rows)


async def sell(c: Credit, body: dict[str, Any], by: str) -> dict[str, Any]:
    """C-09: a sale of numbered coupons to an organisation; paid by cheque, they are held until it clears."""
    method = body["payment_method"]
    if method not in PAYMENT_METHODS:
        raise RuleViolation("C-05", "payment_method", f"one of {', '.join(PAYMENT_METHODS)}")
    now = c.clock()
    async with c.engine.begin() as conn:
        today = c.business_date(await c.store_tz(conn, body["store_id"]))
        rows = await take_from_stock(conn, body["coupon_nos"], today, "C-09")
        cheque = method == "cheque"
        sale_id = f"CS-{uuid.uuid4().hex[:12]}"
        amount = sum(r.face_value for r in rows)
        expires = min(r.expires_on for r in rows)
        await conn.execute(coupon_sales.insert().values(
            coupon_sale_id=sale_id, store_id=body["store_id"], sold_at=now, unit=body["unit"],
            contact=body["contact"], phone_enc=c.seal(body["phone"]),
            phone_index=mobile_index(c.index_key, body["phone"]), amount=amount, payment_method=method,
            coupon_nos=body["coupon_nos"], expires_on=expires, cheque_status="pending" if cheque else None,
            clears_on=cheque_clears_on(today) if cheque else None, sold_by=by))
        await conn.execute(coupons.update().where(coupons.c.coupon_no.in_(body["coupon_nos"])).values(
            status="held" if cheque else "sold", left_stock_at=now, coupon_sale_id=sale_id))
        await book(conn, "sold", [(r.coupon_no, r.face_value) for r in rows], now)
    return {"coupon_sale_id": sale_id, "amount": amount, "expires_on": expires.isoformat(),
            "coupons": "held until the cheque clears" if cheque else "released"}


async def settle_cheque(c: Credit, sale_id: str, cleared: bool, by: str) -> dict[str, Any]:
    """C-05: coupons paid by cheque are released when it clears; a bounce puts them back in stock; `by` who said
    so."""
    async with c.engine.begin() as conn:
        s = (await conn.execute(sa.select(coupon_sales).where(coupon_sales.c.coupon_sale_id == sale_id)
                                .with_for_update())).first()
        if s is None:
            raise NotFound("coupon_sale_id", "no such coupon sale")
        if s.cheque_status != "pending":
            raise Conflict("C-05", "coupon_sale_id",
                           f"only a sale paid by a pending cheque clears or bounces (cheque status {s.cheque_status})")
        await release(conn, [sale_id], cleared, c.clock(), by)
    return {"coupon_sale_id": sale_id, "cheque_status": "cleared" if cleared else "bounced"}


async def release(conn: AsyncConnection, sale_ids: list[str], cleared: bool, now: Any, by: str | None = None) -> None:
    """The cheque paying these coupon sales cleared (coupons released) or bounced (back in stock, booked as
    returned in the month of the bounce, C-08); `by`: the staff member who said so (none: the daily run)."""
    await conn.execute(coupon_sales.update().where(coupon_sales.c.coupon_sale_id.in_(sale_ids))
                       .values(cheque_status="cleared" if cleared else "bounced", cheque_settled_by=by,
                               cheque_settled_at=now))
    q = coupons.update().where(coupons.c.coupon_sale_id.in_(sale_ids), coupons.c.status == "held")
    if cleared:
        await conn.execute(q.values(status="sold"))
        return
    back = (await conn.execute(q.values(status="in_stock", left_stock_at=None, coupon_sale_id=None)
                               .returning(coupons.c.coupon_no, coupons.c.face_value))).all()
    await book(conn, "returned", [(r.coupon_no, r.face_value) for r in back], now)


async def redeem(c: Credit, store_id: str, receipt_no: str, nos: list[str],
                 amount: int | None = None) -> tuple[int, dict[str, Any]]:
    """C-09: coupons as a POS payment: each is spent once; a second use is refused (the same receipt replays).
    `amount`, when given, is the payment the coupons cover: never more than their face value."""
    now = c.clock()
    async with c.engine.begin() as conn:
        today = c.business_date(await c.store_tz(conn, store_id))
        rows = (await conn.execute(sa.select(coupons).where(coupons.c.coupon_no.in_(nos)).with_for_update())).all()
        found = {r.coupon_no: r for r in rows}
        face = sum(r.face_value for r in rows)
        answer = {"store_id": store_id, "receipt_no": receipt_no, "coupon_nos": nos, "amount": face}
        errors: list[RuleViolation] = []
        if amount is not None and amount > face:
            errors.append(RuleViolation("C-09", "amount", f"the coupons are worth {face} fen, the payment is {amount}"))
        if not errors and len(found) == len(set(nos)) == len(nos) and all(
                (r.status, r.redeemed_store_id, r.redeemed_receipt_no) == ("redeemed", store_id, receipt_no)
                for r in rows):
            return 200, answer
        errors += refusals(nos, found, today, store_id)
        if errors:  # the first refusal names field and rule; the message lists every coupon refused
            first = errors[0]
            raise RuleViolation(first.rule, first.field, "; ".join(e.message for e in errors))
        await conn.execute(coupons.update().where(coupons.c.coupon_no.in_(nos)).values(
            status="redeemed", redeemed_store_id=store_id, redeemed_receipt_no=receipt_no, redeemed_at=now))
    return 201, answer


def refusals(nos: list[str], found: dict[str, Any], today: date, store_id: str | None = None) -> list[RuleViolation]:
    """Why these coupons cannot be spent now at `store_id` (empty: they can): C-09 once each, C-05 cheque not
    cleared. O-02: a coupon spent at another store is said to be spent, never by which store or receipt."""
    errors: list[RuleViolation] = []
    for n in nos:
        r = found.get(n)
        if r is None:
            errors.append(RuleViolation("C-09", "coupon_nos", f"{n}: no such coupon" + (
                "" if coupon_number_well_formed(n) else " (check the number: its check digit does not match)")))
        elif r.status == "redeemed":
            where = f" (receipt {r.redeemed_receipt_no})" if store_id is None or r.redeemed_store_id == store_id \
                else " at another store"
            errors.append(RuleViolation("C-09", "coupon_nos", f"{n}: already spent{where}"))
        elif r.status == "held":
            errors.append(RuleViolation("C-05", "coupon_nos", f"{n}: paid by a cheque that has not cleared"))
        elif r.status != "sold":
            errors.append(RuleViolation("C-09", "coupon_nos", f"{n}: never sold"))
        elif r.expires_on < today:
            errors.append(RuleViolation("C-09", "coupon_nos", f"{n}: expired on {r.expires_on}"))
    if len(set(nos)) != len(nos):
        errors.append(RuleViolation("C-09", "coupon_nos", "a coupon number is listed twice"))
    return errors


async def tally(c: Credit, day: date, store_id: str | None, region: str | None = None) -> dict[str, Any]:
    """C-09: the 17:00 tally — every coupon sale since 17:00 the day before, totals per payment method. Each
    store's 17:00 is its own (its time zone); without a store, every store's (or the region's stores') window in
    its own zone."""
    async with c.engine.connect() as conn:
        if store_id:
            start, end = tally_window(day, await c.store_tz(conn, store_id))
            sales, redeemed = await reports.tally_of_store(conn, store_id, start, end)
            window = {"from": start.isoformat(), "to": end.isoformat()}
            if region is not None and await conn.scalar(sa.select(stores.c.region_code).where(
                    stores.c.store_id == store_id)) != region:
                raise NotFound("store_id", f"no store {store_id} in region {region}", "O-02")
        else:
            lo, hi = (datetime.combine(d, time(TALLY_HOUR)) for d in (day - timedelta(days=1), day))
            sales, redeemed = await reports.tally_of_all_stores(conn, c.default_tz, lo, hi, region)
            window = {"from": f"{lo.isoformat()} store time", "to": f"{hi.isoformat()} store time"}
    by_method: dict[str, int] = {}
    for s in sales:
        by_method[s["payment_method"]] = by_method.get(s["payment_method"], 0) + s["amount"]
    return {"date": day.isoformat(), **window,
            "sales": [{**{k: v for k, v in s.items() if k not in ("phone_enc", "phone_index")},
                       "phone": mask_mobile(c.unseal(s["phone_enc"]) or "")} for s in sales],
            "coupons_sold": sum(len(s["coupon_nos"]) for s in sales), "amount": sum(s["amount"] for s in sales),
            "by_method": by_method, "coupons_redeemed": redeemed[0], "redeemed_amount": int(redeemed[1])}
