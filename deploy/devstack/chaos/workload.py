"""What the chaos run does to its system, through the public APIs only (members and credit HQ APIs for the set-up,
the gateway's POS API for trade): stores, staff, members, group buyers, coupons and PINs; then sales — single and
batch uploads, member and anonymous, credit sales after an authorisation, coupon payments — refunds and
redemptions with the member's PIN as proof. Every call is retried with the same body while the system is down
(idempotent, docs/pos-api.md) and bounded by a deadline; what the POS was told is recorded for the account."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx

from ..testing import StackConfig

CST = timezone(timedelta(hours=8))
STORE_PLAN = [("CH-J1", "jewelry", "029"), ("CH-J2", "jewelry", "755"), ("CH-G1", "generic", "029"),
              ("CH-G2", "generic", "020")]
POSITIONS = [("customer_service_manager", "cs_manager"), ("floor_manager", "staff"),
             ("sales_assistant", "staff"), ("customer_service_rep", "staff")]
PIN = "480213"
COUPON_FEN = 10000
REDEEM_POINTS = 100  # 1 yuan (points_per_yuan_cash 100 in both programs)
SEED_FEN = 300000  # a redeemer's purchase ten days back: spendable points (L-14) for their redemptions
MAX_LINE_FEN = {"jewelry": 60000, "generic": 90000}
RETRY = {429, 500, 502, 503, 504}


@dataclass
class Sale:
    key: tuple[str, str]  # (store_id, receipt_no)
    member: bool
    credit: int = 0  # fen on credit
    coupons: tuple[str, ...] = ()
    line1: tuple[int, int] = (1, 0)  # (qty, paid) of line 1: what a refund takes back


@dataclass
class Ledger:
    """What the POS was told."""

    sales: dict[tuple[str, str], Sale] = field(default_factory=dict)  # accepted (201, or 200 replaying it)
    unknown: dict[tuple[str, str], Sale] = field(default_factory=dict)  # no answer before the deadline
    refused: Counter[str] = field(default_factory=Counter)  # status (and rule) of sales refused for good
    refunds: dict[str, tuple[str, str]] = field(default_factory=dict)  # refund_id -> the refunded sale
    refunds_unknown: int = 0
    redemptions: set[str] = field(default_factory=set)  # redemption ids accepted
    redemptions_refused: Counter[str] = field(default_factory=Counter)
    authorizations: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # every answer and transport error seen

    @property
    def member_sales(self) -> int:
        return sum(1 for s in self.sales.values() if s.member)


@dataclass
class Store:
    store_id: str
    program: str
    region: str
    key: str = ""


@dataclass
class World:
    stores: list[Store]
    members: dict[str, list[dict[str, Any]]]  # store_id -> members (card_no, member_id, mobile)
    redeemers: list[tuple[str, dict[str, Any]]]  # (store_id, member) with a PIN and spendable points
    buyers: dict[str, list[str]]  # store_id -> its group buyers (credit customers)
    coupons: list[str]  # sold, unspent coupon numbers


def _mobiles(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add(f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
    return sorted(out)


async def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 300:
        raise RuntimeError(f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}")
    return r.json()


async def set_up(cfg: StackConfig, rng: random.Random, members_per_store: int, redeemers_per_store: int,
                 coupons: int, buyers_per_store: int = 2) -> World:
    admin = httpx.AsyncClient(auth=cfg.admin_auth(), timeout=120)
    try:
        stores = [Store(sid, prog, reg) for sid, prog, reg in STORE_PLAN]
        for s in stores:
            await _ok(await admin.post(cfg.url("members") + "/v1/stores", json={
                "store_id": s.store_id, "name": f"Chaos {s.store_id}", "region_code": s.region, "program": s.program}))
            s.key = (await _ok(await admin.post(f"{cfg.url('gateway')}/admin/stores/{s.store_id}/api-keys")))["api_key"]
        staff = [{"staff_id": f"S-{s.store_id}-{i}", "store_id": s.store_id, "name": f"店员{n}{i}", "position": pos,
                  "role": role, "mobile": f"1700{n:03d}{i:04d}",
                  **({"line_leader_staff_id": f"S-{s.store_id}-1"} if i > 1 else {})}
                 for n, s in enumerate(stores) for i, (pos, role) in enumerate(POSITIONS, 1)]
        await _ok(await admin.post(cfg.url("members") + "/v1/staff", json=staff))
        mobiles = _mobiles(rng, members_per_store * len(stores))
        members: dict[str, list[dict[str, Any]]] = {}
        for n, s in enumerate(stores):
            people = [{"store_id": s.store_id, "full_name": f"会员{n}{i}", "mobile": mobiles[n * members_per_store + i]}
                      for i in range(members_per_store)]
            for i in range(0, len(people), 1000):
                chunk = people[i:i + 1000]
                issued = (await _ok(await admin.post(cfg.url("members") + "/v1/members", json=chunk)))["members"]
                members.setdefault(s.store_id, []).extend(
                    {**m, "mobile": p["mobile"]} for p, m in zip(chunk, issued, strict=True))
        buyers: dict[str, list[str]] = {}
        for s in stores:
            for k in range(1, buyers_per_store + 1):  # C-02: 10 cases outstanding each
                cust = f"GB-{s.store_id}-{k}"
                await _ok(await admin.post(cfg.url("credit") + "/v1/accounts", json={
                    "customer_id": cust, "name": f"{s.store_id} 团购客户{k}", "customer_class": "group_company",
                    "store_id": s.store_id, "responsible_staff_id": f"S-{s.store_id}-2",
                    "limit_amount": 5_000_000_000}))
                buyers.setdefault(s.store_id, []).append(cust)
        sold: list[str] = []
        left = coupons
        while left > 0:
            n = min(left, 10_000)
            batch = await _ok(await admin.post(cfg.url("credit") + "/v1/coupon-batches", json={
                "prefix": "CH", "face_value": COUPON_FEN, "count": n,
                "expires_on": (date.today() + timedelta(days=365)).isoformat()}))
            seller = cfg.staff_token(f"S-{stores[0].store_id}-1", "store_cs_manager", store_id=stores[0].store_id)
            for i in range(0, n, 500):
                nos = batch["coupon_nos"][i:i + 500]
                await _ok(await admin.post(cfg.url("credit") + "/v1/coupon-sales", headers={
                    "Authorization": f"Bearer {seller}"}, json={
                    "store_id": stores[0].store_id, "unit": "混沌测试有限公司", "contact": "王经理",
                    "phone": "13900000000", "payment_method": "cash", "coupon_nos": nos}))
                sold += nos
            left -= n
        await _wait_known(cfg, stores, members)
        redeemers = await _prepare_redeemers(cfg, stores, members, redeemers_per_store)
        return World(stores, members, redeemers, buyers, sold)
    finally:
        await admin.aclose()


async def _wait_known(cfg: StackConfig, stores: list[Store], members: dict[str, list[dict[str, Any]]],
                      timeout: float = 300) -> None:
    """Until the gateway resolves the last card of every store (members.events consumed)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=cfg.url("gateway"), timeout=10) as gw:
        for s in stores:
            card = members[s.store_id][-1]["card_no"]
            while True:
                try:
                    r = await gw.get("/v1/members/lookup", params={"card_no": card},
                                     headers={"Authorization": f"Bearer {s.key}"})
                    if r.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the gateway does not know card {card} after {timeout:.0f}s")
                await asyncio.sleep(0.5)


async def _prepare_redeemers(cfg: StackConfig, stores: list[Store], members: dict[str, list[dict[str, Any]]],
                             per_store: int) -> list[tuple[str, dict[str, Any]]]:
    """A PIN set at the desk and a purchase ten days back (past every pending window, L-14) for a few members per
    store: the members who redeem during the run (L-07, proof by PIN)."""
    from vipcore.auth import Principal, Role, TokenIssuer

    when = (datetime.now(CST) - timedelta(days=10)).replace(hour=15, minute=0, second=0, microsecond=0)
    out = []
    async with httpx.AsyncClient(timeout=60) as c:
        for s in stores:
            desk = TokenIssuer(cfg.staff_keys[0]).issue(
                Principal(f"S-{s.store_id}-1", s.store_id, s.region, Role.STAFF))
            for n, m in enumerate(members[s.store_id][:per_store]):
                await _ok(await c.put(f"{cfg.url('members')}/v1/member-files/{m['member_id']}/pin", json={"pin": PIN},
                                      headers={"Authorization": f"Bearer {desk}"}))
                await _ok(await c.post(f"{cfg.url('gateway')}/v1/sales", headers={"Authorization": f"Bearer {s.key}"},
                                       json={"store_id": s.store_id, "terminal_id": "T1",
                                             "receipt_no": f"SEED-{s.store_id}-{n}",
                                             "occurred_at": when.isoformat(), "member": {"card_no": m["card_no"]},
                                             "cashier_staff_id": f"S-{s.store_id}-1",
                                             "lines": [{"line_no": 1, "sku": "GIFT-1", "qty": 1,
                                                        "unit_price": SEED_FEN, "paid": SEED_FEN}],
                                             "payments": [{"method": "cash", "amount": SEED_FEN}]}))
                out.append((s.store_id, m))
    return out


class Driver:
    """Sends the run's trade; every call retried with the same body until a definite answer or its deadline."""

    def __init__(self, cfg: StackConfig, world: World, rng: random.Random, *, call_timeout: float = 300) -> None:
        self.cfg = cfg
        self.world = world
        self.rng = rng
        self.call_timeout = call_timeout
        self.book = Ledger()
        self.stores = {s.store_id: s for s in world.stores}
        self.sent = 0  # sales handed to the gateway so far (progress)
        self.seed_sales()

    def seed_sales(self) -> None:
        for sid, m in self.world.redeemers:
            n = [x["member_id"] for x in self.world.members[sid]].index(m["member_id"])
            key = (sid, f"SEED-{sid}-{n}")
            self.book.sales[key] = Sale(key, True, line1=(1, SEED_FEN))

    def headers(self, store_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.stores[store_id].key}"}

    async def call(self, client: httpx.AsyncClient, path: str, body: dict[str, Any],
                   store_id: str) -> tuple[int, Any]:
        """POST until a definite answer (2xx, or a 4xx other than 429); (0, None) when the deadline passed."""
        deadline = time.monotonic() + self.call_timeout
        pause = 0.2
        while time.monotonic() < deadline:
            try:
                r = await client.post(path, json=body, headers=self.headers(store_id))
            except httpx.HTTPError as e:
                self.book.requests[type(e).__name__] += 1
                await asyncio.sleep(pause)
                pause = min(pause * 2, 3.0)
                continue
            self.book.requests[str(r.status_code)] += 1
            if r.status_code in RETRY:
                wait = float(r.headers.get("Retry-After", pause)) if r.status_code in (429, 503) else pause
                await asyncio.sleep(min(max(wait, 0.1), 5.0))
                pause = min(pause * 2, 3.0)
                continue
            try:
                return r.status_code, r.json()
            except ValueError:
                return r.status_code, None
        return 0, None

    # -- bodies ---------------------------------------------------------------------------------------------------
    def _lines(self, program: str, total: int | None = None) -> list[dict[str, Any]]:
        if total is not None:
            return [{"line_no": 1, "sku": "SKU-CPN", "qty": 1, "unit_price": total, "paid": total,
                     "special_price": False}]
        cap = MAX_LINE_FEN[program]
        n = self.rng.choice((1, 1, 1, 2, 3))
        out = []
        for i in range(n):
            price = self.rng.randrange(20, cap // 100 // n) * 100
            out.append({"line_no": i + 1, "sku": f"SKU-{self.rng.randrange(1, 400):03d}", "qty": 1,
                        "unit_price": price, "paid": price, "special_price": i > 0 and self.rng.random() < 0.1})
        return out

    def sale_body(self, store: Store, receipt_no: str, *, member: dict[str, Any] | None,
                  payments: list[dict[str, Any]] | None = None, total: int | None = None) -> dict[str, Any]:
        lines = self._lines(store.program, total)
        amount = sum(ln["paid"] for ln in lines)
        doc: dict[str, Any] = {
            "store_id": store.store_id, "terminal_id": f"T{self.rng.randrange(1, 5)}", "receipt_no": receipt_no,
            "occurred_at": datetime.now(CST).isoformat(timespec="seconds"),
            "cashier_staff_id": f"S-{store.store_id}-{self.rng.randrange(1, 5)}", "lines": lines,
            "payments": payments or [{"method": self.rng.choice(("wechat", "alipay", "cash", "bank_card")),
                                      "amount": amount}]}
        if member is not None:
            doc["member"] = {"card_no": member["card_no"]}
        return doc

    def _record(self, doc: dict[str, Any], status: int, credit: int = 0, coupons: tuple[str, ...] = ()) -> Sale:
        key = (doc["store_id"], doc["receipt_no"])
        ln = doc["lines"][0]
        sale = Sale(key, "member" in doc, credit, coupons, (ln["qty"], ln["paid"]))
        if status in (200, 201):
            self.book.sales[key] = sale
        elif status == 0:
            self.book.unknown[key] = sale
        else:
            self.book.refused[str(status)] += 1
        return sale

    # -- jobs -----------------------------------------------------------------------------------------------------
    async def batch(self, client: httpx.AsyncClient, docs: list[dict[str, Any]]) -> list[Sale]:
        """POST /v1/sales:batch; sales answered 503/429 in the 207 are sent again (alone in a smaller batch)."""
        store_id = docs[0]["store_id"]
        todo = docs
        done: list[Sale] = []
        deadline = time.monotonic() + self.call_timeout
        while todo:
            status, body = await self.call(client, "/v1/sales:batch", {"sales": todo}, store_id)
            if status != 207 or body is None:
                done += [self._record(d, 0 if status == 0 else status) for d in todo]
                return done
            again = []
            for d, res in zip(todo, body["results"], strict=True):
                st = int(res["status"])
                if st in RETRY and time.monotonic() < deadline:
                    again.append(d)
                else:
                    done.append(self._record(d, st if st not in RETRY else 0))
            if again:
                await asyncio.sleep(0.5)
            todo = again
        self.sent += 0
        return done

    async def single(self, client: httpx.AsyncClient, doc: dict[str, Any], credit: int = 0,
                     coupons: tuple[str, ...] = ()) -> Sale:
        status, body = await self.call(client, "/v1/sales", doc, doc["store_id"])
        if status == 422 and body is not None and len(self.book.refused) < 50:
            rules = ",".join(sorted({e.get("rule") or e.get("field") or "?" for e in body.get("errors", [])}))
            self.book.refused[f"422 {rules}"] += 1
            return Sale((doc["store_id"], doc["receipt_no"]), False)
        return self._record(doc, status, credit, coupons)

    async def credit_sale(self, client: httpx.AsyncClient, store: Store, receipt_no: str) -> Sale:
        """C-04: an authorisation first, then the sale naming it (anonymous: a group buyer's order)."""
        cust = self.rng.choice(self.world.buyers[store.store_id])
        doc = self.sale_body(store, receipt_no, member=None)
        amount = sum(ln["paid"] for ln in doc["lines"])
        status, body = await self.call(client, "/v1/credit/authorizations", {
            "store_id": store.store_id, "customer_id": cust, "cases": 1, "amount": amount,
            "responsible_staff_id": doc["cashier_staff_id"]}, store.store_id)
        if status != 201:  # C-02: a buyer has at most 10 cases outstanding; then the customer pays cash
            rule = ",".join(sorted({e.get("rule") or "?" for e in (body or {}).get("errors", [])}))
            self.book.refused[f"authorization {status} {rule}".strip()] += 1
            return await self.single(client, doc)
        self.book.authorizations += 1
        doc["payments"] = [{"method": "credit", "amount": amount, "credit_customer_id": cust,
                            "authorization_id": body["authorization_id"]}]
        return await self.single(client, doc, credit=amount)

    async def coupon_sale(self, client: httpx.AsyncClient, store: Store, receipt_no: str) -> Sale | None:
        if not self.world.coupons:
            return None
        no = self.world.coupons.pop()
        doc = self.sale_body(store, receipt_no, member=None, total=COUPON_FEN,
                             payments=[{"method": "coupon", "amount": COUPON_FEN, "coupon_numbers": [no]}])
        return await self.single(client, doc, coupons=(no,))

    async def refund(self, client: httpx.AsyncClient, sale: Sale) -> None:
        store_id, receipt = sale.key
        qty, paid = sale.line1
        status, body = await self.call(client, "/v1/refunds", {
            "store_id": store_id, "receipt_no": f"R-{receipt}", "original_receipt_no": receipt,
            "occurred_at": datetime.now(CST).isoformat(timespec="seconds"),
            "lines": [{"line_no": 1, "qty": qty, "paid": paid}]}, store_id)
        if status in (200, 201):
            self.book.refunds[body["refund_id"]] = sale.key
        elif status == 0:
            self.book.refunds_unknown += 1
        else:
            self.book.refused[f"refund {status}"] += 1

    async def redeem(self, client: httpx.AsyncClient) -> None:
        store_id, m = self.rng.choice(self.world.redeemers)
        rid = str(uuid.uuid4())
        status, body = await self.call(client, "/v1/redemptions", {
            "store_id": store_id, "member": {"card_no": m["card_no"]}, "points_to_cash": REDEEM_POINTS,
            "cashier_staff_id": f"S-{store_id}-1", "proof": {"pin": PIN}, "redemption_id": rid}, store_id)
        if status in (200, 201):
            self.book.redemptions.add(rid)
        else:
            rule = ",".join(sorted({e.get("rule") or "?" for e in (body or {}).get("errors", [])}))
            self.book.redemptions_refused[f"{status} {rule}".strip()] += 1
