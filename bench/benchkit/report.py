"""The result: one JSON object (last stdout line) and a table of the same figures on stderr."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from rich.table import Table

from .load import E2EResult, IngestResult, PacedResult
from .raw import RawResult
from .ui import console

# what this machine should do (2 cores): paced capacity, single POSTs, end to end against raw Kafka, every group
# caught up soon after loyalty, SMS within a second at the paced rate, a small process per service
TARGETS: dict[str, float] = {"paced_capacity_sales_per_s": 1000, "ingest_single_sales_per_s": 1500,
                             "ratio_e2e_to_raw": 0.10, "groups_behind_loyalty_s": 5, "p99_sale_to_points_ms": 250,
                             "p99_sale_to_sms_ms": 1000, "rss_mb_max": 150}
AT_MOST = {"groups_behind_loyalty_s", "p99_sale_to_points_ms", "p99_sale_to_sms_ms", "rss_mb_max"}


def _num(x: float | None, nd: int = 1) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, nd)


def build(*, n: int, cpu_count: int, run_id: str, started: bool, single: IngestResult, e2e: E2EResult,
          paced: PacedResult, raw: RawResult, rss: dict[str, float], pss: dict[str, float], peak: dict[str, float],
          cores: dict[str, dict[str, float]], cpu_ms: dict[str, dict[str, float]], capacity: list[dict[str, Any]],
          layout: dict[str, int], services: tuple[str, ...]) -> dict[str, Any]:
    raw_rate = raw.rate
    held = [st["rate"] for st in capacity if st["held"]]
    loyalty_s = e2e.drained_s.get("loyalty.pos.sales")
    behind = {g: round(v - loyalty_s, 2) for g, v in e2e.drained_s.items()} if loyalty_s is not None else {}
    r: dict[str, Any] = {
        "sales": n,
        "layout": layout,
        "paced_capacity_sales_per_s": max(held) if held else 0,
        "ingest_single_sales_per_s": _num(single.rate),
        "ingest_batch_sales_per_s": _num(e2e.upload.rate),
        "e2e_sales_per_s": _num(e2e.rate),
        "p50_sale_to_points_ms": paced.points_ms.get("p50"),
        "p95_sale_to_points_ms": paced.points_ms.get("p95"),
        "p99_sale_to_points_ms": paced.points_ms.get("p99"),
        "p99_sale_to_sms_ms": paced.sms_ms.get("p99"),
        "raw_kafka_msgs_per_s": _num(raw_rate),
        "ratio_e2e_to_raw": _num(e2e.rate / raw_rate, 4) if raw_rate else None,
        "groups_caught_up_s": {g: round(v, 2) for g, v in e2e.drained_s.items()},
        "groups_behind_loyalty_s": max(behind.values()) if behind else None,
        "cpu_ms_per_sale": {ph: v for ph, v in cpu_ms.items() if ph != "raw_kafka"},
        "rss_mb": {s: rss[s] for s in services if s in rss},
        "rss_mb_max": max((rss[s] for s in services if s in rss), default=None),
        "cpu_count": cpu_count,
        "targets": TARGETS,
    }
    r["met"] = {k: r[k] is not None and (r[k] <= t if k in AT_MOST else r[k] >= t) for k, t in TARGETS.items()}
    r["details"] = {
        "run_id": run_id,
        "system_started_by_bench": started,
        "single": {**asdict(single), "rate": _num(single.rate)},
        "batch": {"upload": {**asdict(e2e.upload), "rate": _num(e2e.upload.rate)}, "expected": e2e.expected,
                  "counted": e2e.counted, "e2e_seconds": _num(e2e.seconds, 3),
                  "groups_caught_up_s": {g: round(v, 2) for g, v in e2e.drained_s.items()}},
        "paced": asdict(paced),
        "capacity_steps": capacity,
        "cpu_ms_per_raw_message": cpu_ms.get("raw_kafka", {}),
        "raw": {**asdict(raw), "rate": _num(raw_rate), "produce_rate": _num(raw.messages / raw.produce_seconds)
                if raw.produce_seconds else None},
        "rss_mb_all": rss,
        "pss_mb_all": pss,
        "peak_rss_mb": peak,
        "cores_used": cores,
    }
    return r


def table(r: dict[str, Any]) -> None:
    d = r["details"]
    t = Table(title=f"Benchmark {d['run_id']} — {r['sales']} sales, {r['cpu_count']} CPUs")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_column("target", justify="right")

    def row(name: str, value: Any, unit: str = "", key: str | None = None) -> None:
        target = ""
        if key in r["targets"]:
            ok = r["met"][key]
            target = f"[{'green' if ok else 'red'}]{r['targets'][key]:,}{unit} {'✓' if ok else '✗'}[/]"
        t.add_row(name, "—" if value is None else f"{value:,}{unit}", target)

    row("paced capacity (p99 → points ≤ 250 ms)", r["paced_capacity_sales_per_s"], " /s", "paced_capacity_sales_per_s")
    row("single POST /v1/sales", r["ingest_single_sales_per_s"], " /s", "ingest_single_sales_per_s")
    row("batch POST /v1/sales:batch", r["ingest_batch_sales_per_s"], " /s")
    row("end to end (upload → points)", r["e2e_sales_per_s"], " /s", "e2e_sales_per_s")
    row("raw Kafka (1 KB, acks=all)", r["raw_kafka_msgs_per_s"], " /s")
    row("e2e / raw Kafka", r["ratio_e2e_to_raw"], "", "ratio_e2e_to_raw")
    row("groups caught up after loyalty (slowest)", r["groups_behind_loyalty_s"], " s", "groups_behind_loyalty_s")
    p = d["paced"]
    row(f"paced {p['rate_target']:.0f}/s: sale → points p50", r["p50_sale_to_points_ms"], " ms")
    row("sale → points p95", r["p95_sale_to_points_ms"], " ms")
    row("sale → points p99", r["p99_sale_to_points_ms"], " ms", "p99_sale_to_points_ms")
    row("  (lower bound from ledger.created_at) p99", p["points_created_ms"].get("p99"), " ms")
    row("  (from intended send time) p99", p["points_from_schedule_ms"].get("p99"), " ms")
    row("  POST /v1/sales answer p99", p["http_ms"].get("p99"), " ms")
    row(f"sale → SMS p99 ({p['sms_expected'] - p['sms_missing']} upgrades)", r["p99_sale_to_sms_ms"], " ms",
        "p99_sale_to_sms_ms")
    row("largest service RSS", r["rss_mb_max"], " MB", "rss_mb_max")
    for s, mb in d["rss_mb_all"].items():
        row(f"RSS {s} (PSS {d['pss_mb_all'].get(s, 0):,} MB)", mb, " MB")
    console.print(t)
    cores = Table(title=f"CPU cores used on average per phase (machine has {r['cpu_count']})")
    comps = sorted({c for v in d["cores_used"].values() for c in v}, key=lambda c: (c == "machine", c == "other", c))
    cores.add_column("phase")
    for c in comps:
        cores.add_column(c, justify="right")
    for phase, v in d["cores_used"].items():
        cores.add_row(phase, *[f"{v.get(c, 0):.2f}" for c in comps])
    console.print(cores)
    ms = Table(title="CPU milliseconds per sale (raw_kafka: per message)")
    for c in ["phase", *comps]:
        ms.add_column(c, justify="right" if c != "phase" else "left")
    for phase, v in {**r["cpu_ms_per_sale"], "raw_kafka": d["cpu_ms_per_raw_message"]}.items():
        ms.add_row(phase, *[f"{v.get(c, 0):.2f}" for c in comps])
    console.print(ms)
    noisy = {ph: v.get("other", 0.0) for ph, v in d["cores_used"].items() if v.get("other", 0.0) > 0.2}
    if noisy:
        console.print("[yellow]⚠ processes outside the system and the bench used CPU during "
                      + ", ".join(f"{ph} ({c:.2f} cores)" for ph, c in noisy.items())
                      + "; on this machine that CPU is missing from the figures above[/]")
