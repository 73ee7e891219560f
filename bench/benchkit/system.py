"""The system under test: use the running one, or start it with the devstack CLI and stop it after.

Only what this run started is stopped again (a Kafka or PostgreSQL that was already up stays up).
devstack prints to stdout; while it runs, stdout goes to stderr so the JSON stays the last stdout line.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from dataclasses import dataclass, field

import httpx
from devstack import cli, kafka, postgres, zipkin
from devstack.procs import read_pid, stop_pid
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


def ensure_system(*, brokers: int = 1, instances: int = 1, traces: bool = True,
                  sample_ratio: float | None = None) -> System:
    """The running system if its gateway answers /readyz, else one started here (`up --no-demo` with the layout
    given: `brokers` Kafka nodes, `instances` processes per service, the trace viewer unless `traces` is false,
    `sample_ratio` as the services' OTEL_TRACES_SAMPLER_ARG)."""
    cfg = config()
    if gateway_ready(cfg):
        return System(cfg)
    z = cli.viewer()
    before = {n for s in (*COMPONENTS, cli.CONSOLE) for n in cli._instances(s) if read_pid(cli._pidfile(n))}
    kafka_up = any(read_pid(k.pidfile) is not None for b in (1, 3) for k in cli.kafka_nodes(b))
    pg_up = postgres.running(cli.nodes()[1])
    zipkin_up = read_pid(z.pidfile) is not None
    old = os.environ.get("OTEL_TRACES_SAMPLER_ARG")
    if sample_ratio is not None:
        os.environ["OTEL_TRACES_SAMPLER_ARG"] = str(sample_ratio)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            cli.up(argparse.Namespace(no_demo=True, sales=0, brokers=brokers, instances=instances,
                                      no_traces=not traces))
    finally:
        if sample_ratio is not None:
            if old is None:
                os.environ.pop("OTEL_TRACES_SAMPLER_ARG", None)
            else:
                os.environ["OTEL_TRACES_SAMPLER_ARG"] = old
    started = [n for s in (*COMPONENTS, cli.CONSOLE) for n in cli._instances(s)
               if n not in before and read_pid(cli._pidfile(n))]
    if not pg_up:
        started.append("postgres")
    if not kafka_up:
        started.append("kafka")
    if traces and not zipkin_up:
        started.append("zipkin")
    return System(config(), started)


def stop_started(system: System) -> None:
    """Stop what ensure_system started, in the order `./dev down` uses."""
    if not system.started:
        return
    with contextlib.redirect_stdout(sys.stderr):
        for name in system.started:
            if name not in ("postgres", "kafka", "zipkin") and stop_pid(cli._pidfile(name)):
                cli.console.print(f"stopped {name}")
        if "zipkin" in system.started and zipkin.stop(cli.viewer()):
            cli.console.print("stopped Zipkin")
        if "postgres" in system.started and postgres.stop(cli.nodes()[1]):
            cli.console.print("stopped PostgreSQL")
        if "kafka" in system.started:
            for b in (1, 3):
                if kafka.stop_cluster(cli.kafka_nodes(b)):
                    cli.console.print(f"stopped Kafka ({b} node(s))")


def dsn(cfg: StackConfig, service: str) -> str:
    """asyncpg DSN of a service's database."""
    return cfg.db_url(service).replace("+asyncpg", "")
