"""The event envelope: CloudEvents attributes as Kafka headers (binary mode), and what is poison."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest
from vipcore import contracts  # noqa: F401
from vipcore.contracts.loyalty import TierChanged
from vipcore.events import Envelope, PoisonMessage, decode
from vipcore.logs import mask_mobiles
from vipcore.pii import blind_index, decrypt, encrypt, mask_name


def tier_env() -> Envelope:
    data = TierChanged(member_id="M1", program="jewelry", brand="金缘珠宝", from_tier="normal", to_tier="vip",
                       to_tier_name="VIP会员", reason="L-04", cause_event_id=str(uuid.uuid4()),
                       occurred_at=datetime(2026, 11, 22, tzinfo=UTC))
    return Envelope.new(data, source="loyalty", subject="M1")


def test_round_trip_with_cloudevents_headers() -> None:
    env = tier_env()
    headers = env.kafka_headers({"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    names = {k for k, _ in headers}
    assert {"ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion", "ce_dataschema", "ce_subject",
            "content-type", "traceparent"} <= names
    back = decode(headers, env.body())
    assert back.id == env.id and back.data == env.data and back.type == "loyalty.tier.changed"


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda h, b: ([], b), "missing CloudEvents headers"),
    (lambda h, b: (h, b"{oops"), "not JSON"),
    (lambda h, b: (h, orjson.dumps({"member_id": "M1"})), "violates"),
    (lambda h, b: ([(k, b"urn:vip:loyalty.tier.changed:v7" if k == "ce_dataschema" else v) for k, v in h], b),
     "unknown event type/version"),
    (lambda h, b: ([(k, b"\xff" if k == "ce_type" else v) for k, v in h], b), "not UTF-8"),
])
def test_poison_is_reported_with_its_reason(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    env = tier_env()
    headers, value = mutate(env.kafka_headers(), env.body())
    with pytest.raises(PoisonMessage, match=reason):
        decode(headers, value)


def test_a_consumer_refuses_versions_it_does_not_accept() -> None:
    env = tier_env()
    with pytest.raises(PoisonMessage):
        decode(env.kafka_headers(), env.body(), accept={"loyalty.tier.changed": []})


def test_n06_mobiles_masked_in_logs_and_pii_encrypted() -> None:
    assert mask_mobiles("sent to 13912345678 ok") == "sent to 139****5678 ok"
    token = encrypt("k" * 16, "13912345678")
    assert "13912345678" not in token and decrypt("k" * 16, token) == "13912345678"
    assert blind_index("k", "13912345678") == blind_index("k", "13912345678") != blind_index("j", "13912345678")
    assert mask_name("王小明") == "王*明"
