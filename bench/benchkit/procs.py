"""Memory and CPU of the system's processes, read from /proc (Linux).

A component is a root pid and all its descendants (PostgreSQL: the postmaster and its backends; a
service: its python process and any children). CPU includes children already reaped (cutime/cstime).
"""

from __future__ import annotations

import os
from pathlib import Path

from devstack import cli
from devstack.procs import read_pid
from devstack.testing import SERVICES

TICK = os.sysconf("SC_CLK_TCK")


def roots() -> dict[str, list[int]]:
    """Root pids per component that is running (every instance of a service, every Kafka node)."""
    out: dict[str, list[int]] = {}
    for s in (*SERVICES, "smssim"):
        pids = [pid for n in cli._instances(s) if (pid := read_pid(cli._pidfile(n)))]
        if pids:
            out[s] = pids
    kpids = [pid for k in cli.kafka_nodes(cli.layout()["brokers"]) if (pid := read_pid(k.pidfile))]
    if kpids:
        out["kafka"] = kpids
    try:
        out["postgres"] = [int((cli.nodes()[1].data / "postmaster.pid").read_text().split()[0])]
    except (OSError, ValueError, IndexError):
        pass
    out["bench"] = [os.getpid()]
    return out


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            f = _stat(int(d))
            if f:
                kids.setdefault(int(f[1]), []).append(int(d))
    return kids


def _tree(pids: list[int], kids: dict[int, list[int]], stop: frozenset[int] | set[int] = frozenset()) -> list[int]:
    """The pids and their descendants, not descending into `stop` (other components' roots: the services a
    bench-started system runs are the bench's children, but they are not the bench's CPU)."""
    out: list[int] = []
    todo = list(pids)
    while todo and len(out) < 10000:
        p = todo.pop()
        out.append(p)
        todo.extend(k for k in kids.get(p, []) if k not in stop)
    return out


def _trees(components: dict[str, list[int]]) -> dict[str, list[int]]:
    kids = _children_map()
    every_root = {p for pids in components.values() for p in pids}
    return {name: _tree(pids, kids, every_root - set(pids)) for name, pids in components.items()}


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_mb(components: dict[str, list[int]] | None = None) -> dict[str, float]:
    """Resident memory per component (VmRSS of the process and its descendants), MB."""
    trees = _trees(components or roots())
    return {name: round(sum(_status_kb(p, "VmRSS") for p in tree) / 1024, 1) for name, tree in trees.items()}


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def pss_mb(components: dict[str, list[int]] | None = None) -> dict[str, float]:
    """Proportional memory per component, MB: shared pages split between the processes sharing them.

    Summing VmRSS over PostgreSQL's backends counts shared_buffers once per backend; PSS does not.
    """
    trees = _trees(components or roots())
    return {name: round(sum(_pss_kb(p) for p in tree) / 1024, 1) for name, tree in trees.items()}


def peak_rss_mb(components: dict[str, list[int]] | None = None) -> dict[str, float]:
    """Peak resident memory (VmHWM) of each component's largest root process, MB."""
    comps = components or roots()
    return {name: round(max(_status_kb(pid, "VmHWM") for pid in pids) / 1024, 1) for name, pids in comps.items()}


def cpu_seconds(components: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far per component, plus the whole machine's busy seconds under `machine`."""
    out: dict[str, float] = {}
    for name, tree in _trees(components).items():
        ticks = 0
        for p in tree:
            f = _stat(p)
            if f:
                ticks += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        out[name] = ticks / TICK
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    vals = [int(x) for x in cpu[:8]]
    out["machine"] = (sum(vals) - vals[3] - vals[4]) / TICK  # all but idle and iowait
    return out


def cpu_delta(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores used on average per component over an interval; `other` is the machine minus the components."""
    d = {k: max(after.get(k, 0.0) - v, 0.0) / seconds for k, v in before.items() if seconds > 0}
    d["other"] = max(d.get("machine", 0.0) - sum(v for k, v in d.items() if k != "machine"), 0.0)
    return {k: round(v, 2) for k, v in d.items()}


def cpu_ms_per_item(cores: dict[str, float], seconds: float, n: int) -> dict[str, float]:
    """CPU milliseconds per sale (or message) per component, from the cores it used over `seconds` for `n`."""
    return {k: round(v * seconds * 1000 / n, 3) for k, v in cores.items()} if n > 0 else {}
