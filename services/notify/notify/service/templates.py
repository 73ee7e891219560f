"""Saving a template (N-02): the variables it reads must be carried by the event that triggers it."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import jinja2
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from vipcore.errors import RuleViolation
from vipcore.events import known_contracts

from ..adapters.audit import record
from ..adapters.tables import templates
from ..domain.rules import TRIGGERS, template_events
from ..domain.sms import sms_size
from ..domain.templates import DEFAULTS, LANGUAGES, check_template, render

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


def _sample(annotation: Any, name: str) -> Any:
    """A value of the field's type to preview a template with (a number where the text does sums)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    t = args[0] if args and typing.get_origin(annotation) is not None else annotation
    t = typing.get_args(t)[0] if typing.get_origin(t) is typing.Annotated else t
    if t is bool:
        return True
    if t is int:
        return 1280
    if t is float:
        return 12.8
    if t is datetime:
        return datetime(2026, 12, 24, 10, 30, tzinfo=UTC)
    if t is date:
        return date(2026, 12, 31)
    return f"<{name}>"


def sample_fields(key: str) -> dict[str, Any]:
    """N-02: the fields a template of `key` gets, each with a sample of its type (for previews)."""
    out: dict[str, Any] = {"display_name": "王*明", "local_time": "2026-12-24 10:30"}
    if key.startswith("campaign."):
        return out | {"tier": "vip", "store_id": "S1"}
    allowed_variables(key)  # refuses an unknown key
    contracts = {etype: cls for (etype, _), cls in known_contracts().items()}
    for f, info in contracts[template_events()[key]].model_fields.items():
        out[f.removesuffix("_enc")] = _sample(info.annotation, f.removesuffix("_enc"))
    return out


def _typed(given: str, like: Any) -> Any:
    """An operator's sample value in the type of the field's own sample (refused, naming nothing, when not)."""
    try:
        if isinstance(like, bool):
            return given.strip().lower() in ("1", "true", "yes", "y", "是")
        if isinstance(like, int):
            return int(given)
        if isinstance(like, float):
            return float(given)
        if isinstance(like, datetime):
            return datetime.fromisoformat(given)
        if isinstance(like, date):
            return date.fromisoformat(given)
    except ValueError:
        return None
    return given


def check_campaign_text(body: str) -> None:
    """N-02: a campaign text may use only the recipient's facts."""
    check_template(body, CAMPAIGN_VARS, "a campaign recipient")


@dataclass
class Templates:
    engine: AsyncEngine

    async def save(self, key: str, language: str, brand: str, body: str, operator: str) -> dict[str, Any]:
        """N-02: save a brand's template in one language, refused when it reads a field its event lacks; the
        operator is audited (O-02)."""
        allowed, source = allowed_variables(key)
        check_template(body, allowed, source)
        stmt = insert(templates).values(brand=brand, key=key, language=language, body=body)
        async with self.engine.begin() as conn:
            await conn.execute(stmt.on_conflict_do_update(index_elements=["brand", "key", "language"],
                                                          set_={"body": body, "updated_at": sa.func.now()}))
            await record(conn, operator, "template.saved", f"{key}/{language}", brand=brand, body=body)
        size = sms_size(body)
        return {"key": key, "language": language, "brand": brand, "body": body,
                "encoding": size.encoding, "template_units": size.units}

    async def catalog(self) -> list[dict[str, Any]]:
        """N-01/N-02: every template key and language: its event (or campaign), the fields it may use, the built-in
        text and the texts HQ saved (per brand) — built-in keys first, then saved campaign texts."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(templates).order_by(templates.c.key, templates.c.language,
                                                                     templates.c.brand))).mappings().all()
        saved: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in rows:
            saved.setdefault((r["key"], r["language"]), []).append(
                {"brand": r["brand"], "body": r["body"], "updated_at": r["updated_at"]})
        category = {t.template: t.category for t in TRIGGERS}
        keys = list(dict.fromkeys([k for k, _ in DEFAULTS] + [k for k, _ in saved]))
        out = []
        for key in keys:
            allowed, source = allowed_variables(key)
            for lang in LANGUAGES:
                out.append({"key": key, "language": lang, "source": source,
                            "category": "marketing" if key.startswith("campaign.") else category.get(key, "service"),
                            "variables": sorted(allowed | {"display_name", "brand", "local_time"}),
                            "default_body": DEFAULTS.get((key, lang)), "saved": saved.get((key, lang), [])})
        return out

    def preview(self, key: str, language: str, body: str, brand: str, fields: dict[str, str]) -> dict[str, Any]:
        """N-02: the text a template gives with sample fields (the operator's, else a sample of each field's type),
        checked as a save would be; 【brand】 first, the opt-out hint for marketing."""
        allowed, source = allowed_variables(key)
        check_template(body, allowed, source)
        values = sample_fields(key)
        for name, given in fields.items():
            if name not in values:
                raise RuleViolation("N-02", f"fields.{name}", f"{source} does not carry '{name}'")
            typed = _typed(given, values[name])
            if typed is None:
                raise RuleViolation("N-02", f"fields.{name}", f"not a value of the kind '{name}' holds")
            values[name] = typed
        marketing = key.startswith("campaign.") or any(t.template == key and t.category == "marketing"
                                                        for t in TRIGGERS)
        try:
            text = render(body, brand, values, marketing=marketing, language=language)
        except (jinja2.TemplateError, TypeError, ValueError, AttributeError) as e:
            raise RuleViolation("N-02", "body", f"the template does not render: {e}") from None
        size = sms_size(text)
        return {"key": key, "language": language, "brand": brand, "text": text, "fields": {
            k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in values.items()},
            "encoding": size.encoding, "segments": size.segments, "characters": len(text)}
