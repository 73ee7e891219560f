"""Fixtures of the members tests: a stack of the members service alone, fresh for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from devstack.testing import Stack, StackConfig


@pytest.fixture
async def members_only(stack_config: StackConfig) -> AsyncIterator[Stack]:
    async with Stack(stack_config, services=("members",)) as s:
        yield s
