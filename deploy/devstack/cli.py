"""`./dev up | down | status | demo | topics | dlq | chaos` — the whole system on this machine, no Docker.

up:     resolves Kafka and Zipkin (Maven, once), starts Kafka, PostgreSQL, the trace viewer (Zipkin, unless
        --no-traces), the SMS simulator and every service in the background, then loads the demo (unless
        --no-demo). Returns with everything running.
        `up --brokers 3 --instances 2`: a three-node KRaft cluster (replication factor 3, min.insync.replicas
        2) and two processes of every service (one consumer group per service and topic; the instances of a
        service share its HTTP port through SO_REUSEPORT). Default: one broker, one instance. A layout stays
        until `down` (docs/scaling.md).
down:   stops everything `up` started.
topics: creates the declared topics at KAFKA_BOOTSTRAP_SERVERS (used by docker-compose too).
dlq:    list, show, replay, replay-since or discard a service's dead-lettered events (devstack/dlq.py).
chaos:  an isolated 3-broker, 2-instance system in .run/chaos driven with sales while instances, a broker, the
        controller and PostgreSQL die; then every sale is accounted for (devstack/chaos, docs/scaling.md).
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
from .private import write_private
from .procs import port_open, read_pid, spawn, stop_pid
from .testing import CONSOLE, PII_SERVICES, SERVICES, StackConfig

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
    s.setdefault("admin_token", "adm-" + secrets.token_hex(16))  # bootstrap only: ADMIN_TOKEN_ENABLED stays false
    s.setdefault("hq_admin_password", "hq-" + secrets.token_urlsafe(18))  # HQ_ADMIN's login (./dev dlq uses it)
    s.setdefault("pii_index_key", secrets.token_hex(32))  # kept forever: stored data depends on it
    for svc in PII_SERVICES:  # each service its own at-rest key (key id k1); rotation: docs/architecture.md
        s.setdefault(f"pii_keys_{svc}", "k1=" + secrets.token_hex(32))
    s.setdefault("event_pii_keys", "e1=" + secrets.token_hex(32))  # personal fields in events
    s.setdefault("notify_index_key", s.get("pii_encryption_key") or secrets.token_hex(32))  # what notify hashed with
    s.setdefault("credit_index_key", secrets.token_hex(32))
    if "staff_token_private_key" not in s:  # added later: older files get it without losing the rest
        s["staff_token_private_key"], s["staff_token_public_key"] = new_keypair()
    # PostgreSQL: the superuser's password (administration only) and one login role per service (its database's
    # owner, nothing else); a cluster made before passwords is switched to scram-sha-256 at the next `up`
    s.setdefault("pg_superuser_password", secrets.token_urlsafe(24))
    for svc in SERVICES:
        s.setdefault(f"pg_password_{svc}", secrets.token_urlsafe(24))
    for name in (*SERVICES, CONSOLE):  # each service's own key for service tokens (docs/architecture.md "Identity")
        if f"service_private_key_{name}" not in s:
            s[f"service_private_key_{name}"], s[f"service_public_key_{name}"] = new_keypair()
    if s != before:
        write_private(path, json.dumps(s))  # 0600 from the start
    return s


def pii_keys(s: dict[str, str]) -> dict[str, str]:
    """Each service's keyring; a system made before per-service keys still reads its old rows under `k0` (the
    shared key of then) until the services' re-encryption at start has moved them to their own key."""
    old = s.get("pii_encryption_key")
    return {svc: s[f"pii_keys_{svc}"] + (f",k0={old}" if old else "") for svc in PII_SERVICES}


def nodes() -> tuple[kafka.KafkaNode, postgres.PgNode]:
    k = kafka.KafkaNode(home=HOME / "kafka", port=int(os.environ.get("DEV_KAFKA_PORT", 19092)),
                        controller_port=int(os.environ.get("DEV_KAFKA_CONTROLLER_PORT",
                                                           int(os.environ.get("DEV_KAFKA_PORT", 19092)) + 1)))
    p = postgres.PgNode(home=HOME / "pg", port=int(os.environ.get("DEV_PG_PORT", 15432)), durable=True,
                        password=_secrets()["pg_superuser_password"])
    return k, p


DEFAULT_LAYOUT = {"brokers": 1, "instances": 1}


def layout() -> dict[str, int]:
    """How the running (or last) system is laid out: brokers and instances per service (.run/dev/layout.json)."""
    path = HOME / "layout.json"
    return {**DEFAULT_LAYOUT, **json.loads(path.read_text())} if path.exists() else dict(DEFAULT_LAYOUT)


def kafka_nodes(brokers: int) -> list[kafka.KafkaNode]:
    """The single node (its own folder, as always) or the three-node cluster (.run/dev/kafka3/node<i>)."""
    if brokers == 1:
        return [nodes()[0]]
    return kafka.cluster(HOME / f"kafka{brokers}", brokers, base_port=int(os.environ.get("DEV_KAFKA_PORT", 19092)),
                         heap_mb=int(os.environ.get("DEV_KAFKA_HEAP_MB", 512)))


def viewer() -> zipkin.ZipkinNode:
    return zipkin.ZipkinNode(home=HOME / "zipkin", port=int(os.environ.get("DEV_ZIPKIN_PORT", 9411)))


def config(traces: bool | None = None) -> StackConfig:
    """The dev system's settings; services export traces to Zipkin when it runs (or `traces` says so)."""
    p = nodes()[1]
    s = _secrets()
    z = viewer()
    if traces is None:
        traces = read_pid(z.pidfile) is not None
    bootstrap = kafka.bootstrap(kafka_nodes(layout()["brokers"]))
    cfg = StackConfig(pg_host="127.0.0.1", pg_port=p.port, kafka_bootstrap=bootstrap, isolated=False,
                      bootstrap_token=s["admin_token"], pii_index_key=s["pii_index_key"],
                      pii_keys=pii_keys(s), event_pii_keys=s["event_pii_keys"],
                      notify_index_key=s["notify_index_key"], credit_index_key=s["credit_index_key"], ports=dict(PORTS),
                      staff_keys=(s["staff_token_private_key"], s["staff_token_public_key"]),
                      pg_password=s["pg_superuser_password"],
                      db_passwords={svc: s[f"pg_password_{svc}"] for svc in SERVICES},
                      service_keys={n: (s[f"service_private_key_{n}"], s[f"service_public_key_{n}"])
                                    for n in (*SERVICES, CONSOLE)},
                      zipkin_endpoint=z.spans_endpoint if traces else None,
                      traces_url=z.url + "/zipkin/" if traces else None)
    return cfg


def _pidfile(name: str) -> Path:
    return HOME / "pids" / f"{name}.pid"


def instance_name(service: str, i: int) -> str:
    """`gateway` for the first instance (as with one instance), `gateway.2`, `gateway.3`... for the others."""
    return service if i == 0 else f"{service}.{i + 1}"


def _instances(service: str) -> list[str]:
    """Every instance of `service` with a pid file (running or not), first one first."""
    extra = sorted(p.stem for p in (HOME / "pids").glob(f"{service}.*.pid"))
    return [service, *extra]


def _running() -> bool:
    return any(read_pid(_pidfile(n)) is not None for s in [*SERVICES, CONSOLE, "smssim"] for n in _instances(s)) or any(
        read_pid(k.pidfile) is not None for b in (1, 3) for k in kafka_nodes(b))


def up(args: argparse.Namespace) -> None:
    want = {"brokers": args.brokers, "instances": args.instances}
    have = layout()
    if want != have and _running():
        raise SystemExit(f"the system runs as {have}; `./dev down` first to start it as {want}")
    HOME.mkdir(parents=True, exist_ok=True)
    (HOME / "layout.json").write_text(json.dumps(want))
    ks = kafka_nodes(args.brokers)
    p = nodes()[1]
    z = viewer()
    cfg = config(traces=not args.no_traces)
    with console.status("Resolving Apache Kafka (Maven, first run only)..."):
        kafka.ensure_runtime()
    if not args.no_traces:
        with console.status("Resolving the Zipkin server (Maven, first run only)..."):
            zipkin.ensure_runtime()
        zipkin.start(z, wait=False)  # the JVM starts while Kafka and PostgreSQL do
    with console.status(f"Starting Kafka on {kafka.bootstrap(ks)}..."):
        kafka.start_cluster(ks)
    with console.status(f"Starting PostgreSQL on 127.0.0.1:{p.port}..."):
        postgres.start(p, roles=cfg.db_passwords)
    from vipcore.topics import create_topics

    created = asyncio.run(create_topics(cfg.kafka_bootstrap, replication_factor=min(args.brokers, 3),
                                        min_partitions=args.instances))
    console.print(f"[green]✓[/] Kafka {cfg.kafka_bootstrap}, PostgreSQL :{p.port}, topics ({len(created)} new)")
    if not args.no_traces:
        with console.status(f"Starting the trace viewer (Zipkin) on {z.url}..."):
            zipkin.wait_ready(z)
        console.print(f"[green]✓[/] trace viewer {z.url}/zipkin/ (in memory, heap {z.heap_mb} MB)")
    logs = HOME / "logs"
    if read_pid(_pidfile("smssim")) is None:
        spawn([sys.executable, "-m", "devstack.smssim", "--port", str(PORTS["smssim"])],
              pidfile=_pidfile("smssim"), logfile=logs / "smssim.log", cwd=ROOT)
    # the instances share each port; in-memory rate limits keep their share of the chain-wide rate (INSTANCE_COUNT)
    extra = {"HTTP_REUSE_PORT": "true", "INSTANCE_COUNT": str(args.instances)} if args.instances > 1 else {}
    for s in SERVICES:
        for i in range(args.instances):
            name = instance_name(s, i)
            if read_pid(_pidfile(name)) is None:
                spawn([sys.executable, "-m", s], pidfile=_pidfile(name), logfile=logs / f"{name}.log",
                      env={**cfg.env(s), **extra, "PYTHONUNBUFFERED": "1"}, cwd=ROOT)
    if read_pid(_pidfile(CONSOLE)) is None:  # the console holds no state of its own: one instance serves
        spawn([sys.executable, "-m", CONSOLE], pidfile=_pidfile(CONSOLE), logfile=logs / f"{CONSOLE}.log",
              env={**cfg.env(CONSOLE), "PYTHONUNBUFFERED": "1"}, cwd=ROOT)
    asyncio.run(_wait_ready(cfg))
    dead = [n for s in SERVICES for n in _instances(s)[:args.instances] if read_pid(_pidfile(n)) is None]
    if dead:
        raise SystemExit(f"instances that did not stay up: {', '.join(dead)}; see their logs in {logs}")
    console.print(f"[green]✓[/] services up ({args.instances} instance(s) each); logs in {logs}")
    create_hq_admin(cfg)
    if not args.no_demo:
        from .demo import run_demo

        asyncio.run(run_demo(cfg, HOME.parent / "demo.json", sales=args.sales))


HQ_ADMIN = "HQ-ADMIN"


def create_hq_admin(cfg: StackConfig) -> None:
    """The first HQ admin, made by the operator command on members (`python -m members staff create-admin`) with
    the password kept in .run/dev/secrets.json; skipped when that login already works."""
    import subprocess

    import httpx

    password = _secrets()["hq_admin_password"]
    r = httpx.post(cfg.url("members") + "/v1/auth/login", json={"staff_id": HQ_ADMIN, "password": password},
                   timeout=30)
    if r.status_code == 200:
        return
    subprocess.run([sys.executable, "-m", "members", "staff", "create-admin", "--staff-id", HQ_ADMIN,
                    "--password-env", "HQ_ADMIN_PASSWORD"], cwd=ROOT, check=True,
                   env={**os.environ, **cfg.env("members"), "HQ_ADMIN_PASSWORD": password})
    console.print(f"[green]✓[/] HQ admin {HQ_ADMIN} (password in {HOME / 'secrets.json'}: hq_admin_password)")


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
        for name in _instances(s):
            if stop_pid(_pidfile(name)):
                console.print(f"stopped {name}")
    if zipkin.stop(viewer()):
        console.print("stopped Zipkin")
    p = nodes()[1]
    if postgres.stop(p):
        console.print("stopped PostgreSQL")
    for b in (1, 3):
        if kafka.stop_cluster(kafka_nodes(b)):
            console.print(f"stopped Kafka ({b} broker{'s' if b > 1 else ''})")


def status(_: argparse.Namespace) -> None:
    p = nodes()[1]
    cfg = config()
    lay = layout()
    console.print(f"layout: {lay['brokers']} broker(s), {lay['instances']} instance(s) per service")
    for k in kafka_nodes(lay["brokers"]):
        console.print(f"Kafka {k.bootstrap}: {'up' if port_open('127.0.0.1', k.port) else 'down'}")
    console.print(f"PostgreSQL :{p.port}: {'up' if port_open('127.0.0.1', p.port) else 'down'}")
    z = viewer()
    console.print(f"Zipkin {z.url}/zipkin/: "
                  f"{'up' if read_pid(z.pidfile) and port_open('127.0.0.1', z.port) else 'down'}")
    for s in [*SERVICES, CONSOLE, "smssim"]:
        for name in _instances(s):
            pid = read_pid(_pidfile(name))
            console.print(f"{name:10} {cfg.url(s):24} {'pid ' + str(pid) if pid else 'down'}")


def topics(args: argparse.Namespace) -> None:
    from vipcore.topics import create_topics

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", nodes()[0].bootstrap)
    created = asyncio.run(create_topics(bootstrap, os.environ.get("KAFKA_TOPIC_PREFIX", ""),
                                        replication_factor=args.replication_factor,
                                        min_partitions=args.min_partitions))
    console.print(f"created {len(created)} topics at {bootstrap}: {', '.join(created) or '(all existed)'}")


def demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    asyncio.run(run_demo(config(), HOME.parent / "demo.json", sales=args.sales))


def dlq(args: argparse.Namespace) -> None:
    from . import dlq as dlq_cli

    default = f"http://127.0.0.1:{PORTS[args.service]}"
    url = args.url or dlq_cli.base_url(HOME.parent, args.service, default)
    members = args.members_url or dlq_cli.base_url(HOME.parent, "members", f"http://127.0.0.1:{PORTS['members']}")
    raise SystemExit(dlq_cli.run(args, url, dlq_cli.operator_auth(HOME, members)))


def chaos(args: argparse.Namespace) -> None:
    from .chaos.run import main as run_chaos

    run_chaos(args)


def main() -> None:
    ap = argparse.ArgumentParser(prog="dev", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="start everything and load the demo")
    u.add_argument("--no-demo", action="store_true")
    u.add_argument("--no-traces", action="store_true", help="do not start the trace viewer (Zipkin)")
    u.add_argument("--sales", type=int, default=3000, help="sales in the demo day")
    u.add_argument("--brokers", type=int, choices=(1, 3), default=1,
                   help="1 Kafka node (default) or a 3-node KRaft cluster (RF 3, min.insync.replicas 2)")
    u.add_argument("--instances", type=int, choices=range(1, 5), default=1, metavar="N",
                   help="processes per service, 1-4 (default 1); they share consumer groups and HTTP ports")
    u.set_defaults(fn=up)
    sub.add_parser("down", help="stop everything").set_defaults(fn=down)
    sub.add_parser("status", help="what runs where").set_defaults(fn=status)
    t = sub.add_parser("topics", help="create topics at KAFKA_BOOTSTRAP_SERVERS")
    t.add_argument("--replication-factor", type=int, default=1, help="3 on a cluster (then min.insync.replicas 2)")
    t.add_argument("--min-partitions", type=int, default=1, help="at least this many partitions per topic")
    t.set_defaults(fn=topics)
    d = sub.add_parser("demo", help="load the demo into a running system")
    d.add_argument("--sales", type=int, default=3000)
    d.set_defaults(fn=demo)
    from .dlq import add_parser as add_dlq

    add_dlq(sub, dlq)
    from .chaos.run import add_parser as add_chaos

    add_chaos(sub)
    args = ap.parse_args()
    args.fn(args)
