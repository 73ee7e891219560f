"""A stack of members, gateway and credit (what credit tests need), isolated per test; credit runs on a clock
the test moves (business dates, due dates, expiry)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from devstack.testing import InProcessServer, Stack, StackConfig

from .helpers import CREDIT_SERVICES


class TestClock:
    """The credit service's clock: starts now, moves only when the test says."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest_asyncio.fixture
async def cstack(stack_config: StackConfig) -> AsyncIterator[Stack]:
    async for s in _stack(stack_config, CREDIT_SERVICES):
        yield s


@pytest_asyncio.fixture
async def nstack(stack_config: StackConfig) -> AsyncIterator[Stack]:
    """The credit stack with notify: reminders become SMS in the simulator."""
    async for s in _stack(stack_config, (*CREDIT_SERVICES, "notify")):
        yield s


async def _stack(stack_config: StackConfig, services: tuple[str, ...]) -> AsyncIterator[Stack]:
    from credit.bootstrap import build

    clock = TestClock()
    async with Stack(stack_config, services=tuple(s for s in services if s != "credit")) as s:
        app = build(stack_config.settings("credit"), clock=clock)
        async with InProcessServer(app, stack_config.port("credit")):
            s.clock = clock  # type: ignore[attr-defined]
            yield s
