"""The system under test: use the running one, or start it with the devstack CLI and stop it after.

Only what this run started is stopped again (a Kafka or PostgreSQL that was already up stays up).
devstack prints to stdout; while it runs, stdout goes to stderr so the JSON stays the last stdout line.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass, field

import httpx
from devstack import cli, kafka, postgres
from devstack.procs import port_open, read_pid, stop_pid
from devstack.testing import SERVICES, StackConfig

COMPONENTS = (*SERVICES, "smssim")


@dataclass
class System:
    cfg: StackConfig
    started: list[str] = field(default_factory=list)  # what this run started (and stops)


def config() -> StackConfig:
    """The local system's settings (devstack's), tolerating a secrets.json older than the current code.

    The bench needs only the staff and service keys, ports, database and Kafka of the running system; a secret the
    file lacks (added to devstack after the file was written) is not needed to talk to it.
    """
    try:
        return cli.config()
    except KeyError as e:
        k, p = cli.nodes()
        s = cli._secrets()
        from .ui import console

        console.print(f"[yellow]devstack config(): {cli.HOME / 'secrets.json'} lacks {e}; using the secrets it has[/]")
        return StackConfig(pg_host="127.0.0.1", pg_port=p.port, kafka_bootstrap=k.bootstrap, isolated=False,
                           bootstrap_token=s["admin_token"], pii_index_key=s["pii_index_key"],
                           pii_keys=cli.pii_keys(s), event_pii_keys=s["event_pii_keys"],
                           notify_index_key=s["notify_index_key"], credit_index_key=s["credit_index_key"],
                           ports=dict(cli.PORTS),
                           staff_keys=(s["staff_token_private_key"], s["staff_token_public_key"]),
                           pg_password=s["pg_superuser_password"],
                           db_passwords={svc: s[f"pg_password_{svc}"] for svc in SERVICES})


def gateway_ready(cfg: StackConfig) -> bool:
    try:
        return httpx.get(cfg.url("gateway") + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_system() -> System:
    """The running system if its gateway answers /readyz, else one started here (`up --no-demo`)."""
    cfg = config()
    if gateway_ready(cfg):
        return System(cfg)
    k, p = cli.nodes()
    before = {s for s in COMPONENTS if read_pid(cli._pidfile(s)) is not None}
    kafka_up = read_pid(k.pidfile) is not None and port_open("127.0.0.1", k.port)
    pg_up = postgres.running(p)
    with contextlib.redirect_stdout(sys.stderr):
        cli.up(argparse.Namespace(no_demo=True, sales=0))
    started = [s for s in COMPONENTS if s not in before]
    if not pg_up:
        started.append("postgres")
    if not kafka_up:
        started.append("kafka")
    return System(config(), started)


def stop_started(system: System) -> None:
    """Stop what ensure_system started, in the order `./dev down` uses."""
    if not system.started:
        return
    k, p = cli.nodes()
    with contextlib.redirect_stdout(sys.stderr):
        for s in COMPONENTS:
            if s in system.started and stop_pid(cli._pidfile(s)):
                cli.console.print(f"stopped {s}")
        if "postgres" in system.started and postgres.stop(p):
            cli.console.print("stopped PostgreSQL")
        if "kafka" in system.started and kafka.stop(k):
            cli.console.print("stopped Kafka")


def dsn(cfg: StackConfig, service: str) -> str:
    """asyncpg DSN of a service's database."""
    return cfg.db_url(service).replace("+asyncpg", "")
