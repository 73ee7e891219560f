"""Saving a template (N-02): the variables it reads must be carried by the event that triggers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import RuleViolation
from vipcore.events import known_contracts

from ..adapters.tables import templates
from ..domain.rules import template_events
from ..domain.sms import sms_size
from ..domain.templates import check_template

CAMPAIGN_VARS = frozenset({"display_name", "brand", "tier", "store_id"})
"""What a campaign text may use: the recipient's facts, nothing from an event."""


def allowed_variables(key: str) -> tuple[set[str], str]:
    """N-01/N-02: the fields a template may use, and where they come from (event type or campaign)."""
    if key.startswith("campaign."):
        return set(CAMPAIGN_VARS), "a campaign recipient"
    events = template_events()
    if key not in events:
        raise RuleViolation("N-01", "key", f"one of {sorted(events)} or campaign.<name>")
    contracts = {etype: cls for (etype, _), cls in known_contracts().items()}
    # sealed personal fields (`customer_name_enc`) reach templates opened, under the plain name (triggers.opened)
    return {f.removesuffix("_enc") for f in contracts[events[key]].model_fields}, events[key]


def check_campaign_text(body: str) -> None:
    """N-02: a campaign text may use only the recipient's facts."""
    check_template(body, CAMPAIGN_VARS, "a campaign recipient")


@dataclass
class Templates:
    engine: AsyncEngine

    async def save(self, key: str, language: str, brand: str, body: str) -> dict[str, Any]:
        """N-02: save a brand's template in one language, refused when it reads a field its event lacks."""
        allowed, source = allowed_variables(key)
        check_template(body, allowed, source)
        stmt = insert(templates).values(brand=brand, key=key, language=language, body=body)
        async with self.engine.begin() as conn:
            await conn.execute(stmt.on_conflict_do_update(index_elements=["brand", "key", "language"],
                                                          set_={"body": body, "updated_at": sa.func.now()}))
        size = sms_size(body)
        return {"key": key, "language": language, "brand": brand, "body": body,
                "encoding": size.encoding, "template_units": size.units}
