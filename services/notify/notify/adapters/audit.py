"""The operator audit (O-02): one row per staff action through notify's routes, written in the action's own
transaction, naming the staff id the route read from the token."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import operator_actions


async def record(conn: AsyncConnection, operator: str, action: str, subject: str, **detail: Any) -> None:
    await conn.execute(operator_actions.insert().values(operator=operator, action=action, subject=subject,
                                                        detail={k: v for k, v in detail.items() if v is not None}))
