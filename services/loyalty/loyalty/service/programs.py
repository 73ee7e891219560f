"""The program viewer (issue 12) and the desk-claim list (L-09): programs are documents loaded at start
(programs/*.yaml, every version), read here as they are; the list of members who reached a desk-claim reward's
threshold is read from the accounts of one store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import NotFound, RuleViolation

from ..adapters import desk
from ..adapters.stores import StoreCache
from ..domain.program import ProgramBook


class Programs:
    def __init__(self, engine: AsyncEngine, books: dict[str, ProgramBook], stores: StoreCache,
                 clock: Callable[[], datetime]) -> None:
        self.engine, self.books, self.stores, self.clock = engine, books, stores, clock

    def summaries(self) -> list[dict[str, Any]]:
        """Every program with the version in force now and how many versions it has."""
        out = []
        for pid in sorted(self.books):
            book = self.books[pid]
            cur = book.at(self.clock())
            out.append({"id": pid, "brand": cur.brand, "current_version": cur.version,
                        "versions": len(book.versions), "effective_from": cur.effective_from})
        return out

    def versions(self, program_id: str) -> dict[str, Any]:
        """Every version of one program, newest first, the one in force marked: tiers (L-04), earn rules (L-01),
        catalogue and windows (L-07, L-09), expiry (L-08), pending days (L-14), returns (L-13)."""
        book = self.books.get(program_id)
        if book is None:
            raise NotFound("program_id", f"no program {program_id}", "exists")
        cur = book.at(self.clock())
        return {"id": program_id, "versions": [{**v.model_dump(), "in_force": v is cur}
                                               for v in reversed(book.versions)]}

    async def desk_rewards(self, store_id: str, after: str | None, limit: int,
                           reward_id: str | None = None) -> dict[str, Any]:
        """L-09: the store's desk-claim rewards (program in force) and its members who reached the lowest one (or
        `reward_id`), each with the rewards their balance reaches; paged by member id."""
        pid = await self.stores.program_of(store_id)
        program = self.books[pid].at(self.clock())
        rewards = sorted((r for r in program.redemption.catalogue if r.desk_claim), key=lambda r: r.points)
        line = next((r for r in rewards if r.id == reward_id), None) if reward_id else \
            (rewards[0] if rewards else None)
        if reward_id and line is None:
            raise RuleViolation("L-09", "reward_id", f"{reward_id} is not a desk-claim reward of program {pid}")
        rows: list[dict[str, Any]] = []
        if line is not None:
            rows = await desk.members_reaching(self.engine, store_id=store_id, program=pid,
                                               min_points=line.points, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"store_id": store_id, "program": pid, "rewards": [r.model_dump() for r in rewards],
                "members": [{**r, "reached": [w.id for w in rewards if w.points <= r["points_balance"]]}
                            for r in rows],
                "next_after": rows[-1]["member_id"] if more and rows else None}
