"""A stack of members, gateway and credit (what credit tests need), isolated per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from devstack.testing import Stack, StackConfig

from .helpers import CREDIT_SERVICES


@pytest_asyncio.fixture
async def cstack(stack_config: StackConfig) -> AsyncIterator[Stack]:
    async with Stack(stack_config, services=CREDIT_SERVICES) as s:
        yield s
