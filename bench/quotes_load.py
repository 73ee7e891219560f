"""Loopback load of POST /v1/quotes through the gateway (L-06 on the cashier's critical path).

Gateway and loyalty run as real OS processes; members runs in this process (idle during the load).
Open loop: requests are started at a fixed rate whether or not earlier ones have answered, so a slow
server shows up as latency, not as a lower rate. Run:

    .venv/bin/python -m pytest bench/quotes_load.py -q -s -p no:cacheprovider   (RATE=500 SECONDS=20)
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import httpx
from devstack.testing import ServiceProcess, Stack, StackConfig

RUN = Path(__file__).resolve().parents[1] / ".run" / "bench"
RATE = int(os.environ.get("RATE", "500"))
SECONDS = float(os.environ.get("SECONDS", "20"))


async def test_quotes_p99_at_rate(stack_config: StackConfig) -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    cfg = stack_config
    procs = [ServiceProcess(cfg, s, RUN) for s in ("loyalty", "gateway")]
    async with Stack(cfg, services=("members",)) as stack:
        for p in procs:
            p.start()
        try:
            for p in procs:
                await p.wait_ready()
            key = await stack.add_store("BQ-1", "jewelry")
            members = await stack.add_members([
                {"store_id": "BQ-1", "full_name": "王建华", "mobile": f"138{uuid.uuid4().int % 10**8:08d}",
                 "birthday": "1990-01-01"} for _ in range(20)])
            await stack.wait_directory(key, members[-1]["card_no"], timeout=60)
            bodies = [{"store_id": "BQ-1", "member": {"card_no": m["card_no"]}, "id_verified": True,
                       "lines": [{"line_no": 1, "sku": "R-1", "qty": 1, "unit_price": 98800},
                                 {"line_no": 2, "sku": "S-1", "qty": 2, "unit_price": 5000, "special_price": True}]}
                      for m in members]
            lat: list[float] = []
            errors = 0
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
            async with httpx.AsyncClient(base_url=cfg.url("gateway"), limits=limits, timeout=10,
                                         headers={"Authorization": f"Bearer {key}"}) as c:
                async def one(i: int) -> None:
                    nonlocal errors
                    t = time.perf_counter()
                    r = await c.post("/v1/quotes", json=bodies[i % len(bodies)])
                    if r.status_code != 200:
                        errors += 1
                    lat.append(time.perf_counter() - t)

                for i in range(200):  # warm-up: connections, caches
                    await one(i)
                lat.clear()
                n = int(RATE * SECONDS)
                start = time.perf_counter()
                tasks = []
                for i in range(n):
                    delay = start + i / RATE - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(one(i)))
                await asyncio.gather(*tasks)
                elapsed = time.perf_counter() - start
            lat.sort()

            def pct(p: float) -> float:
                return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

            print(f"\nquotes: {n} requests in {elapsed:.1f}s = {n / elapsed:.0f} req/s offered {RATE}/s; "
                  f"errors {errors}; p50 {pct(0.50):.1f} ms, p90 {pct(0.90):.1f} ms, p99 {pct(0.99):.1f} ms, "
                  f"max {lat[-1] * 1000:.1f} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            assert errors == 0
        finally:
            for p in procs:
                p.stop()
