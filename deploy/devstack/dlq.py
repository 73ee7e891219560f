"""`./dev dlq list|show|replay|replay-since|discard <service> ...` — DLQ redrive on the running dev system.

Calls the service's `/ops/dlq` endpoints (vipcore.dlq) as an HQ admin staff member (O-02): it logs in through
members as STAFF_ID / STAFF_PASSWORD (or sends STAFF_TOKEN, a staff token got elsewhere), or by default as the dev
system's HQ-ADMIN (created by `./dev up` with `python -m members staff create-admin`; its password is
`hq_admin_password` in `.run/dev/secrets.json`), and renews the staff token with the refresh token. Service URLs
come from `.run/demo.json` (or the dev ports). Every action is audited in the service under the operator
(`--operator`, default: your login name).

    ./dev dlq list loyalty [--status pending] [--topic pos.sales] [--json]
    ./dev dlq show loyalty <entry id>
    ./dev dlq replay loyalty <entry id> [--note "store registered now"]
    ./dev dlq replay-since loyalty 2h            # or an ISO time: 2026-12-01T08:00:00+08:00
    ./dev dlq discard loyalty <entry id> --reason "test sale, voided"
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from .testing import SERVICES

console = Console()
_AGO = re.compile(r"^(\d+)\s*([smhd])$")


def since_time(text: str) -> datetime:
    """`30m`, `2h`, `1d` ago, or an ISO 8601 time with its offset."""
    m = _AGO.match(text.strip())
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(m.group(1))})
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its offset, e.g. 2026-12-01T08:00:00+08:00")
    return t


def add_parser(sub: Any, fn: Any) -> None:
    p = sub.add_parser("dlq", help="list, inspect, replay or discard dead-lettered events",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--operator", default=os.environ.get("DLQ_OPERATOR") or getpass.getuser(),
                   help="who acts (in the audit); default: DLQ_OPERATOR or your login name")
    p.add_argument("--url", default=None, help="the service's base URL (default: from .run/demo.json)")
    p.add_argument("--members-url", default=None, help="where to log in (default: from .run/demo.json)")
    a = p.add_subparsers(dest="action", required=True)
    ls = a.add_parser("list")
    ls.add_argument("service", choices=SERVICES)
    ls.add_argument("--status", choices=("pending", "replayed", "discarded", "applied"))
    ls.add_argument("--topic")
    ls.add_argument("--json", action="store_true")
    sh = a.add_parser("show")
    sh.add_argument("service", choices=SERVICES)
    sh.add_argument("entry")
    rp = a.add_parser("replay")
    rp.add_argument("service", choices=SERVICES)
    rp.add_argument("entry")
    rp.add_argument("--note")
    rs = a.add_parser("replay-since")
    rs.add_argument("service", choices=SERVICES)
    rs.add_argument("since", type=since_time, help="30m, 2h, 1d (ago) or an ISO time with offset")
    rs.add_argument("--note")
    ds = a.add_parser("discard")
    ds.add_argument("service", choices=SERVICES)
    ds.add_argument("entry")
    ds.add_argument("--reason", required=True)
    p.set_defaults(fn=fn)


def base_url(run_dir: Path, service: str, default: str) -> str:
    demo = run_dir / "demo.json"
    if demo.exists():
        url = json.loads(demo.read_text()).get("services", {}).get(service)
        if isinstance(url, str):
            return url
    return default


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def operator_auth(home: Path, members_url: str) -> httpx.Auth:
    """An HQ admin's staff token: STAFF_TOKEN as given (e.g. from a login elsewhere), else a login as STAFF_ID /
    STAFF_PASSWORD, else as HQ-ADMIN with the dev system's password."""
    from vipcore.staffclient import StaffAuth

    if os.environ.get("STAFF_TOKEN"):
        return _Bearer(os.environ["STAFF_TOKEN"])
    staff_id, password = os.environ.get("STAFF_ID"), os.environ.get("STAFF_PASSWORD")
    if not (staff_id and password):
        path = home / "secrets.json"
        if not path.exists():
            raise SystemExit(f"no operator login: {path} is missing (run ./dev up) and STAFF_ID/STAFF_PASSWORD "
                             "are not set")
        staff_id, password = "HQ-ADMIN", str(json.loads(path.read_text())["hq_admin_password"])
    return StaffAuth(members_url, staff_id, password)


def run(args: argparse.Namespace, url: str, auth: httpx.Auth) -> int:
    """One DLQ command against `url`; returns the exit status."""
    from vipcore.staffclient import StaffLoginFailed

    with httpx.Client(base_url=url, auth=auth, timeout=30) as c:
        try:
            r = _call(c, args)
        except httpx.HTTPError as e:
            console.print(f"[red]cannot reach {args.service} at {url}: {e}[/]")
            return 2
        except StaffLoginFailed as e:
            console.print(f"[red]{e}[/]")
            return 2
    if r.status_code >= 400:
        try:
            body = r.json()
            console.print(f"[red]{r.status_code} {body.get('title')}: {body.get('detail')}[/]")
        except ValueError:
            console.print(f"[red]{r.status_code}: {r.text[:500]}[/]")
        return 1
    body = r.json()
    if args.action == "list" and args.json:
        print(json.dumps(body, ensure_ascii=False))
    elif args.action == "list":
        _table(body)
    else:
        console.print_json(data=body)
    return 0


def _call(c: httpx.Client, args: argparse.Namespace) -> httpx.Response:
    who: dict[str, Any] = {"operator": args.operator}
    if args.action == "list":
        params = {k: v for k, v in (("status", args.status), ("topic", args.topic)) if v}
        return c.get("/ops/dlq", params=params)
    if args.action == "show":
        return c.get(f"/ops/dlq/{args.entry}")
    if args.action == "replay":
        return c.post(f"/ops/dlq/{args.entry}:replay", json={**who, "note": args.note})
    if args.action == "replay-since":
        return c.post("/ops/dlq:replay", params={"since": args.since.isoformat()}, json={**who, "note": args.note})
    return c.post(f"/ops/dlq/{args.entry}:discard", json={**who, "reason": args.reason})


def _table(body: dict[str, Any]) -> None:
    t = Table("id", "topic", "type", "status", "count", "last failure", "reason")
    for e in body["entries"]:
        t.add_row(e["id"], e["topic"], e.get("event_type") or "", e["status"], str(e["count"]),
                  e["last_failure_at"][:19], e["reason"][:80])
    console.print(t)
    if body.get("truncated"):
        console.print("[yellow]a dead-letter topic held more records than one read takes: the list is partial[/]")
    if not body["entries"]:
        console.print("no dead-lettered events")
