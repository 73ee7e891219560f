"""Typed consumer wiring: a contract class names its own event type and version; what is not wired is skipped
(another consumer's type) or dead-lettered (an unwired version of a wired type)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from aiokafka import ConsumerRecord
from vipcore import contracts  # noqa: F401 - registers every contract
from vipcore.consumer import BatchConsumer, Delivery, Tx, wiring
from vipcore.contracts.loyalty import TierChanged
from vipcore.contracts.pos import SaleRecorded, SaleRefunded
from vipcore.events import Envelope, EventData


class TierChangedV2(EventData):  # a later version of one type, not registered: only for wiring
    TYPE: ClassVar[str] = TierChanged.TYPE
    VERSION: ClassVar[int] = 2
    member_id: str


async def on_sales(tx: Tx, batch: list[Delivery[SaleRecorded]]) -> None:
    pass


async def on_refunds(tx: Tx, batch: list[Delivery[SaleRefunded]]) -> None:
    pass


async def on_tiers(tx: Tx, batch: list[Delivery[TierChanged | TierChangedV2]]) -> None:
    pass


def test_each_contract_names_its_type_and_version() -> None:
    handlers, accept = wiring({SaleRecorded: on_sales, SaleRefunded: on_refunds})
    assert handlers == {"pos.sale.recorded": on_sales, "pos.sale.refunded": on_refunds}
    assert accept == {"pos.sale.recorded": (SaleRecorded,), "pos.sale.refunded": (SaleRefunded,)}


def test_several_versions_of_one_type_go_to_one_handler() -> None:
    handlers, accept = wiring({(TierChanged, TierChangedV2): on_tiers})
    assert handlers == {"loyalty.tier.changed": on_tiers}
    assert accept == {"loyalty.tier.changed": (TierChanged, TierChangedV2)}
    assert wiring({TierChanged: on_tiers, TierChangedV2: on_tiers})[1] == accept
    with pytest.raises(ValueError, match="one handler"):
        wiring({TierChanged: on_tiers, TierChangedV2: on_sales})


def test_delivery_data_is_the_contract() -> None:
    env = Envelope.new(TierChanged(member_id="M1", program="p", brand="b", from_tier="a", to_tier="b",
                                   to_tier_name="B", reason="L-04", cause_event_id="c",
                                   occurred_at=datetime(2026, 1, 1, tzinfo=UTC)), source="loyalty", subject="M1")
    d: Delivery[TierChanged] = Delivery(env, record(env), span=None)  # type: ignore[arg-type]
    assert d.data.to_tier == "b"


class _Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def send(self, topic: str, *, value: Any, key: Any, headers: Any) -> asyncio.Future[None]:
        self.sent.append((topic, dict(headers)))
        f: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        f.set_result(None)
        return f


def record(env: Envelope, headers: list[tuple[str, bytes]] | None = None) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord("pos.sales", 0, 7, 0, 0, b"k", env.body(), None, 1, 1,
                          headers if headers is not None else env.kafka_headers())


async def test_unwired_versions_are_dead_lettered_and_other_types_skipped() -> None:
    producer = _Producer()
    c = BatchConsumer(service="t", topic="pos.sales", handlers={SaleRecorded: on_sales},
                      engine=None, producer=producer)  # type: ignore[arg-type]
    refund = Envelope.new(SaleRefunded(refund_id="r", sale_id="s", store_id="S1", receipt_no="R2",
                                       original_receipt_no="R1", occurred_at=datetime.now(UTC), lines=[]),
                          source="gateway", subject=None)
    sale = Envelope.new(SaleRecorded(sale_id="s", store_id="S1", terminal_id="T", receipt_no="R1",
                                     occurred_at=datetime.now(UTC), lines=[], payments=[]),
                        source="gateway", subject=None, id=uuid.uuid4())
    v9 = [(k, b"urn:vip:pos.sale.recorded:v9" if k == "ce_dataschema" else v) for k, v in sale.kafka_headers()]
    await c.process([record(refund), record(sale, v9)])
    assert [t for t, _ in producer.sent] == ["pos.sales.dlq"]
    assert b"unknown event type/version" in producer.sent[0][1]["x-dlq-error"]
