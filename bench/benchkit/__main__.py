"""`./dev bench [--sales N]` (or `bench/run`): throughput and latency of the running system, or one started here.

Phases, each on fresh receipt numbers of this run's own stores and members:
  1. single   N_single POST /v1/sales from many concurrent keep-alive connections -> accepted sales/s
  2. batch    N sales via POST /v1/sales:batch (500 each) -> upload rate, and first upload -> loyalty has
              committed points for all of them (end-to-end sales/s)
  3. paced    single sales at a steady rate (default 500/s for 10 s); per sale POST start -> points visible
              in loyalty's database, and -> SMS at the simulator for the ~10% that upgrade a fresh member
  4. capacity paced member sales stepping up through --capacity-steps (each --step-seconds long) until p99 sale ->
              points (from each sale's intended send time, so a growing backlog counts) exceeds 250 ms or
              sending falls behind; the highest rate that held is `paced_capacity_sales_per_s`
  5. raw      N ~1 KB messages produced and consumed with aiokafka alone (the floor under everything)
Per phase: cores used and CPU milliseconds per sale of every component (gateway, members, loyalty, credit,
notify, Kafka, PostgreSQL) and of the bench's own load generator, read from /proc.
Between phases the bench waits until every outbox is published and every consumer group caught up.
Progress goes to stderr; the last stdout line is the result as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time

from devstack.testing import SERVICES

from . import procs, report
from .load import batch_to_points, capacity_held, paced, single_sales
from .profile import profiling
from .raw import raw_kafka
from .sales import Sale, regular_sale, upgrade_sale
from .setup import Fixture, create_fixture, wait_known
from .system import System, ensure_system, stop_started
from .ui import console
from .watch import Backlog, Lag, Ledger, wait_quiet


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sales", type=int, default=20000, help="sales in the batch/e2e phase and raw Kafka messages")
    ap.add_argument("--single", type=int, default=None, help="single-sale POSTs (default min(sales, 5000))")
    ap.add_argument("--concurrency", type=int, default=48, help="concurrent single-sale requests")
    ap.add_argument("--batch-concurrency", type=int, default=4, help="concurrent batch uploads")
    ap.add_argument("--rate", type=float, default=500, help="paced phase: sales per second")
    ap.add_argument("--seconds", type=float, default=10, help="paced phase: duration")
    ap.add_argument("--paced-connections", type=int, default=64,
                    help="paced phase: most requests in flight (then sending falls behind schedule)")
    ap.add_argument("--upgrade-share", type=float, default=0.1, help="paced sales that upgrade a fresh member")
    ap.add_argument("--members-per-store", type=int, default=500)
    ap.add_argument("--timeout", type=float, default=300, help="longest wait for the system to catch up")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--capacity-steps", default="100,200,300,400,500,700,1000,1500",
                    help="capacity phase: paced rates to try in order, comma separated ('' skips the phase)")
    ap.add_argument("--step-seconds", type=float, default=6, help="capacity phase: seconds per step")
    ap.add_argument("--profile", metavar="DIR", default=None,
                    help="record py-spy profiles of every service process during the paced phase into DIR")
    ap.add_argument("--brokers", type=int, choices=(1, 3), default=1,
                    help="layout when the bench starts the system: Kafka nodes (1 or 3)")
    ap.add_argument("--instances", type=int, choices=range(1, 5), default=1, metavar="N",
                    help="layout when the bench starts the system: processes per service (1-4)")
    ap.add_argument("--no-traces", action="store_true", help="start the system without the trace viewer")
    ap.add_argument("--sampling", type=float, default=None, metavar="RATIO",
                    help="OTEL_TRACES_SAMPLER_ARG of the services the bench starts (default: theirs, 1.0)")
    a = ap.parse_args()
    if a.sales < 1 or a.rate <= 0 or a.seconds <= 0 or a.concurrency < 1 or a.batch_concurrency < 1 \
            or a.paced_connections < 1:
        ap.error("--sales, --rate, --seconds and the concurrencies must be positive")
    try:
        a.capacity_steps = [float(x) for x in a.capacity_steps.split(",") if x.strip()]
    except ValueError:
        ap.error("--capacity-steps: comma-separated sales per second, e.g. 100,200,500")
    if any(x <= 0 for x in a.capacity_steps) or a.step_seconds <= 0:
        ap.error("--capacity-steps and --step-seconds must be positive")
    return a


def _regular(rng: random.Random, fx: Fixture, prefix: str, n: int, anonymous_share: float = 0.0) -> list[Sale]:
    out = []
    for i in range(n):
        st = rng.choice(fx.stores)
        member = None if rng.random() < anonymous_share else rng.choice(fx.members[st.store_id])
        out.append(regular_sale(rng, st.store_id, st.program, f"{prefix}-{i:07d}", member))
    return out


def _paced_sales(rng: random.Random, fx: Fixture, prefix: str, n: int, upgrades: int) -> list[Sale]:
    """Member sales; `upgrades` of them spread evenly, each the first (VIP-sized) receipt of a fresh member."""
    fresh = [(sid, m) for sid, ms in fx.fresh.items() for m in ms]
    rng.shuffle(fresh)
    every = n / upgrades if upgrades else 0
    slots = {int(k * every + every / 2) for k in range(upgrades)} if upgrades else set()
    out = []
    for i in range(n):
        rn = f"{prefix}-{i:07d}"
        if i in slots and fresh:
            sid, m = fresh.pop()
            out.append(upgrade_sale(rng, sid, rn, m))
        else:
            st = rng.choice(fx.stores)
            out.append(regular_sale(rng, st.store_id, st.program, rn, rng.choice(fx.members[st.store_id])))
    return out


async def run(system: System, a: argparse.Namespace) -> dict:
    cfg = system.cfg
    rng = random.Random(a.seed if a.seed is not None else time.time_ns())
    n_single = a.single if a.single is not None else min(a.sales, 5000)
    n_paced = max(1, int(a.rate * a.seconds))
    n_upgrades = int(round(n_paced * a.upgrade_share))
    console.rule(f"[bold]Benchmark: {a.sales} sales, {os.cpu_count()} CPUs, gateway {cfg.url('gateway')}")
    comps = procs.roots()
    fx = await create_fixture(cfg, regular_per_store=a.members_per_store, fresh_total=n_upgrades, rng=rng)
    await wait_known(cfg, fx, timeout=a.timeout)

    ledger, backlog, lag = await Ledger.open(cfg), await Backlog.open(cfg), Lag(cfg.kafka_bootstrap)
    await lag.start()
    cores: dict[str, dict[str, float]] = {}
    cpu_ms: dict[str, dict[str, float]] = {}

    async def settle(before: str) -> None:
        with console.status(f"Waiting for the system to settle before {before}..."):
            waited = await wait_quiet(lag, backlog, a.timeout)
        console.print(f"[dim]settled in {waited:.1f}s before {before}[/]")

    async def measured(name: str, n: int, coro):  # noqa: ANN001, ANN202
        c0, t0 = procs.cpu_seconds(comps), time.perf_counter()
        out = await coro
        seconds = time.perf_counter() - t0
        cores[name] = procs.cpu_delta(c0, procs.cpu_seconds(comps), seconds)
        cpu_ms[name] = procs.cpu_ms_per_item(cores[name], seconds, n)
        return out

    try:
        await settle("the warm-up")
        warm = _regular(rng, fx, f"{fx.run_id}-W", min(300, n_single), anonymous_share=0.1)
        await single_sales(cfg, fx, warm, concurrency=a.concurrency, label="warm-up single sales")
        await settle("the single-sale phase")

        single = await measured("single", n_single, single_sales(
            cfg, fx, _regular(rng, fx, f"{fx.run_id}-S", n_single, anonymous_share=0.1),
            concurrency=a.concurrency, label=f"single POST /v1/sales x{a.concurrency}"))
        if single.errors:
            console.print(f"[yellow]single-sale errors (first {len(single.errors)}):[/] {single.errors}")
        await settle("the batch phase")

        prefix = f"{fx.run_id}-B"
        e2e = await measured("batch_e2e", a.sales, batch_to_points(
            cfg, fx, _regular(rng, fx, prefix, a.sales), prefix, per_request=500,
            concurrency=a.batch_concurrency, ledger=ledger, lag=lag, backlog=backlog, timeout=a.timeout))
        if e2e.upload.errors:
            console.print(f"[yellow]batch errors (first {len(e2e.upload.errors)}):[/] {e2e.upload.errors}")
        await settle("the paced phase")

        with profiling(comps, a.profile, a.seconds + 5):
            p = await measured("paced", n_paced, paced(
                cfg, fx, _paced_sales(rng, fx, f"{fx.run_id}-P", n_paced, n_upgrades), rate=a.rate,
                max_inflight=a.paced_connections, ledger=ledger, timeout=a.timeout))
        if p.errors:
            console.print(f"[yellow]paced errors (first {len(p.errors)}):[/] {p.errors}")
        steps: list[dict] = []
        for i, rate in enumerate(a.capacity_steps):
            await settle(f"capacity step {rate:.0f}/s")
            n = max(1, int(rate * a.step_seconds))
            st = await measured(f"capacity_{rate:.0f}", n, paced(
                cfg, fx, _regular(rng, fx, f"{fx.run_id}-C{i}", n), rate=rate,
                max_inflight=a.paced_connections, ledger=ledger, timeout=a.timeout))
            held = capacity_held(st)
            steps.append({"rate": rate, "held": held, "p99_points_from_schedule_ms":
                          st.points_from_schedule_ms.get("p99"), "p99_points_ms": st.points_ms.get("p99"),
                          "max_behind_ms": round(st.max_behind_ms, 1), "accepted": st.accepted, "sent": st.sent,
                          "points_missing": st.points_missing})
            console.print(f"capacity step {rate:.0f}/s: {'held' if held else '[red]did not hold[/]'} "
                          f"(p99 from schedule {st.points_from_schedule_ms.get('p99')} ms, "
                          f"behind {st.max_behind_ms:,.0f} ms)")
            if not held:
                break
        await settle("the raw Kafka phase")

        rss, pss, peak = procs.rss_mb(comps), procs.pss_mb(comps), procs.peak_rss_mb(comps)
        raw = await measured("raw_kafka", a.sales,
                             raw_kafka(cfg.kafka_bootstrap, a.sales, fx.run_id, timeout=a.timeout))
    finally:
        await lag.stop()
        await ledger.close()
        await backlog.close()

    result = report.build(n=a.sales, cpu_count=os.cpu_count() or 0, run_id=fx.run_id,
                          started=bool(system.started), single=single, e2e=e2e, paced=p, raw=raw, rss=rss,
                          pss=pss, peak=peak, cores=cores, cpu_ms=cpu_ms, capacity=steps,
                          layout={"brokers": a.brokers, "instances": a.instances}, services=SERVICES)
    report.table(result)
    return result


def main() -> None:
    a = parse()
    system = ensure_system(brokers=a.brokers, instances=a.instances, traces=not a.no_traces,
                           sample_ratio=a.sampling)
    if system.started:
        console.print(f"[dim]started for this run: {', '.join(system.started)} (stopped again at the end)[/]")
    try:
        result = asyncio.run(run(system, a))
    finally:
        stop_started(system)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
