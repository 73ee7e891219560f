"""One real Zipkin server (the project's trace viewer) per test session, started by the devstack starter."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack import zipkin
from devstack.procs import free_port

TEST_HOME = Path(__file__).resolve().parents[2] / ".run" / "test" / str(os.getpid())


@pytest.fixture(scope="session")
def zipkin_url() -> Iterator[str]:
    """Base URL of a running Zipkin: TEST_ZIPKIN_URL, or one started here (about 15 s of JVM start, once)."""
    external = os.environ.get("TEST_ZIPKIN_URL")
    if external:
        yield external.rstrip("/")
        return
    node = zipkin.ZipkinNode(home=TEST_HOME / "zipkin", port=free_port(), max_spans=50_000)
    zipkin.wipe(node)
    zipkin.start(node)
    yield node.url
    zipkin.wipe(node)
