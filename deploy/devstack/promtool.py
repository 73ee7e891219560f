"""promtool, Prometheus' own rule checker, pinned and built from the Go module proxy (no Docker, no download
site): `promtool test rules deploy/prometheus/alerts_test.yml` proves each alert fires on its condition.

Built once into .cache/promtool-<version>/ with `go install`; Go's module and build caches make later builds
(a fresh clone on the same machine) a matter of seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE = "github.com/prometheus/prometheus/cmd/promtool"
VERSION = "v0.316.0"  # the Go module version of Prometheus 3.x's promtool
BIN = ROOT / ".cache" / f"promtool-{VERSION}" / "promtool"


def _go() -> str:
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if found is None:
        raise RuntimeError("Go is needed once to build promtool (deploy/devstack/promtool.py); install Go")
    return found


def ensure() -> Path:
    """The pinned promtool binary, built on first use."""
    if BIN.exists():
        return BIN
    BIN.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(BIN.parent), "GOFLAGS": "-mod=mod"}
    subprocess.run([_go(), "install", f"{MODULE}@{VERSION}"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=1800)
    return BIN


def test_rules(test_file: Path) -> subprocess.CompletedProcess[str]:
    """Run `promtool test rules` on one test file; the caller reads returncode and output."""
    return subprocess.run([str(ensure()), "test", "rules", str(test_file)], capture_output=True, text=True,
                          cwd=test_file.parent, timeout=120)
