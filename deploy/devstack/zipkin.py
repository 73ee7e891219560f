"""The trace viewer: a pinned Zipkin server (UI + API, in-memory storage) resolved by deploy/zipkin/pom.xml.

Services export to it with OpenTelemetry's Zipkin exporter (`ZIPKIN_ENDPOINT`); its exec jar does not
accept OTLP. Bound to loopback, heap bounded, spans kept in memory (lost on stop, capped by max_spans).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .procs import port_open, read_pid, spawn, stop_pid, wait_until

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "deploy" / "zipkin" / "pom.xml"
ZIPKIN_VERSION = "3.6.1"  # keep equal to <zipkin.version> in deploy/zipkin/pom.xml
JAR = ROOT / ".cache" / f"zipkin-{ZIPKIN_VERSION}" / "zipkin-server-exec.jar"


@dataclass(frozen=True)
class ZipkinNode:
    """One local Zipkin server, its folder and port."""

    home: Path
    port: int = 9411
    heap_mb: int = 256
    max_spans: int = 100_000  # in-memory cap (oldest dropped): ~19 spans a sale, ~1.5 KB each; 200,000 ran the
    # 256 MB heap out of memory in a bench of three brokers and two instances per service

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).resolve())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def spans_endpoint(self) -> str:
        """Where OpenTelemetry's Zipkin exporter posts spans (what ZIPKIN_ENDPOINT is set to)."""
        return f"{self.url}/api/v2/spans"

    def trace_url(self, trace_id: str) -> str:
        """The viewer's page for one trace."""
        return f"{self.url}/zipkin/traces/{trace_id}"

    @property
    def pidfile(self) -> Path:
        return self.home / "zipkin.pid"

    @property
    def logfile(self) -> Path:
        return self.home / "zipkin.log"


def ensure_runtime() -> Path:
    """Resolve the pinned Zipkin exec jar once (Maven); later calls reuse the cache."""
    if JAR.is_file():
        return JAR
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is needed once to resolve the Zipkin server; install it")
    subprocess.run([mvn, "-q", "-B", "-f", str(POM), "package"], check=True)
    return JAR


def _ready(node: ZipkinNode) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(node.url + "/health", timeout=1) as r:  # noqa: S310 - loopback
            return bool(r.status == 200)
    except OSError:
        return False


def start(node: ZipkinNode, timeout: float = 180.0, wait: bool = True) -> None:
    """Start Zipkin (in-memory storage, loopback only) and wait until its API answers (unless not `wait`:
    then call wait_ready later, the JVM starts while other things do)."""
    if read_pid(node.pidfile) is not None:
        if wait:
            wait_ready(node, timeout)
        return
    ensure_runtime()
    node.home.mkdir(parents=True, exist_ok=True)
    java = shutil.which("java") or "java"
    cmd = [java, "-Xms64m", f"-Xmx{node.heap_mb}m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
           "-Djava.awt.headless=true", "-jar", str(JAR),
           "--armeria.ports[0].ip=127.0.0.1", f"--armeria.ports[0].port={node.port}",
           "--armeria.ports[0].protocols=http"]
    env = {"STORAGE_TYPE": "mem", "MEM_MAX_SPANS": str(node.max_spans), "QUERY_PORT": str(node.port),
           "SELF_TRACING_ENABLED": "false", "COLLECTOR_SCRIBE_ENABLED": "false"}
    if port_open("127.0.0.1", node.port):
        raise RuntimeError(f"port {node.port} is taken by another process; set another port for Zipkin")
    spawn(cmd, pidfile=node.pidfile, logfile=node.logfile, env=env, cwd=node.home)
    if wait:
        wait_ready(node, timeout)


def wait_ready(node: ZipkinNode, timeout: float = 180.0) -> None:
    """Wait until Zipkin's API answers; the log's tail in the error when it does not."""
    try:
        wait_until(lambda: _ready(node), timeout, f"Zipkin on {node.url}", interval=0.5)
    except TimeoutError:
        tail = node.logfile.read_text(errors="replace")[-3000:] if node.logfile.exists() else ""
        raise TimeoutError(f"Zipkin did not start; log tail:\n{tail}") from None


def stop(node: ZipkinNode) -> bool:
    return stop_pid(node.pidfile, timeout=20)


def wipe(node: ZipkinNode) -> None:
    stop(node)
    shutil.rmtree(node.home, ignore_errors=True)
