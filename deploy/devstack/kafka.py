"""Real Apache Kafka (KRaft, single node) resolved by deploy/kafka/pom.xml and run as a local JVM."""

from __future__ import annotations

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
    """One local broker+controller, its folder and ports."""

    home: Path
    port: int = 19092
    controller_port: int = 19093
    heap_mb: int = 768

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


def _properties(node: KafkaNode) -> str:
    data = node.home / "data"
    return f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{node.controller_port}
listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{node.port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
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
    if read_pid(node.pidfile) is not None and port_open("127.0.0.1", node.port):
        return
    ensure_runtime()
    node.home.mkdir(parents=True, exist_ok=True)
    props = node.home / "server.properties"
    props.write_text(_properties(node))
    (node.home / "log4j2.xml").write_text(LOG4J2.format(log=node.home / "server.log"))
    if not (node.home / "data" / "meta.properties").exists():
        cluster_id = _cluster_id()
        subprocess.run(
            _java(node, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(props)),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    spawn(_java(node, "kafka.Kafka", str(props)), pidfile=node.pidfile, logfile=node.logfile)
    try:
        wait_until(lambda: port_open("127.0.0.1", node.port), timeout, f"Kafka on {node.bootstrap}")
    except TimeoutError:
        tail = node.logfile.read_text(errors="replace")[-3000:] if node.logfile.exists() else ""
        raise TimeoutError(f"Kafka did not start; log tail:\n{tail}") from None


def _cluster_id() -> str:
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def stop(node: KafkaNode) -> bool:
    """Stop the broker cleanly (controlled shutdown), SIGKILL if it hangs."""
    return stop_pid(node.pidfile, timeout=45)


def wipe(node: KafkaNode) -> None:
    stop(node)
    shutil.rmtree(node.home, ignore_errors=True)


