"""M-19 benchmark: import N generated customers (default 100,000) from a CSV on a real stack and time it.

    .venv/bin/python bench/members_import.py [N] [--members-only]

Starts its own Kafka and PostgreSQL (like the tests), runs the members service (and the gateway, which
consumes the members.registered events) in-process, uploads the CSV and polls the progress resource."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(n: int) -> bytes:
    rnd = random.Random(42)
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
    lines = ["姓名,手机,性别,生日,地址"]
    mobiles = rnd.sample(range(10**8), n)
    for i in range(n):
        name = rnd.choice(surnames) + rnd.choice(given) + rnd.choice(given)
        lines.append(f"{name},13{rnd.randint(3, 9)}{mobiles[i]:08d},{rnd.choice('男女')},"
                     f"19{rnd.randint(50, 99)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d},"
                     f"西安市雁塔区高新路{rnd.randint(1, 999)}号")
    return "\n".join(lines).encode()


async def main(n: int) -> None:
    from devstack import kafka, postgres
    from devstack.procs import free_port
    from devstack.testing import Stack, StackConfig

    home = ROOT / ".run" / "bench-import"
    node = kafka.KafkaNode(home=home / "kafka", port=free_port(), controller_port=free_port(), heap_mb=768)
    pg = postgres.PgNode(home=home / "pg", port=free_port(), durable=False)
    for wipe, start, x in ((kafka.wipe, kafka.start, node), (postgres.wipe, postgres.start, pg)):
        wipe(x)  # type: ignore[arg-type]
        start(x)  # type: ignore[arg-type]
    try:
        cfg = StackConfig(pg_host="127.0.0.1", pg_port=pg.port, kafka_bootstrap=node.bootstrap)
        services = ("members",) if "--members-only" in sys.argv else ("gateway", "members")
        async with Stack(cfg, services=services) as stack:
            r = await stack.admin.post(f"{stack.url('members')}/v1/stores", json={
                "store_id": "XA-001", "name": "Store", "region_code": "029", "program": "generic"})
            r.raise_for_status()
            content = generate(n)
            t0 = time.perf_counter()
            r = await stack.admin.post(f"{stack.url('members')}/v1/imports", params={"store_id": "XA-001"},
                                       content=content, timeout=600)
            r.raise_for_status()
            url = stack.url("members") + r.json()["progress"]
            while True:
                p = (await stack.admin.get(url)).json()
                if p["status"] != "running":
                    break
                await asyncio.sleep(0.5)
            wall = time.perf_counter() - t0
            print(f"services={services} rows={n} imported={p['imported']} rejected={p['rejected']} "
                  f"status={p['status']} wall={wall:.1f}s server={p['seconds']}s "
                  f"rate={p['imported'] / wall:.0f} rows/s")
    finally:
        kafka.wipe(node)
        postgres.wipe(pg)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    asyncio.run(main(int(args[0]) if args else 100_000))
