"""The one event envelope: CloudEvents attributes in Kafka headers (binary mode), JSON body."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

SPECVERSION = "1.0"


class EventData(BaseModel):
    """Base of every versioned event contract; `TYPE` and `VERSION` identify it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def dataschema(cls) -> str:
        return f"urn:vip:{cls.TYPE}:v{cls.VERSION}"


class Envelope(BaseModel):
    """A CloudEvent: attributes plus the typed `data`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: uuid.UUID
    type: str
    source: str
    time: datetime
    subject: str | None = None
    specversion: str = SPECVERSION
    dataschema: str
    data: EventData

    @classmethod
    def new(cls, data: EventData, *, source: str, subject: str | None,
            time: datetime | None = None, id: uuid.UUID | None = None) -> Envelope:
        return cls(
            id=id or uuid.uuid4(), type=data.TYPE, source=source,
            time=time or datetime.now(UTC), subject=subject,
            dataschema=data.dataschema(), data=data,
        )

    def kafka_headers(self, extra: Mapping[str, str] | None = None) -> list[tuple[str, bytes]]:
        attrs = {
            "ce_id": str(self.id), "ce_type": self.type, "ce_source": self.source,
            "ce_time": self.time.isoformat(), "ce_specversion": self.specversion,
            "ce_dataschema": self.dataschema, "content-type": "application/json",
        }
        if self.subject is not None:
            attrs["ce_subject"] = self.subject
        attrs.update(extra or {})
        return [(k, v.encode()) for k, v in attrs.items()]

    def body(self) -> bytes:
        return orjson.dumps(self.data.model_dump(mode="json"))


class PoisonMessage(Exception):
    """A message that can never be processed (unparseable, unknown type/version, schema-invalid)."""


_REGISTRY: dict[tuple[str, str], type[EventData]] = {}


def contract(cls: type[EventData]) -> type[EventData]:
    """Class decorator registering an event contract under (type, dataschema)."""
    _REGISTRY[(cls.TYPE, cls.dataschema())] = cls
    return cls


def known_contracts() -> dict[tuple[str, str], type[EventData]]:
    return dict(_REGISTRY)


def decode(headers: Sequence[tuple[str, bytes]], value: bytes | None,
           accept: Mapping[str, Sequence[type[EventData]]] | None = None) -> Envelope:
    """Parse one Kafka record into an Envelope or raise PoisonMessage saying why."""
    try:
        h = {k: v.decode() for k, v in headers}
    except UnicodeDecodeError as e:
        raise PoisonMessage(f"header is not UTF-8: {e}") from e
    missing = [a for a in ("ce_id", "ce_type", "ce_source", "ce_time", "ce_dataschema") if a not in h]
    if missing:
        raise PoisonMessage(f"missing CloudEvents headers: {', '.join(missing)}")
    etype, schema = h["ce_type"], h["ce_dataschema"]
    model = _REGISTRY.get((etype, schema))
    if accept is not None and etype in accept and model not in accept[etype]:
        model = None
    if model is None:
        raise PoisonMessage(f"unknown event type/version {etype} {schema}")
    try:
        payload = orjson.loads(value or b"")
    except orjson.JSONDecodeError as e:
        raise PoisonMessage(f"body is not JSON: {e}") from e
    try:
        data = model.model_validate(payload)
        return Envelope(
            id=uuid.UUID(h["ce_id"]), type=etype, source=h["ce_source"],
            time=datetime.fromisoformat(h["ce_time"]), subject=h.get("ce_subject"),
            specversion=h.get("ce_specversion", SPECVERSION), dataschema=schema, data=data,
        )
    except ValidationError as e:  # the reason reaches logs and the DLQ header: fields and faults, never values
        faults = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                           for err in e.errors(include_input=False, include_url=False))
        raise PoisonMessage(f"violates {schema}: {faults}") from e
    except ValueError as e:
        raise PoisonMessage(f"violates {schema}: {type(e).__name__}") from e
