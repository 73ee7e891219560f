"""Card validity per program (M-17): members knows each store's program (O-01); HQ sets a program's validity
(1 or 2 years), else the program document's card validity applies, else the deployment default."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from vipcore.logs import get_logger

from ..adapters.tables import program_cards, stores
from ..domain.cards import document_validity_years, validity_years

log = get_logger(__name__)


def program_documents(directory: Path | None) -> list[dict[str, Any]]:
    """The program documents (programs/*.yaml) that parse and name their `id`; an unreadable one is logged."""
    out: list[dict[str, Any]] = []
    for f in sorted(directory.glob("*.yaml")) if directory and directory.is_dir() else []:
        try:
            doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            log.warning("program document unreadable", file=str(f), error=str(e))
            continue
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            out.append(doc)
    return out


def read_documents(directory: Path | None) -> dict[str, int]:
    """Program id → card validity years, for the program documents (programs/*.yaml) that state one."""
    out: dict[str, int] = {}
    for doc in program_documents(directory):
        years = document_validity_years(doc)
        if years is not None:
            out[doc["id"]] = years
    return out


def read_program_tiers(directory: Path | None) -> dict[str, list[str]]:
    """Program id -> its tier codes, lowest first (L-04), for checking an imported opening tier (M-19)."""
    return {doc["id"]: [str(t["code"]) for t in doc.get("tiers") or [] if isinstance(t, dict) and "code" in t]
            for doc in program_documents(directory)}


class CardValidity:
    def __init__(self, engine: AsyncEngine, documents: dict[str, int], default_years: int,
                 clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.documents = documents
        self.default_years = default_years
        self.clock = clock

    async def years_for_store(self, conn: AsyncConnection, store_id: str) -> int:
        """M-17: the validity of cards issued now by this store, from the program the store runs."""
        program = await conn.scalar(sa.select(stores.c.program).where(stores.c.store_id == store_id))
        return await self.years_for_program(conn, str(program))

    async def years_for_program(self, conn: AsyncConnection, program: str) -> int:
        configured = await conn.scalar(sa.select(program_cards.c.validity_years)
                                       .where(program_cards.c.program == program))
        return validity_years(configured, self.documents.get(program), self.default_years)

    async def set(self, program: str, years: int) -> dict[str, Any]:
        """HQ sets a program's card validity; cards issued from now on follow it (issued cards keep theirs)."""
        values = {"validity_years": years, "set_at": self.clock()}
        async with self.engine.begin() as conn:
            await conn.execute(pg_insert(program_cards).values(program=program, **values)
                               .on_conflict_do_update(index_elements=["program"], set_=values))
        return await self.get(program)

    async def get(self, program: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            configured = await conn.scalar(sa.select(program_cards.c.validity_years)
                                           .where(program_cards.c.program == program))
        source = "hq_setting" if configured is not None else "program_document" if program in self.documents \
            else "default"
        return {"program": program, "validity_years": validity_years(configured, self.documents.get(program),
                                                                     self.default_years), "source": source}
