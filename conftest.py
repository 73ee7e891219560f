"""Session fixtures: the real Kafka broker and PostgreSQL server, started once (or taken from settings)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from devstack import kafka, postgres
from devstack.procs import free_port
from devstack.testing import Stack, StackConfig, pg_admin_env, pg_admin_password

TEST_HOME = Path(__file__).parent / ".run" / "test" / str(os.getpid())  # parallel sessions never collide


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real Kafka broker: TEST_KAFKA_BOOTSTRAP_SERVERS, or one started here."""
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    node = kafka.KafkaNode(home=TEST_HOME / "kafka", port=free_port(), controller_port=free_port(),
                           heap_mb=768)
    kafka.wipe(node)
    kafka.start(node)
    yield node.bootstrap
    kafka.wipe(node)


@pytest.fixture(scope="session")
def pg_node() -> Iterator[postgres.PgNode | None]:
    """A real PostgreSQL server started here (None when TEST_PG_HOST/PORT point at an external one)."""
    if pg_admin_env():
        yield None
        return
    node = postgres.PgNode(home=TEST_HOME / "pg", port=free_port(), durable=False,
                           password=secrets.token_urlsafe(18))  # scram-sha-256, as the dev system
    postgres.wipe(node)
    postgres.start(node)
    yield node
    postgres.wipe(node)


@pytest.fixture
def stack_config(kafka_bootstrap: str, pg_node: postgres.PgNode | None) -> StackConfig:
    host, port = pg_admin_env() or ("127.0.0.1", pg_node.port if pg_node else 5432)
    return StackConfig(pg_host=host, pg_port=port, kafka_bootstrap=kafka_bootstrap,
                       pg_password=pg_admin_password(pg_node))


@pytest_asyncio.fixture
async def stack(stack_config: StackConfig) -> AsyncIterator[Stack]:
    """Every service running in-process against the real broker and database, isolated for this test."""
    async with Stack(stack_config) as s:
        yield s
