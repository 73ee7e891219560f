"""The three load phases against the gateway: concurrent single sales, batch uploads to end-to-end, paced latency.

Every loop is bounded by the number of sales it was given and by a deadline.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from devstack.testing import StackConfig

from .sales import Sale
from .setup import Fixture
from .stats import percentiles
from .ui import console, progress
from .watch import Backlog, Lag, Ledger, Seen

JSON = {"Content-Type": "application/json"}
# httpx builds (and loads CA certificates into) an SSL context per client, ~25 ms CPU each, even for
# plain http://; one shared context keeps many small clients cheap.
SSL = ssl.create_default_context()


def _client(cfg: StackConfig, connections: int = 1) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=cfg.url("gateway"), timeout=httpx.Timeout(60, connect=10), verify=SSL,
                             limits=httpx.Limits(max_connections=connections,
                                                 max_keepalive_connections=connections))


class Clients:
    """Keep-alive connections to the gateway, one httpx client each.

    httpx's pool costs client CPU per request that grows with its number of connections (measured here:
    ~1 ms/request with 1-8 connections, ~4.7 ms with 48, ~5.8 ms with 256), and on a 2-core machine
    that CPU is taken from the system under test. One small client per connection keeps it ~1 ms.
    """

    def __init__(self, cfg: StackConfig, n: int) -> None:
        self.all = [_client(cfg) for _ in range(n)]
        self.free: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for c in self.all:
            self.free.put_nowait(c)

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(c.aclose() for c in self.all))


def _headers(fx: Fixture) -> dict[str, dict[str, str]]:
    return {s.store_id: {"Authorization": f"Bearer {s.api_key}", **JSON} for s in fx.stores}


@dataclass
class IngestResult:
    sent: int
    accepted: int
    seconds: float
    statuses: dict[str, int]
    http_ms: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds > 0 else 0.0


async def single_sales(cfg: StackConfig, fx: Fixture, sales: list[Sale], *, concurrency: int,
                       label: str) -> IngestResult:
    """POST /v1/sales one sale per request from `concurrency` keep-alive connections."""
    headers = _headers(fx)
    statuses: Counter[str] = Counter()
    lat: list[float] = []
    errors: list[str] = []
    queue = iter(sales)
    async with Clients(cfg, concurrency) as clients:
        with progress() as bar:
            task = bar.add_task(label, total=len(sales), info="")

            async def worker(client: httpx.AsyncClient) -> None:
                for s in queue:  # shared iterator: each sale is taken by exactly one worker
                    t = time.perf_counter()
                    try:
                        r = await client.post("/v1/sales", content=s.body, headers=headers[s.store_id])
                        statuses[str(r.status_code)] += 1
                        if r.status_code != 201 and len(errors) < 5:
                            errors.append(f"{r.status_code} {r.text[:300]}")
                    except httpx.HTTPError as e:
                        statuses[type(e).__name__] += 1
                    lat.append((time.perf_counter() - t) * 1000)
                    bar.advance(task)

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(c) for c in clients.all))
            elapsed = time.perf_counter() - t0
            bar.update(task, info=f"{statuses['201'] / elapsed:,.0f} sales/s accepted")
    return IngestResult(len(sales), statuses["201"], elapsed, dict(statuses), percentiles(lat), errors)


@dataclass
class E2EResult:
    upload: IngestResult
    expected: int
    counted: int
    seconds: float  # first upload -> loyalty committed points for every accepted member sale
    drained_s: dict[str, float]  # per consumer group: first upload -> caught up on pos.sales

    @property
    def rate(self) -> float:
        return self.counted / self.seconds if self.seconds > 0 and self.counted == self.expected else 0.0


async def batch_to_points(cfg: StackConfig, fx: Fixture, sales: list[Sale], prefix: str, *, per_request: int,
                          concurrency: int, ledger: Ledger, lag: Lag, backlog: Backlog,
                          timeout: float) -> E2EResult:
    """Upload every sale through POST /v1/sales:batch and wait until loyalty has booked points for all."""
    headers = _headers(fx)
    by_store: dict[str, list[Sale]] = {}
    for s in sales:
        by_store.setdefault(s.store_id, []).append(s)
    chunked = {sid: [ss[i:i + per_request] for i in range(0, len(ss), per_request)] for sid, ss in by_store.items()}
    requests: list[list[Sale]] = []  # round robin over the stores, as many POS catching up at once
    for i in range(max(len(c) for c in chunked.values())):
        requests += [c[i] for c in chunked.values() if i < len(c)]
    bodies = [(chunk[0].store_id, b'{"sales":[' + b",".join(s.body for s in chunk) + b"]}", len(chunk))
              for chunk in requests]
    since = await ledger.mark()
    groups = await lag.groups("pos.sales")
    statuses: Counter[str] = Counter()
    lat: list[float] = []
    errors: list[str] = []
    member_sales = {s.receipt_no for s in sales if s.member_id}
    accepted_member = 0
    uploads_done = asyncio.Event()
    drained: dict[str, float] = {}

    async with Clients(cfg, concurrency) as clients:
        with progress() as bar:
            up = bar.add_task("batch upload (500/request)", total=len(sales), info="")
            pts = bar.add_task("loyalty points committed", total=len(member_sales), info="")
            queue = iter(bodies)

            async def uploader(client: httpx.AsyncClient) -> None:
                nonlocal accepted_member
                for store_id, body, n in queue:
                    t = time.perf_counter()
                    try:
                        r = await client.post("/v1/sales:batch", content=body, headers=headers[store_id])
                    except httpx.HTTPError as e:
                        statuses[type(e).__name__] += n
                        bar.advance(up, n)
                        continue
                    lat.append((time.perf_counter() - t) * 1000)
                    if r.status_code != 207:
                        statuses[str(r.status_code)] += n
                        if len(errors) < 5:
                            errors.append(f"{r.status_code} {r.text[:300]}")
                    else:
                        for item in r.json()["results"]:
                            statuses[str(item["status"])] += 1
                            if item["status"] == 201 and item["receipt_no"] in member_sales:
                                accepted_member += 1
                            elif item["status"] != 201 and len(errors) < 5:
                                errors.append(str(item)[:300])
                    bar.advance(up, n)

            async def watch_groups() -> None:
                deadline = time.monotonic() + timeout
                while len(drained) < len(groups) and time.monotonic() < deadline:
                    if uploads_done.is_set() and (await backlog.unpublished()).get("gateway", 0) == 0:
                        now = time.perf_counter() - t0
                        for g, n in (await lag.lag("pos.sales", groups)).items():
                            if n == 0 and g not in drained:
                                drained[g] = now
                    await asyncio.sleep(0.25)

            t0 = time.perf_counter()
            watcher = asyncio.create_task(watch_groups())
            await asyncio.gather(*(uploader(c) for c in clients.all))
            t_up = time.perf_counter() - t0
            uploads_done.set()
            bar.update(up, info=f"{statuses['201'] / t_up:,.0f} sales/s accepted")
            upload = IngestResult(len(sales), statuses["201"], t_up, dict(statuses), percentiles(lat), errors)

            deadline = time.monotonic() + timeout
            counted = 0
            while time.monotonic() < deadline:
                counted = await ledger.count(since, prefix)
                now = time.perf_counter() - t0
                bar.update(pts, completed=counted, info=f"{counted / now:,.0f} sales/s end to end")
                if counted >= accepted_member:
                    break
                await asyncio.sleep(0.1)
            e2e_s = time.perf_counter() - t0
            try:
                await asyncio.wait_for(watcher, timeout=60)
            except TimeoutError:
                pass
    if counted < accepted_member:
        console.print(f"[red]✗[/] loyalty booked {counted}/{accepted_member} member sales within {timeout:.0f}s")
    return E2EResult(upload, accepted_member, counted, e2e_s, drained)


@dataclass
class PacedResult:
    rate_target: float
    sent: int
    accepted: int
    send_seconds: float
    statuses: dict[str, int]
    max_behind_ms: float  # how far sending fell behind the schedule (client or server saturated)
    http_ms: dict[str, float]
    points_ms: dict[str, float]  # POST start -> points visible in loyalty's database (upper bound)
    points_created_ms: dict[str, float]  # POST start -> ledger.created_at (loyalty tx start, lower bound)
    points_from_schedule_ms: dict[str, float]  # intended send time -> visible (no coordinated omission)
    sms_ms: dict[str, float]  # POST start -> SMS received by the simulator (upgrade sales)
    points_missing: int
    sms_expected: int
    sms_missing: int
    errors: list[str] = field(default_factory=list)


async def paced(cfg: StackConfig, fx: Fixture, sales: list[Sale], *, rate: float, max_inflight: int,
                ledger: Ledger, timeout: float) -> PacedResult:
    """Single sales at a steady `rate`; per sale: POST start -> points visible, and -> SMS for upgrades."""
    headers = _headers(fx)
    since = await ledger.mark()
    wanted = {s.receipt_no for s in sales if s.member_id}
    sent_at: dict[str, float] = {}
    sched_at: dict[str, float] = {}
    done_ms: list[float] = []
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    behind = 0.0
    stop_follow = asyncio.Event()
    follow = asyncio.create_task(ledger.follow(since, wanted, time.monotonic() + len(sales) / rate + timeout,
                                               stop=stop_follow))
    async with Clients(cfg, max_inflight) as clients:
        with progress() as bar:
            task = bar.add_task(f"paced single sales @ {rate:.0f}/s", total=len(sales), info="")
            pts = bar.add_task("points visible", total=len(wanted), info="")

            async def post(s: Sale, client: httpx.AsyncClient) -> None:
                try:
                    sent_at[s.receipt_no] = time.time()
                    t = time.perf_counter()
                    r = await client.post("/v1/sales", content=s.body, headers=headers[s.store_id])
                    done_ms.append((time.perf_counter() - t) * 1000)
                    statuses[str(r.status_code)] += 1
                    if r.status_code != 201 and len(errors) < 5:
                        errors.append(f"{r.status_code} {r.text[:300]}")
                except httpx.HTTPError as e:
                    statuses[type(e).__name__] += 1
                finally:
                    clients.free.put_nowait(client)
                    bar.advance(task)

            tasks = []
            t0, wall0 = time.perf_counter(), time.time()
            for i, s in enumerate(sales):
                target = t0 + i / rate
                delay = target - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                client = await clients.free.get()  # all connections busy: sending falls behind
                behind = max(behind, time.perf_counter() - target)
                sched_at[s.receipt_no] = wall0 + i / rate
                tasks.append(asyncio.create_task(post(s, client)))
            await asyncio.gather(*tasks)
            send_s = time.perf_counter() - t0
            bar.update(task, info=f"{statuses['201'] / send_s:,.0f}/s accepted, "
                                  f"fell behind by at most {behind * 1000:,.0f} ms")
            deadline = time.monotonic() + timeout
            while not follow.done() and time.monotonic() < deadline:
                bar.update(pts, completed=await ledger.count(since, sales[0].receipt_no.rsplit("-", 1)[0]))
                await asyncio.sleep(0.2)
            stop_follow.set()
            seen: dict[str, Seen] = await follow
            bar.update(pts, completed=len(seen))
    sms = await _sms_times(cfg, [s for s in sales if s.upgrade and s.receipt_no in sent_at], timeout)
    ok = [s for s in sales if s.receipt_no in seen]
    pts_ms = [(seen[s.receipt_no].visible_at - sent_at[s.receipt_no]) * 1000 for s in ok]
    created_ms = [(seen[s.receipt_no].created_at - sent_at[s.receipt_no]) * 1000 for s in ok]
    sched_ms = [(seen[s.receipt_no].visible_at - sched_at[s.receipt_no]) * 1000 for s in ok]
    sms_ms = [(sms[s.mobile] - sent_at[s.receipt_no]) * 1000 for s in sales if s.upgrade and s.mobile in sms]
    n_upgrades = sum(1 for s in sales if s.upgrade)
    return PacedResult(rate, len(sales), statuses["201"], send_s, dict(statuses), behind * 1000,
                       percentiles(done_ms), percentiles(pts_ms), percentiles(created_ms), percentiles(sched_ms),
                       percentiles(sms_ms), len(wanted) - len(seen), n_upgrades, n_upgrades - len(sms_ms), errors)


CAPACITY_P99_MS = 250.0


def capacity_held(r: PacedResult, p99_ms: float = CAPACITY_P99_MS) -> bool:
    """A paced step held when every sale was accepted and booked, p99 sale -> points measured from each sale's
    intended send time (so a backlog that grows counts against it) stayed within `p99_ms`, and sending never
    fell more than `p99_ms` behind its schedule."""
    p99 = r.points_from_schedule_ms.get("p99")
    return (r.accepted == r.sent and r.points_missing == 0 and p99 is not None and p99 <= p99_ms
            and r.max_behind_ms <= p99_ms)


async def _sms_times(cfg: StackConfig, upgrades: list[Sale], timeout: float) -> dict[str, float]:
    """received_at (epoch s) per mobile of the upgrade sales, from the SMS simulator's log."""
    mobiles = {s.mobile for s in upgrades if s.mobile}
    if not mobiles:
        return {}
    found: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=cfg.url("smssim"), timeout=30) as sim:
        with console.status(f"Waiting for {len(mobiles)} tier-upgrade SMS at the simulator..."):
            while time.monotonic() < deadline:
                r = await sim.get("/v1/messages", params={"limit": 100000})
                r.raise_for_status()
                msgs: list[dict[str, Any]] = r.json()["messages"]
                for m in msgs:
                    if m["to"] in mobiles and m["to"] not in found:
                        found[m["to"]] = float(m["received_at"])
                if len(found) == len(mobiles):
                    break
                await asyncio.sleep(1.0)
    return found
