"""Real Apache Kafka (KRaft) resolved by deploy/kafka/pom.xml and run as local JVMs.

One node by default (replication factor 1). `cluster(home, n=3)` describes a three-node cluster on loopback: every
node is broker and controller (a three-voter KRaft quorum), topics default to replication factor 3 with
`min.insync.replicas=2`, so with the producers' `acks=all` an acknowledged event is on two brokers at least and
one broker may die without losing or refusing anything. Node i listens on base+2i (broker) and base+2i+1
(controller)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from .procs import port_open, read_pid, spawn, stop_pid, wait_until

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "deploy" / "kafka" / "pom.xml"
KAFKA_VERSION = "4.1.1"  # keep equal to <kafka.version> in deploy/kafka/pom.xml
LIBDIR = ROOT / ".cache" / f"kafka-{KAFKA_VERSION}" / "libs"

LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="file" fileName="{log}"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
"""


@dataclass(frozen=True)
class KafkaNode:
    """One local broker+controller, its folder and ports; in a cluster, its id and the quorum's voters."""

    home: Path
    port: int = 19092
    controller_port: int = 19093
    heap_mb: int = 768
    node_id: int = 1
    voters: str = ""  # "1@host:port,2@host:port,..." for a cluster; empty: this node alone
    replication: int = 1  # default replication factor of topics (and the internal ones)
    cluster_id_file: Path | None = None  # shared by every node of a cluster (formatted with the same id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).resolve())

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pidfile(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def logfile(self) -> Path:
        return self.home / "kafka.log"


def ensure_runtime() -> Path:
    """Resolve the pinned Kafka jars once (Maven); later calls reuse the cache."""
    if LIBDIR.is_dir() and any(LIBDIR.glob("kafka_2.13-*.jar")):
        return LIBDIR
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is needed once to resolve Apache Kafka; install it")
    subprocess.run([mvn, "-q", "-B", "-f", str(POM), "package"], check=True)
    return LIBDIR


def cluster(home: Path, n: int = 3, base_port: int = 19092, heap_mb: int = 512) -> list[KafkaNode]:
    """`n` nodes under `home`/node<i>, ports base_port+2i (broker) and +1 (controller), bounded heaps."""
    home = Path(home).resolve()
    voters = ",".join(f"{i + 1}@127.0.0.1:{base_port + 2 * i + 1}" for i in range(n))
    return [KafkaNode(home=home / f"node{i + 1}", port=base_port + 2 * i, controller_port=base_port + 2 * i + 1,
                      heap_mb=heap_mb, node_id=i + 1, voters=voters, replication=min(n, 3),
                      cluster_id_file=home / "cluster.id")
            for i in range(n)]


def bootstrap(nodes: list[KafkaNode]) -> str:
    return ",".join(n.bootstrap for n in nodes)


def _properties(node: KafkaNode) -> str:
    data = node.home / "data"
    rf = node.replication
    min_isr = 2 if rf >= 3 else 1
    return f"""process.roles=broker,controller
node.id={node.node_id}
controller.quorum.voters={node.voters or f"1@127.0.0.1:{node.controller_port}"}
listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{node.port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
auto.create.topics.enable=false
num.partitions=1
default.replication.factor={rf}
min.insync.replicas={min_isr}
offsets.topic.replication.factor={rf}
offsets.topic.num.partitions=8
transaction.state.log.replication.factor={rf}
transaction.state.log.min.isr={min_isr}
share.coordinator.state.topic.replication.factor={rf}
share.coordinator.state.topic.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=168
"""


def _java(node: KafkaNode, main: str, *args: str) -> list[str]:
    java = shutil.which("java") or "java"
    return [
        java,
        f"-Xms{node.heap_mb // 2}m",
        f"-Xmx{node.heap_mb}m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={node.home / 'log4j2.xml'}",
        "-cp",
        str(LIBDIR / "*"),
        main,
        *args,
    ]


def start(node: KafkaNode, timeout: float = 90.0) -> None:
    """Format storage on first use, start the broker, wait until it answers."""
    if launch(node):
        wait_ready(node, timeout)


def launch(node: KafkaNode) -> bool:
    """Format storage on first use and start the node's JVM without waiting; False when it already runs."""
    if read_pid(node.pidfile) is not None and port_open("127.0.0.1", node.port):
        return False
    ensure_runtime()
    node.home.mkdir(parents=True, exist_ok=True)
    props = node.home / "server.properties"
    props.write_text(_properties(node))
    (node.home / "log4j2.xml").write_text(LOG4J2.format(log=node.home / "server.log"))
    if not (node.home / "data" / "meta.properties").exists():
        cluster_id = _shared_cluster_id(node.cluster_id_file) if node.cluster_id_file else _cluster_id()
        subprocess.run(
            _java(node, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(props)),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    spawn(_java(node, "kafka.Kafka", str(props)), pidfile=node.pidfile, logfile=node.logfile)
    return True


def wait_ready(node: KafkaNode, timeout: float = 90.0) -> None:
    try:
        wait_until(lambda: port_open("127.0.0.1", node.port), timeout, f"Kafka on {node.bootstrap}")
    except TimeoutError:
        tail = node.logfile.read_text(errors="replace")[-3000:] if node.logfile.exists() else ""
        raise TimeoutError(f"Kafka did not start; log tail:\n{tail}") from None


def start_cluster(nodes: list[KafkaNode], timeout: float = 120.0) -> None:
    """Start every node first (a KRaft broker opens its port only once the quorum elected a controller),
    then wait for all of them."""
    from concurrent.futures import ThreadPoolExecutor

    for n in nodes:  # the shared id exists before the nodes format in parallel (else each may make its own)
        if n.cluster_id_file:
            _shared_cluster_id(n.cluster_id_file)
    with ThreadPoolExecutor(len(nodes)) as pool:  # formatting and JVM start-up in parallel
        list(pool.map(launch, nodes))
    for n in nodes:
        wait_ready(n, timeout)


def stop_cluster(nodes: list[KafkaNode]) -> bool:
    """Stop every node at once: one by one, the last ones wait for a quorum that is already gone."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(nodes)) as pool:
        return any(list(pool.map(stop, nodes)))


def _shared_cluster_id(path: Path) -> str:
    """The cluster's id, made once and kept next to its nodes: every node is formatted with it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        tmp.write_text(_cluster_id())
        try:  # a hard link appears whole or not at all: of two starters racing, one id wins and both read it
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _cluster_id() -> str:
    """A random Kafka cluster id (base64url; it may start with "-", hence --cluster-id=<id> above)."""
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def stop(node: KafkaNode) -> bool:
    """Stop the broker cleanly (controlled shutdown), SIGKILL if it hangs."""
    return stop_pid(node.pidfile, timeout=45)


def wipe(node: KafkaNode) -> None:
    stop(node)
    shutil.rmtree(node.home, ignore_errors=True)


