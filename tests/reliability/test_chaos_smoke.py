"""`./dev chaos`, small (issue 14 item 4): its own three-broker, two-instance system; 1,500 sales of every
kind while service instances are SIGKILLed, a broker and then the active controller are killed and restarted and
PostgreSQL restarts; then the account from every service's database must find nothing lost, nothing doubled, no
wrong tier, no receivable missing, no SMS missing or doubled and only the intended poison in the DLQs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(420)
def test_a_small_chaos_run_loses_and_doubles_nothing(tmp_path: Path) -> None:
    from devstack.chaos.system import clean

    home = ROOT / ".run" / "test" / f"chaos-{tmp_path.name}"
    cmd = [sys.executable, "-m", "devstack", "chaos", "--sales", "1500", "--members", "30", "--coupons", "50",
           "--buyers", "3", "--min-kills", "4", "--kill-every", "8", "--broker-down-seconds", "2",
           "--max-seconds", "120", "--settle-seconds", "120", "--concurrency", "6", "--batch", "200",
           "--home", str(home)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=400)
    except subprocess.TimeoutExpired:
        proc.terminate()  # SIGTERM: the run stops its system
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        clean(home, wipe=True)
    lines = stdout.strip().splitlines()
    assert lines, f"no JSON line; stderr tail:\n{stderr[-4000:]}"
    r = json.loads(lines[-1])
    detail = f"{r}\nstderr tail:\n{stderr[-3000:]}"
    assert r["sales"] >= 1300 and r["refunds"] > 0 and r["redemptions"] > 0, detail
    assert r["credit_sales"] > 0 and r["coupon_sales"] > 0, detail
    assert r["kills"] >= 4 and r["broker_restarts"] >= 2 and r["controller_restarts"] == 1, detail
    assert r["db_restarts"] == 1, detail
    assert not any(r["lost"].values()) and not any(r["duplicated"].values()), detail
    assert r["tier_mismatches"] == 0 and r["receivables_gap_fen"] == 0, detail
    assert r["dlq"]["unexpected"] == 0 and r["dlq"]["poison"] >= 3, detail
    assert r["server_errors"] == 0, detail  # only 503 (retry) while PostgreSQL restarts, never a 500
    assert r["ok"] and proc.returncode == 0, detail
