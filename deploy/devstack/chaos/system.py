"""The chaos run's own system: three KRaft brokers (RF 3, min.insync.replicas 2), PostgreSQL, the SMS simulator
and two processes of every service, all on free loopback ports under .run/chaos — never the `./dev up` system."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .. import kafka, postgres
from ..procs import free_port, port_open, read_pid, spawn, stop_pid
from ..testing import SERVICES, ServiceProcess, StackConfig

ROOT = Path(__file__).resolve().parents[3]
HOME = ROOT / ".run" / "chaos"
BROKERS = 3


def _free_block(n: int) -> int:
    """A base port with `n` consecutive free ports (a Kafka cluster takes two per node)."""
    for _ in range(200):
        base = free_port()
        if all(not port_open("127.0.0.1", base + i) for i in range(n)) and base + n < 32000:
            return base
    raise RuntimeError(f"no {n} consecutive free loopback ports")


def clean(home: Path, wipe: bool = False) -> None:
    """Stop whatever a chaos run left running under `home` (a run that was killed itself), by its pid files and
    PostgreSQL's postmaster.pid; with `wipe`, remove the folder too."""
    if not home.exists():
        return
    for pidfile in home.rglob("*.pid"):
        if pidfile.name != "postmaster.pid":
            stop_pid(pidfile, timeout=5, sig=signal.SIGKILL)
    old = postgres.PgNode(home=home / "pg")
    if (old.data / "postmaster.pid").exists():
        try:
            postgres.stop(old, "immediate")
        except subprocess.CalledProcessError:
            pass
    if wipe:
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Instance:
    service: str
    number: int  # 1, 2, ...
    proc: ServiceProcess

    @property
    def name(self) -> str:
        return f"{self.service}.{self.number}"


@dataclass
class ChaosSystem:
    home: Path
    instances_per_service: int = 2
    kafka_heap_mb: int = 384
    cfg: StackConfig = field(init=False)
    brokers: list[kafka.KafkaNode] = field(init=False)
    pg: postgres.PgNode = field(init=False)
    instances: list[Instance] = field(default_factory=list)

    def __post_init__(self) -> None:
        clean(self.home, wipe=True)  # a fresh system every run: an earlier run's data would only confuse the account
        self.home.mkdir(parents=True)
        base = _free_block(2 * BROKERS)
        self.brokers = kafka.cluster(self.home / "kafka", BROKERS, base_port=base, heap_mb=self.kafka_heap_mb)
        self.pg = postgres.PgNode(home=self.home / "pg", port=free_port(), durable=True,
                                  password=secrets.token_urlsafe(18))
        # plain database and topic names (isolated=False): this PostgreSQL and this Kafka are the run's own
        self.cfg = StackConfig(pg_host="127.0.0.1", pg_port=self.pg.port, kafka_bootstrap=kafka.bootstrap(self.brokers),
                               isolated=False, pg_password=self.pg.password)
        for s in (*SERVICES, "smssim"):
            self.cfg.port(s)

    # -- start / stop ---------------------------------------------------------------------------------------------
    def extra_env(self, service: str) -> dict[str, str]:
        env = {"LOG_LEVEL": "WARNING"}
        if service == "gateway":  # four store keys play a whole chain's tills
            env["POS_RATE_SCALE"] = os.environ.get("CHAOS_POS_RATE_SCALE", "200")
        return env

    async def start(self) -> None:
        from vipcore.topics import create_topics

        kafka.ensure_runtime()
        await asyncio.to_thread(kafka.start_cluster, self.brokers)
        await asyncio.to_thread(postgres.start, self.pg, 60.0, self.cfg.db_passwords)
        await create_topics(self.cfg.kafka_bootstrap, replication_factor=3, min_partitions=self.instances_per_service)
        spawn([sys.executable, "-m", "devstack.smssim", "--port", str(self.cfg.port("smssim"))],
              pidfile=self.home / "pids" / "smssim.pid", logfile=self.home / "logs" / "smssim.log", cwd=ROOT)
        for s in SERVICES:
            for i in range(1, self.instances_per_service + 1):
                p = ServiceProcess(self.cfg, s, self.home / "svc", instance=i)
                p.extra_env.update(self.extra_env(s))
                self.instances.append(Instance(s, i, p))
                p.start()
        for inst in self.instances[::self.instances_per_service]:
            await inst.proc.wait_ready(180)

    def stop(self) -> None:
        for inst in self.instances:
            inst.proc.stop()
        stop_pid(self.home / "pids" / "smssim.pid", timeout=10)
        try:
            postgres.stop(self.pg)
        except subprocess.CalledProcessError:
            pass
        kafka.stop_cluster(self.brokers)

    # -- faults ---------------------------------------------------------------------------------------------------
    def kill_instance(self, inst: Instance) -> None:
        """SIGKILL one service process (its whole process group): no shutdown, no commit, no goodbye."""
        inst.proc.kill()

    def restart_instance(self, inst: Instance) -> None:
        if read_pid(inst.proc.pidfile) is None:
            inst.proc.start()

    def broker_alive(self, node: kafka.KafkaNode) -> bool:
        return read_pid(node.pidfile) is not None

    def kill_broker(self, node: kafka.KafkaNode) -> None:
        stop_pid(node.pidfile, timeout=0, sig=signal.SIGKILL)

    def start_broker(self, node: kafka.KafkaNode) -> None:
        kafka.launch(node)
        kafka.wait_ready(node, 180)

    def active_controller(self) -> int:
        """The KRaft quorum's leader (the active controller): every voter persists the leader and epoch it knows in
        its metadata log's `quorum-state`; the newest epoch's leader is the active controller."""
        import json

        best = (-1, -1)
        for n in self.brokers:
            path = n.home / "data" / "__cluster_metadata-0" / "quorum-state"
            try:
                st = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if st.get("leaderId", -1) >= 0:
                best = max(best, (int(st["leaderEpoch"]), int(st["leaderId"])))
        if best[1] < 0:
            raise RuntimeError("no quorum leader known to any voter")
        return best[1]

    def node(self, node_id: int) -> kafka.KafkaNode:
        return next(n for n in self.brokers if n.node_id == node_id)

    def restart_postgres(self) -> None:
        """Stop PostgreSQL (fast: open transactions roll back, every connection drops) and start it again."""
        postgres.stop(self.pg, "fast")
        postgres.start(self.pg, 60.0, self.cfg.db_passwords)

    # -- what runs ------------------------------------------------------------------------------------------------
    def pids(self) -> list[int]:
        """Process ids of everything this system runs (for the memory figure): every spawned process group and
        PostgreSQL's postmaster with its children."""
        roots = [p for p in (read_pid(f) for f in self.home.rglob("*.pid")) if p]
        pm = self.pg.data / "postmaster.pid"
        if pm.exists():
            try:
                roots.append(abs(int(pm.read_text().split()[0])))
            except (OSError, ValueError, IndexError):
                pass
        return roots
