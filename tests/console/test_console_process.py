"""The console starts as its own process the way `./dev up` and compose start it (`python -m console`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
from devstack.procs import free_port
from devstack.testing import ROOT


def test_python_m_console_serves_until_stopped() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "console"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "HTTP_PORT": str(port)})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("the console did not answer /healthz within 60 s")
        login = httpx.get(f"http://127.0.0.1:{port}/", timeout=5, follow_redirects=True)
        assert login.status_code == 200 and "<form" in login.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
