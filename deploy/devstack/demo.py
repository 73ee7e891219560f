"""The demo: stores with different programs, staff, a few hundred members, and a day of POS sales.

Everything goes through the public APIs (members admin API, gateway POS API), exactly as a chain's HQ
and its stores' POS terminals would call them.
"""

from __future__ import annotations

import json
import random
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .demo_members import PASSWORD, load_member_files
from .demo_spend import prepare_spending
from .private import write_private
from .testing import StackConfig, wait_for

console = Console()
CST = timezone(timedelta(hours=8))

STORES = [
    {"store_id": "XA-001", "name": "金缘珠宝 西安钟楼店", "region_code": "029", "program": "jewelry"},
    {"store_id": "SZ-001", "name": "金缘珠宝 深圳华强北店", "region_code": "755", "program": "jewelry"},
    {"store_id": "XA-101", "name": "长安食府 高新店", "region_code": "029", "program": "generic"},
    {"store_id": "GZ-201", "name": "悦颜美妆 天河店", "region_code": "020", "program": "cosmetics"},
]
PRICE_YUAN = {"jewelry": (120, 1500), "generic": (60, 900), "cosmetics": (50, 1300)}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "晓东", "雪梅", "海燕", "志强", "文博", "欣怡"]
# One console login per role (issue 12); most are the member-file demo's staff, two are added here.
CONSOLE_LOGINS = [("staff", "D-REF-1", "XA-001"), ("store_cs_manager", "D-CSM", "XA-001"),
                  ("store_manager", "D-GM", "XA-001"), ("store_manager", "D-GM-SZ", "SZ-001"),
                  ("hq_cs", "D-HQCS", "HQ"), ("hq_admin", "D-HQADM", "HQ"), ("auditor", "D-AUD", "HQ")]
POSITIONS = [("customer_service_manager", "cs_manager"), ("floor_manager", "staff"),
             ("sales_assistant", "staff"), ("customer_service_rep", "staff")]


def _members(rng: random.Random, per_store: int, today: date) -> list[dict[str, Any]]:
    out, mobiles = [], set()
    for s in STORES:
        for i in range(per_store):
            mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            while mobile in mobiles:
                mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            mobiles.add(mobile)
            bday = today if i % 37 == 0 else date(rng.randrange(1960, 2004), rng.randrange(1, 13),
                                                  rng.randrange(1, 29))
            out.append({"store_id": s["store_id"], "full_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                        "mobile": mobile, "birthday": bday.isoformat(),
                        "referrer_staff_id": f"S-{s['store_id']}-{rng.randrange(1, 5)}"})
    return out


def credit_customers(store_id: str) -> list[str]:
    """The group buyers of a store (C-01): each store's till sells on credit to its own buyers only (O-02)."""
    return [f"GB-{store_id}-{k}" for k in (1, 2)]


async def _open_credit(cfg: StackConfig) -> list[dict[str, str]]:
    """Credit accounts for every store's group buyers, opened by the HQ admin (a staff login, O-02)."""
    async with httpx.AsyncClient(timeout=60) as c:
        r = await c.post(cfg.url("members") + "/v1/auth/login", json={"staff_id": "D-HQADM", "password": PASSWORD})
        r.raise_for_status()
        c.headers["Authorization"] = f"Bearer {r.json()['token']}"
        out = []
        for s in STORES:
            for cust in credit_customers(s["store_id"]):
                r = await c.post(cfg.url("credit") + "/v1/accounts", json={
                    "customer_id": cust, "name": f"{s['name']} 团购客户", "customer_class": "group_company",
                    "store_id": s["store_id"], "responsible_staff_id": f"S-{s['store_id']}-2",
                    "limit_amount": 50_000_000})
                if r.status_code != 409:  # 409: opened by an earlier demo run
                    r.raise_for_status()
                out.append({"customer_id": cust, "store_id": s["store_id"]})
    return out


async def _authorize(gw: str, keys: dict[str, str], day: list[dict[str, Any]]) -> None:
    """C-04: each credit sale asks its store's till for an authorisation first; refused (limit reached), the
    customer pays cash instead."""
    async with httpx.AsyncClient(base_url=gw, timeout=60) as pos:
        for sale in day:
            pay = sale["payments"][0]
            if pay["method"] != "credit":
                continue
            r = await pos.post("/v1/credit/authorizations",
                               headers={"Authorization": f"Bearer {keys[sale['store_id']]}"},
                               json={"store_id": sale["store_id"], "customer_id": pay["credit_customer_id"],
                                     "cases": 1, "amount": pay["amount"],
                                     "responsible_staff_id": sale["cashier_staff_id"]})
            if r.status_code == 201:
                pay["authorization_id"] = r.json()["authorization_id"]
            else:
                sale["payments"] = [{"method": "cash", "amount": pay["amount"]}]


def _sales(rng: random.Random, n: int, members: list[dict[str, Any]], today: date,
           run: str = "A") -> list[dict[str, Any]]:
    by_store: dict[str, list[dict[str, Any]]] = {}
    for m in members:
        by_store.setdefault(m["store_id"], []).append(m)
    # the day's trading ends now: the gateway refuses a sale timed more than a few hours ahead (BusinessTime)
    opening = min(datetime.combine(today, datetime.min.time(), CST) + timedelta(hours=10),
                  datetime.now(CST) - timedelta(seconds=41400))
    sales = []
    for i in range(n):
        s = rng.choice(STORES)
        lo, hi = PRICE_YUAN[s["program"]]
        lines: list[dict[str, Any]] = []
        for ln in range(1, rng.choice((1, 1, 1, 2, 3)) + 1):
            price = rng.randrange(lo, hi) * 100
            qty = 1 if price > 30000 else rng.choice((1, 1, 2))
            special = rng.random() < 0.1
            paid = price * qty * (7 if special else 10) // 10
            lines.append({"line_no": ln, "sku": f"{s['program'][:3].upper()}-{rng.randrange(1, 400):03d}",
                          "qty": qty, "unit_price": price, "paid": paid, "special_price": special})
        total = sum(x["paid"] for x in lines)
        sale: dict[str, Any] = {
            "store_id": s["store_id"], "terminal_id": f"T{rng.randrange(1, 4)}",
            "receipt_no": f"{today:%Y%m%d}-{run}-{i + 1:05d}",
            "occurred_at": (opening + timedelta(seconds=int(i * 41400 / max(n, 1)))).isoformat(),
            "cashier_staff_id": f"S-{s['store_id']}-{rng.randrange(1, 5)}",
            "booked_by_staff_id": f"S-{s['store_id']}-{rng.randrange(1, 5)}",
            "lines": lines, "payments": [{"method": rng.choice(("wechat", "alipay", "cash", "bank_card")),
                                          "amount": total}]}
        r = rng.random()
        m = rng.choice(by_store[s["store_id"]])
        if r < 0.72:
            sale["member"] = {"card_no": m["card_no"]}
        elif r < 0.78:
            sale["member"] = {"mobile": m["mobile"], "name": m["full_name"]}
        if s["program"] == "generic" and rng.random() < 0.05:  # authorised before upload (C-04): _authorize
            sale["payments"] = [{"method": "credit", "amount": total,
                                 "credit_customer_id": rng.choice(credit_customers(s["store_id"])),
                                 "authorization_id": "-"}]
        sales.append(sale)
    return sales


async def _handled(cfg: StackConfig) -> float:
    """Sale events loyalty has handled so far (earning or not, M-04, M-17): its consumer group's committed
    offsets on pos.sales, summed. Offsets are committed after the batch's transaction, and they count for every
    instance of loyalty (a process's own /metrics counter would see only its share)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(f"loyalty.{cfg.topic_prefix}pos.sales")
        return float(sum(max(o.offset, 0) for o in offsets.values()))
    finally:
        await admin.close()


async def run_demo(cfg: StackConfig, out: Path, sales: int = 3000, seed: int = 2026) -> dict[str, Any]:
    rng = random.Random(seed)
    today = datetime.now(CST).date()
    admin = httpx.AsyncClient(auth=cfg.admin_auth(), timeout=60)  # an hq_admin staff token (O-02)
    gw = cfg.url("gateway")
    keys: dict[str, str] = {}
    console.rule("[bold]Demo: stores, staff, members")
    for s in STORES:
        (await admin.post(cfg.url("members") + "/v1/stores", json=s)).raise_for_status()
        keys[s["store_id"]] = (await admin.post(f"{gw}/admin/stores/{s['store_id']}/api-keys")).json()["api_key"]
    # Every staff member has a work mobile (service SMS such as overdue reminders, C-07) and, but for the store's
    # customer-service manager, a line leader (C-06): the staff directory credit and notify follow.
    staff = [{"staff_id": f"S-{s['store_id']}-{i}", "store_id": s["store_id"],
              "name": rng.choice(SURNAMES) + rng.choice(GIVEN), "position": pos, "role": role,
              "mobile": f"1700{n:03d}{i:04d}",
              **({"line_leader_staff_id": f"S-{s['store_id']}-1"} if i > 1 else {})}
             for n, s in enumerate(STORES) for i, (pos, role) in enumerate(POSITIONS, 1)]
    (await admin.post(cfg.url("members") + "/v1/staff", json=staff)).raise_for_status()
    members = _members(rng, 80, today)
    r = await admin.post(cfg.url("members") + "/v1/members", json=members)
    if r.status_code == 409:  # the demo ran before on this database: reuse its members
        console.print("[yellow]members exist already (demo loaded before); generating a new day of sales")
        rng = random.Random(time.time_ns())
        members = _members(rng, 80, today)
        r = await admin.post(cfg.url("members") + "/v1/members", json=members)
    r.raise_for_status()
    for m, issued in zip(members, r.json()["members"], strict=True):
        m.update(issued)
    console.print(f"[green]✓[/] {len(STORES)} stores (programs: jewelry, generic, cosmetics), "
                  f"{len(staff)} staff, {len(members)} members with cards")

    async def directory_ready() -> bool:
        last = members[-1]
        resp = await httpx.AsyncClient().get(f"{gw}/v1/members/lookup", params={"card_no": last["card_no"]},
                                             headers={"Authorization": f"Bearer {keys[last['store_id']]}"})
        return bool(resp.status_code == 200)

    await wait_for(directory_ready, 60, "the gateway to know the new cards")
    files = await load_member_files(cfg, admin)  # states, a pending review, a blacklisted phone, a hand-over
    (await admin.post(cfg.url("members") + "/v1/staff", json=[
        {"staff_id": "D-HQADM", "store_id": "HQ", "role": "hq_admin", "position": "hq_admin", "name": "刘洋",
         "password": PASSWORD},
        {"staff_id": "D-GM-SZ", "store_id": "SZ-001", "role": "store_manager", "position": "store_gm",
         "name": "黄磊", "password": PASSWORD}])).raise_for_status()
    logins = [{"role": role, "username": who, "password": PASSWORD, "store_id": store}
              for role, who, store in CONSOLE_LOGINS]

    handled_before = await _handled(cfg)
    run = datetime.now(CST).strftime("%H%M%S")  # a second demo the same day gets its own receipts
    day = _sales(rng, sales, members, today, run)
    credit = await _open_credit(cfg)
    await _authorize(gw, keys, day)
    console.rule(f"[bold]Replaying a day of POS sales ({len(day)} receipts) through the gateway")
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    trace_id = None
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as bar:
        task = bar.add_task("POS uploads", total=len(day))
        async with httpx.AsyncClient(base_url=gw, timeout=60) as pos:
            for sale in day[:20]:  # a few receipts one by one, as a cashier would
                resp = await pos.post("/v1/sales", json=sale,
                                      headers={"Authorization": f"Bearer {keys[sale['store_id']]}"})
                resp.raise_for_status()
                results.append({**resp.json(), "status": resp.status_code})
                if trace_id is None and resp.json().get("member_id"):  # a member's sale: every service is on its path
                    trace_id = resp.json()["trace_id"]
                bar.advance(task)
            rest = day[20:]
            for store in STORES:  # then offline catch-up batches per store
                mine = [x for x in rest if x["store_id"] == store["store_id"]]
                for i in range(0, len(mine), 200):
                    chunk = mine[i:i + 200]
                    resp = await pos.post("/v1/sales:batch", json={"sales": chunk},
                                          headers={"Authorization": f"Bearer {keys[store['store_id']]}"})
                    resp.raise_for_status()
                    results.extend(resp.json()["results"])
                    bar.advance(task, len(chunk))
    upload_s = time.perf_counter() - started
    accepted = sum(1 for x in results if x["status"] in (200, 201))
    member_sales = sum(1 for x in results if x.get("member_id"))

    with console.status("Waiting for loyalty to handle every sale..."):
        async def counted() -> bool:
            return await _handled(cfg) >= handled_before + accepted

        await wait_for(counted, 120, "loyalty to handle the day's sales", interval=0.5)
        stats = (await admin.get(cfg.url("loyalty") + "/v1/stats")).json()
    e2e_s = time.perf_counter() - started

    async def sms_settled() -> dict[str, Any] | None:
        m = (await admin.get(cfg.url("notify") + "/v1/messages", params={"limit": 5, "counts": "true"})).json()
        busy = sum(v for k, v in m["counts"].items() if k in ("queued", "sending"))
        return m if busy == 0 else None

    msgs = await wait_for(sms_settled, 60, "the SMS queue to drain")
    with console.status("Giving a few members spendable points and PINs (L-07, L-11, L-14)..."):
        redemption_proof = await prepare_spending(cfg, keys, members, STORES, run)
    receivables = (await admin.get(cfg.url("credit") + "/v1/receivables", params={"limit": 1000})).json()
    await admin.aclose()

    table = Table(title=f"Demo day {today} — summary")
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_row("sales accepted", f"{accepted} / {len(day)} ({len(day) / upload_s:.0f}/s upload)")
    table.add_row("member sales", str(member_sales))
    table.add_row("ledger entries (all runs in .run/dev)", str(stats["ledger_entries"]))
    for prog, p in stats["programs"].items():
        tiers = ", ".join(f"{k}: {v}" for k, v in sorted(p["tiers"].items()))
        table.add_row(f"program {prog}", f"{p['points_outstanding']} points outstanding; {tiers}")
    sms = ", ".join(f"{k}: {v}" for k, v in msgs["counts"].items()) or "0"
    table.add_row("SMS (all runs: points, tiers, campaigns)", sms)
    table.add_row("credit receivables", str(len(receivables["receivables"])))
    table.add_row("sale → all points counted", f"{e2e_s:.1f}s for the whole day")
    table.add_row("one trace id", str(trace_id))
    console.print(table)
    trace_url = f"{cfg.traces_url}traces/{trace_id}" if cfg.traces_url and trace_id else None
    if trace_url:
        console.print(f"One sale's trace (gateway → members, loyalty, credit, notify): [cyan]{trace_url}[/]")
    if msgs["messages"]:
        console.print(f"Latest SMS: [cyan]{msgs['messages'][0]['to']}[/] {msgs['messages'][0]['body']}")
    for name in ("gateway", "members", "loyalty", "credit", "notify", "smssim"):
        console.print(f"  {name:8} {cfg.url(name)}{'/docs' if name != 'smssim' else '/v1/messages'}")
    console.print(f"HQ APIs: log in as HQ-ADMIN (POST {cfg.url('members')}/v1/auth/login; `hq_admin_password` in "
                  f"{out.parent / 'dev' / 'secrets.json'}) or as D-HQADM below; there is no static admin token")
    console.print(f"Redemptions need the member present (L-07): `redemption_proof` in {out} names members with "
                  "spendable points and their PIN or mobile, and the calls to make")
    console.print(f"[bold]Staff console:[/] [cyan]{cfg.url('console')}[/]  (log in as one of these; start at the "
                  "member search, 会员查询)")
    for login in logins:
        console.print(f"  {login['role']:17} {login['username']:8} / {login['password']}  store {login['store_id']}")

    doc = {"gateway_url": gw,
           "stores": [{"store_id": s["store_id"], "api_key": keys[s["store_id"]], "program": s["program"]}
                      for s in STORES],
           "members": [{"card_no": m["card_no"], "mobile": m["mobile"], "name": m["full_name"],
                        "store_id": m["store_id"], "member_id": m["member_id"],
                        "program": next(s["program"] for s in STORES if s["store_id"] == m["store_id"])}
                       for m in members],
           "credit_customers": credit,  # each store's group buyers (C-01; another store's key is refused, O-02)
           "staff": [{"staff_id": s["staff_id"], "store_id": s["store_id"], "role": s["role"],
                      "line_leader_staff_id": s.get("line_leader_staff_id")} for s in staff],
           "services": {**{n: cfg.url(n) for n in ("gateway", "members", "loyalty", "credit", "notify", "console",
                                                   "smssim")},
                        **({"traces": cfg.traces_url} if cfg.traces_url else {})},
           "console_logins": logins,
           "member_files": files, "trace_id": trace_id, "trace_url": trace_url,
           "redemption_proof": redemption_proof}
    out.parent.mkdir(parents=True, exist_ok=True)
    write_private(out, json.dumps(doc, ensure_ascii=False, indent=1))  # store API keys: 0600 from the start
    console.print(f"[green]✓[/] wrote {out}")
    return doc
