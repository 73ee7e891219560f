"""Import a spreadsheet of existing customers and show a progress bar (M-19).

    python -m members.cli_import customers.xlsx --store XA-001 [--url http://127.0.0.1:8001] [--report rejected.csv]

The admin token is read from ADMIN_TOKEN."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx


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
    a = ap.parse_args(argv)
    fmt = "xlsx" if a.file.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    headers = {"Authorization": f"Bearer {os.environ['ADMIN_TOKEN']}"}
    with httpx.Client(base_url=a.url, headers=headers, timeout=120) as c:
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
