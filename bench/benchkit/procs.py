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


def roots() -> dict[str, int]:
    """Root pid per component that is running."""
    k, p = cli.nodes()
    out: dict[str, int] = {}
    for s in (*SERVICES, "smssim"):
        pid = read_pid(cli._pidfile(s))
        if pid:
            out[s] = pid
    kpid = read_pid(k.pidfile)
    if kpid:
        out["kafka"] = kpid
    try:
        out["postgres"] = int((p.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    out["bench"] = os.getpid()
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


def _tree(pid: int, kids: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo and len(out) < 10000:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_mb(components: dict[str, int] | None = None) -> dict[str, float]:
    """Resident memory per component (VmRSS of the process and its descendants), MB."""
    comps = components or roots()
    kids = _children_map()
    return {name: round(sum(_status_kb(p, "VmRSS") for p in _tree(pid, kids)) / 1024, 1)
            for name, pid in comps.items()}


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def pss_mb(components: dict[str, int] | None = None) -> dict[str, float]:
    """Proportional memory per component, MB: shared pages split between the processes sharing them.

    Summing VmRSS over PostgreSQL's backends counts shared_buffers once per backend; PSS does not.
    """
    comps = components or roots()
    kids = _children_map()
    return {name: round(sum(_pss_kb(p) for p in _tree(pid, kids)) / 1024, 1) for name, pid in comps.items()}


def peak_rss_mb(components: dict[str, int] | None = None) -> dict[str, float]:
    """Peak resident memory (VmHWM) of each component's root process, MB."""
    comps = components or roots()
    return {name: round(_status_kb(pid, "VmHWM") / 1024, 1) for name, pid in comps.items()}


def cpu_seconds(components: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far per component, plus the whole machine's busy seconds under `machine`."""
    kids = _children_map()
    out: dict[str, float] = {}
    for name, pid in components.items():
        ticks = 0
        for p in _tree(pid, kids):
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
