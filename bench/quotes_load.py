"""Loopback load of POST /v1/quotes through the gateway (L-06 on the cashier's critical path).

Gateway and loyalty run as real OS processes; members runs in this process (idle during the load).
Open loop: requests are started at a fixed rate whether or not earlier ones have answered, so a slow
server shows up as latency, not as a lower rate. Run:

    .venv/bin/python -m pytest bench/quotes_load.py -q -s -p no:cacheprovider   (RATE=500 SECONDS=20 CONNS=32)
    TARGET=loyalty measures loyalty's /internal/quotes alone (the gateway's share is the difference).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import orjson
from devstack.testing import ServiceProcess, Stack, StackConfig

RUN = Path(__file__).resolve().parents[1] / ".run" / "bench"
RATE = int(os.environ.get("RATE", "500"))
CONNS = int(os.environ.get("CONNS", "32"))
TARGET = os.environ.get("TARGET", "gateway")
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
            cpu0 = {p.service: _cpu_seconds(p) for p in procs}
            if TARGET == "loyalty":  # the loyalty half alone: /internal/quotes with the gateway's service token
                bodies = [{"store_id": "BQ-1", "member_id": m["member_id"], "id_verified": True,
                           "lines": b["lines"]} for m, b in zip(members, bodies, strict=True)]
                token = cfg.service_token("gateway", "loyalty", ttl_s=900)
                lat, errors = await _load(cfg.port("loyalty"), token, bodies, "/internal/quotes")
            else:
                lat, errors = await _load(cfg.port("gateway"), key, bodies, "/v1/quotes")
            cpu = {p.service: (_cpu_seconds(p) - cpu0[p.service]) * 1000 / (len(lat) + 300) for p in procs}
            n = len(lat)
            elapsed = SECONDS
            lat.sort()

            def pct(p: float) -> float:
                return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

            print(f"\n{TARGET} quotes: {n} requests over {elapsed:.0f}s at {RATE}/s on {CONNS} keep-alive connections; "
                  f"errors {errors}; p50 {pct(0.50):.1f} ms, p90 {pct(0.90):.1f} ms, p99 {pct(0.99):.1f} ms, "
                  f"max {lat[-1] * 1000:.1f} ms; CPU per request: "
                  + ", ".join(f"{s} {ms:.2f} ms" for s, ms in cpu.items())
                  + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            assert errors == 0
        finally:
            for p in procs:
                p.stop()


def _cpu_seconds(proc: ServiceProcess) -> float:
    """User+system CPU of a service process (from /proc): a per-request cost that other load cannot inflate."""
    fields = Path(f"/proc/{proc.pidfile.read_text().strip()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(port: int, key: str, bodies: list[dict], path: str) -> tuple[list[float], int]:
    """Open loop on raw keep-alive HTTP/1.1 connections (a cheap client: the server is what is measured).

    Request i is due at start + i/RATE; its latency counts from when it was due (queueing included).
    """
    payloads = [orjson.dumps(b) for b in bodies]
    n = int(RATE * SECONDS)
    lat: list[float] = []
    errors = 0
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                i, due = await queue.get()
                if i < 0:
                    queue.task_done()
                    return
                body = payloads[i % len(payloads)]
                head_out = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                            f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n")
                writer.write(head_out.encode() + body)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n")
                              if h.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
                if due > 0:
                    lat.append(time.perf_counter() - due)
                queue.task_done()
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(CONNS)]
    for i in range(300):  # warm-up, not measured
        queue.put_nowait((i, 0.0))
    await queue.join()
    start = time.perf_counter() + 0.1
    for i in range(n):
        due = start + i / RATE
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((i, due))
    for _ in workers:
        queue.put_nowait((-1, 0.0))
    await asyncio.gather(*workers)
    return lat, errors
