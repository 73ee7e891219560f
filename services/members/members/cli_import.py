"""Import a spreadsheet of existing customers and show a progress bar (M-19).

    python -m members.cli_import customers.xlsx --store XA-001 [--url http://127.0.0.1:8001] [--report rejected.csv]

It logs in as an HQ admin staff member (O-02): the staff id from `--staff-id` or STAFF_ID, the password from
STAFF_PASSWORD (else it asks); the staff token is renewed with the refresh token during long imports."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path

import httpx
from vipcore.staffclient import StaffAuth


def bar(done: int, total: int, width: int = 40) -> str:
    frac = done / total if total else 1.0
    full = int(frac * width)
    return f"[{'#' * full}{'.' * (width - full)}] {done}/{total} {frac * 100:5.1f}%"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path)
    ap.add_argument("--store", required=True)
    ap.add_argument("--url", default=os.environ.get("MEMBERS_URL", "http://127.0.0.1:8001"))
    ap.add_argument("--report", type=Path, help="write the rejected rows (with reasons) to this CSV")
    ap.add_argument("--staff-id", default=os.environ.get("STAFF_ID"), help="an HQ admin's staff id (STAFF_ID)")
    a = ap.parse_args(argv)
    if not a.staff_id:
        ap.error("--staff-id (or STAFF_ID) is required: the import runs as an HQ admin staff member")
    password = os.environ.get("STAFF_PASSWORD") or getpass.getpass(f"password for {a.staff_id}: ")
    fmt = "xlsx" if a.file.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    with httpx.Client(base_url=a.url, auth=StaffAuth(a.url, a.staff_id, password), timeout=120) as c:
        r = c.post("/v1/imports", params={"store_id": a.store, "format": fmt, "filename": a.file.name},
                   content=a.file.read_bytes())
        if r.status_code != 202:
            print(r.text, file=sys.stderr)
            return 1
        url = r.json()["progress"]
        while True:
            p = c.get(url).json()
            print("\r" + bar(p["processed"], p["total"]) + f"  imported {p['imported']} rejected {p['rejected']}",
                  end="", file=sys.stderr, flush=True)
            if p["status"] != "running":
                break
            time.sleep(0.5)
        print(f"\n{p['status']} in {p['seconds']} s", file=sys.stderr)
        if a.report:
            a.report.write_text(c.get(f"{url}/rejected.csv").text, encoding="utf-8")
    return 0 if p["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
