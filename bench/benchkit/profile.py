"""py-spy profiles of every service process while a phase runs (`bench/run --profile DIR`).

One collapsed-stack file per process (`DIR/<service>[.<n>].txt`, py-spy's raw format: `frame;frame;... count`,
which speedscope and flamegraph.pl open) and `DIR/top.txt`: per process, the functions with the most samples
on CPU, by self time and by inclusive time. Sampling is non-blocking (py-spy reads the process's memory without
stopping it), so the profile does not slow the service it watches; idle samples are left out.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .ui import console

SERVICES_PROFILED = ("gateway", "members", "loyalty", "credit", "notify")


def _py_spy() -> str:
    exe = Path(sys.executable).with_name("py-spy")
    return str(exe) if exe.exists() else (shutil.which("py-spy") or "")


@contextlib.contextmanager
def profiling(components: dict[str, list[int]], out_dir: str | None, seconds: float) -> Iterator[None]:
    """Record every service process for about `seconds` while the block runs (nothing when `out_dir` is None)."""
    if not out_dir:
        yield
        return
    exe = _py_spy()
    if not exe:
        console.print("[yellow]--profile: py-spy is not installed (uv sync installs it with the dev group)[/]")
        yield
        return
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    runs: list[tuple[str, subprocess.Popen[bytes]]] = []
    for s in SERVICES_PROFILED:
        for i, pid in enumerate(components.get(s, [])):
            name = s if i == 0 else f"{s}.{i + 1}"
            cmd = [exe, "record", "--nonblocking", "--format", "raw", "--rate", "200", "--duration",
                   str(max(1, round(seconds))), "--pid", str(pid), "--output", str(d / f"{name}.txt")]
            runs.append((name, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
    try:
        yield
    finally:
        for name, proc in runs:
            try:
                _, err = proc.communicate(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            if proc.returncode != 0:
                console.print(f"[yellow]py-spy {name}: exit {proc.returncode}: {err.decode()[-300:]}[/]")
        summary = top_frames({name: d / f"{name}.txt" for name, _ in runs})
        (d / "top.txt").write_text(summary)
        console.print(f"[dim]profiles in {d} (top frames: {d / 'top.txt'})[/]")


def _frame_name(frame: str) -> str:
    """`func (path/to/module.py:123)` -> `func (module.py)`: one row per function, whatever the line."""
    func, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    return f"{func} ({file.rsplit('/', 2)[-2] + '/' if file.count('/') else ''}{file.rsplit('/', 1)[-1]})"


def parse_collapsed(text: str) -> tuple[Counter[str], Counter[str], int]:
    """Self and inclusive sample counts per function from py-spy's raw output, and the total samples."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        frames = [_frame_name(f) for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
    return own, incl, total


def top_frames(files: dict[str, Path], n: int = 15) -> str:
    out: list[str] = []
    for name, f in files.items():
        if not f.exists():
            continue
        own, incl, total = parse_collapsed(f.read_text(errors="replace"))
        out.append(f"== {name}: {total} samples on CPU")
        if not total:
            continue
        out.append("  self %   function")
        out += [f"  {100 * c / total:5.1f}   {fn}" for fn, c in own.most_common(n)]
        out.append("  incl %   function")
        out += [f"  {100 * c / total:5.1f}   {fn}" for fn, c in incl.most_common(n)]
    return "\n".join(out) + "\n"
