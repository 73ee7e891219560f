"""`./dev up | down | status | demo | topics | dlq` — the whole system on this machine, no Docker.

up:     resolves Kafka and Zipkin (Maven, once), starts Kafka, PostgreSQL, the trace viewer (Zipkin, unless
        --no-traces), the SMS simulator and every service in the background, then loads the demo (unless
        --no-demo). Returns with everything running.
down:   stops everything `up` started.
topics: creates the declared topics at KAFKA_BOOTSTRAP_SERVERS (used by docker-compose too).
dlq:    list, show, replay, replay-since or discard a service's dead-lettered events (devstack/dlq.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from pathlib import Path

from rich.console import Console

from . import kafka, postgres, zipkin
from .procs import port_open, read_pid, spawn, stop_pid
from .testing import CONSOLE, SERVICES, StackConfig

ROOT = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("DEV_HOME", ROOT / ".run" / "dev"))
console = Console()

PORTS = {"gateway": 8000, "members": 8001, "loyalty": 8002, "credit": 8003, "notify": 8004, "smssim": 8009,
         CONSOLE: 8010}


def _secrets() -> dict[str, str]:
    """Secrets for the local system: made once, kept outside the repo in .run/dev/secrets.json."""
    from vipcore.auth import new_keypair

    path = HOME / "secrets.json"
    s: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    before = dict(s)
    s.setdefault("admin_token", "adm-" + secrets.token_hex(16))
    s.setdefault("pii_index_key", secrets.token_hex(32))  # kept forever: stored data depends on it
    s.setdefault("pii_encryption_key", secrets.token_hex(32))
    if "staff_token_private_key" not in s:  # added later: older files get it without losing the rest
        s["staff_token_private_key"], s["staff_token_public_key"] = new_keypair()
    if s != before:
        HOME.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(s))
        path.chmod(0o600)
    return s


def nodes() -> tuple[kafka.KafkaNode, postgres.PgNode]:
    k = kafka.KafkaNode(home=HOME / "kafka", port=int(os.environ.get("DEV_KAFKA_PORT", 19092)),
                        controller_port=int(os.environ.get("DEV_KAFKA_CONTROLLER_PORT", 19093)))
    p = postgres.PgNode(home=HOME / "pg", port=int(os.environ.get("DEV_PG_PORT", 15432)), durable=True)
    return k, p


def viewer() -> zipkin.ZipkinNode:
    return zipkin.ZipkinNode(home=HOME / "zipkin", port=int(os.environ.get("DEV_ZIPKIN_PORT", 9411)))


def config(traces: bool | None = None) -> StackConfig:
    """The dev system's settings; services export traces to Zipkin when it runs (or `traces` says so)."""
    k, p = nodes()
    s = _secrets()
    z = viewer()
    if traces is None:
        traces = read_pid(z.pidfile) is not None
    cfg = StackConfig(pg_host="127.0.0.1", pg_port=p.port, kafka_bootstrap=k.bootstrap, isolated=False,
                      admin_token=s["admin_token"], pii_index_key=s["pii_index_key"],
                      pii_encryption_key=s["pii_encryption_key"], ports=dict(PORTS),
                      staff_keys=(s["staff_token_private_key"], s["staff_token_public_key"]),
                      zipkin_endpoint=z.spans_endpoint if traces else None,
                      traces_url=z.url + "/zipkin/" if traces else None)
    return cfg


def _pidfile(name: str) -> Path:
    return HOME / "pids" / f"{name}.pid"


def up(args: argparse.Namespace) -> None:
    k, p = nodes()
    z = viewer()
    cfg = config(traces=not args.no_traces)
    with console.status("Resolving Apache Kafka (Maven, first run only)..."):
        kafka.ensure_runtime()
    if not args.no_traces:
        with console.status("Resolving the Zipkin server (Maven, first run only)..."):
            zipkin.ensure_runtime()
        zipkin.start(z, wait=False)  # the JVM starts while Kafka and PostgreSQL do
    with console.status(f"Starting Kafka on {k.bootstrap}..."):
        kafka.start(k)
    with console.status(f"Starting PostgreSQL on 127.0.0.1:{p.port}..."):
        postgres.start(p)
    from vipcore.topics import create_topics

    created = asyncio.run(create_topics(k.bootstrap))
    console.print(f"[green]✓[/] Kafka {k.bootstrap}, PostgreSQL :{p.port}, topics ({len(created)} new)")
    if not args.no_traces:
        with console.status(f"Starting the trace viewer (Zipkin) on {z.url}..."):
            zipkin.wait_ready(z)
        console.print(f"[green]✓[/] trace viewer {z.url}/zipkin/ (in memory, heap {z.heap_mb} MB)")
    logs = HOME / "logs"
    if read_pid(_pidfile("smssim")) is None:
        spawn([sys.executable, "-m", "devstack.smssim", "--port", str(PORTS["smssim"])],
              pidfile=_pidfile("smssim"), logfile=logs / "smssim.log", cwd=ROOT)
    for s in (*SERVICES, CONSOLE):
        if read_pid(_pidfile(s)) is None:
            spawn([sys.executable, "-m", s], pidfile=_pidfile(s), logfile=logs / f"{s}.log",
                  env={**cfg.env(s), "PYTHONUNBUFFERED": "1"}, cwd=ROOT)
    asyncio.run(_wait_ready(cfg))
    console.print(f"[green]✓[/] services up; logs in {logs}")
    if not args.no_demo:
        from .demo import run_demo

        asyncio.run(run_demo(cfg, HOME.parent / "demo.json", sales=args.sales))


async def _wait_ready(cfg: StackConfig, timeout: float = 90) -> None:
    import httpx

    from .testing import wait_for

    async with httpx.AsyncClient() as c:
        for s in [*SERVICES, CONSOLE, "smssim"]:
            path = "/healthz" if s == "smssim" else "/readyz"

            async def ready(s: str = s, path: str = path) -> bool:
                try:
                    return (await c.get(cfg.url(s) + path, timeout=2)).status_code == 200
                except httpx.HTTPError:
                    return False

            try:
                await wait_for(ready, timeout, f"{s} to be ready", interval=0.2)
            except AssertionError:
                log = HOME / "logs" / f"{s}.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise SystemExit(f"{s} did not become ready; last log lines:\n{tail}") from None


def down(_: argparse.Namespace) -> None:
    for s in [*SERVICES, CONSOLE, "smssim"]:
        if stop_pid(_pidfile(s)):
            console.print(f"stopped {s}")
    if zipkin.stop(viewer()):
        console.print("stopped Zipkin")
    k, p = nodes()
    if postgres.stop(p):
        console.print("stopped PostgreSQL")
    if kafka.stop(k):
        console.print("stopped Kafka")


def status(_: argparse.Namespace) -> None:
    k, p = nodes()
    cfg = config()
    console.print(f"Kafka {k.bootstrap}: {'up' if port_open('127.0.0.1', k.port) else 'down'}")
    console.print(f"PostgreSQL :{p.port}: {'up' if port_open('127.0.0.1', p.port) else 'down'}")
    z = viewer()
    console.print(f"Zipkin {z.url}/zipkin/: "
                  f"{'up' if read_pid(z.pidfile) and port_open('127.0.0.1', z.port) else 'down'}")
    for s in [*SERVICES, CONSOLE, "smssim"]:
        pid = read_pid(_pidfile(s))
        console.print(f"{s:8} {cfg.url(s):24} {'pid ' + str(pid) if pid else 'down'}")


def topics(_: argparse.Namespace) -> None:
    from vipcore.topics import create_topics

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", nodes()[0].bootstrap)
    created = asyncio.run(create_topics(bootstrap, os.environ.get("KAFKA_TOPIC_PREFIX", "")))
    console.print(f"created {len(created)} topics at {bootstrap}: {', '.join(created) or '(all existed)'}")


def demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    asyncio.run(run_demo(config(), HOME.parent / "demo.json", sales=args.sales))


def dlq(args: argparse.Namespace) -> None:
    from . import dlq as dlq_cli

    default = f"http://127.0.0.1:{PORTS[args.service]}"
    url = args.url or dlq_cli.base_url(HOME.parent, args.service, default)
    raise SystemExit(dlq_cli.run(args, url, dlq_cli.admin_token(HOME)))


def main() -> None:
    ap = argparse.ArgumentParser(prog="dev", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="start everything and load the demo")
    u.add_argument("--no-demo", action="store_true")
    u.add_argument("--no-traces", action="store_true", help="do not start the trace viewer (Zipkin)")
    u.add_argument("--sales", type=int, default=3000, help="sales in the demo day")
    u.set_defaults(fn=up)
    sub.add_parser("down", help="stop everything").set_defaults(fn=down)
    sub.add_parser("status", help="what runs where").set_defaults(fn=status)
    sub.add_parser("topics", help="create topics at KAFKA_BOOTSTRAP_SERVERS").set_defaults(fn=topics)
    d = sub.add_parser("demo", help="load the demo into a running system")
    d.add_argument("--sales", type=int, default=3000)
    d.set_defaults(fn=demo)
    from .dlq import add_parser as add_dlq

    add_dlq(sub, dlq)
    args = ap.parse_args()
    args.fn(args)
