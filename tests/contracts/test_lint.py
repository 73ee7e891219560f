"""ruff (lint) and mypy on every module, as the project conventions ask; they run with the tests so CI runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["shared/vipcore", "services/gateway/gateway", "services/members/members", "services/loyalty/loyalty",
            "services/credit/credit", "services/notify/notify", "services/console/console", "deploy/devstack"]


def run(*cmd: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", *cmd], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_ruff_finds_nothing() -> None:
    r = run("ruff", "check", "shared", "services", "deploy", "tests", "bench", "--output-format", "concise")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_finds_nothing() -> None:
    paths = ("shared:services/gateway:services/members:services/loyalty:services/credit:services/notify:"
             "services/console:deploy")
    r = run("mypy", "--explicit-package-bases", *PACKAGES, env={"MYPYPATH": paths})
    assert r.returncode == 0, r.stdout + r.stderr
