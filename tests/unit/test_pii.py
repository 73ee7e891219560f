"""Issue 11, item 5, without a stack: one index per phone however typed, key ids on every ciphertext and keyrings
per service, event contracts without personal fields in clear, and text leaving a service (logs, DLQ headers,
spans) without mobiles, ID numbers or values quoted by database errors."""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import pytest
import structlog
from cryptography.exceptions import InvalidTag
from devstack.testing import StackConfig
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from vipcore import contracts  # noqa: F401 - registers every contract
from vipcore.events import known_contracts
from vipcore.pii import Keyring, blind_index, decrypt, encrypt, id_card_index, mobile_index, name_index
from vipcore.redact import redact, safe_error
from vipcore.telemetry import Scrubbed

ROOT = Path(__file__).resolve().parents[2]
SPELLINGS = ["13800138000", "138-0013-8000", "138 0013 8000", "+86 138 0013 8000", "+8613800138000",
             "0086-13800138000", "8613800138000", "１３８００１３８０００", "(138) 0013-8000"]


@pytest.mark.parametrize("typed", SPELLINGS)
def test_m02_every_spelling_of_a_mobile_has_one_blind_index(typed: str) -> None:
    assert mobile_index("k" * 32, typed) == mobile_index("k" * 32, "13800138000") == blind_index("k" * 32,
                                                                                                "13800138000")
    assert mobile_index("k" * 32, typed) != mobile_index("j" * 32, typed)


def test_names_and_id_numbers_have_one_index_per_spelling() -> None:
    assert name_index("k" * 32, " 王小明 ") == name_index("k" * 32, "王小明")
    assert name_index("k" * 32, "Ｗａｎｇ  Li") == name_index("k" * 32, "Wang Li")
    assert id_card_index("k" * 32, "61010319900308123x") == id_card_index("k" * 32, "610103 19900308 123X")


def test_no_service_computes_a_blind_index_of_a_value_as_typed() -> None:
    """Services call mobile_index / name_index / id_card_index (which normalise), never blind_index itself."""
    offenders = []
    for f in (ROOT / "services").rglob("*.py"):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "vipcore.pii":
                if any(a.name == "blind_index" for a in node.names):
                    offenders.append(str(f.relative_to(ROOT)))
    assert offenders == []


def test_ciphertexts_name_their_key_and_old_ones_stay_readable() -> None:
    old_secret, new_secret = "o" * 32, "n" * 32
    legacy = encrypt(Keyring([("k0", old_secret)]), "13912345678").split(":", 1)[1]  # written before key ids
    ring = Keyring.parse(f"k2={new_secret},k1={'p' * 32}", legacy=old_secret)
    assert ring.current == "k2" and ring.ids == ["k2", "k1", "k0"]
    token = ring.encrypt("13912345678")
    assert token.startswith("k2:") and ring.decrypt(token) == "13912345678"
    assert ring.decrypt(legacy) == "13912345678"  # no key id: the legacy key k0
    assert not ring.is_current(legacy) and ring.reencrypt(legacy).startswith("k2:")
    assert ring.reencrypt(token) is token
    with pytest.raises(KeyError):  # a key this service does not hold
        Keyring.parse(f"k3={new_secret}").decrypt(Keyring.parse(f"k9={new_secret}").encrypt("x"))
    with pytest.raises(ValueError):
        Keyring.parse("k1=short")


def test_one_services_ciphertext_does_not_open_with_another_services_key() -> None:
    cfg = StackConfig(pg_host="h", pg_port=1, kafka_bootstrap="k")
    assert len(set(cfg.pii_keys.values())) == 3 and cfg.event_pii_keys not in cfg.pii_keys.values()
    rings = {s: Keyring.parse(spec) for s, spec in cfg.pii_keys.items()}
    token = rings["members"].encrypt("13912345678")
    for other in ("notify", "credit"):
        with pytest.raises(InvalidTag):
            rings[other].decrypt(token)  # same key id k1, another secret: authentication fails
    with pytest.raises(InvalidTag):
        decrypt(Keyring.parse(cfg.event_pii_keys.replace("e1=", "k1=")), token)
    envs = {s: cfg.env(s) for s in ("members", "notify", "credit", "gateway", "loyalty")}
    assert len({envs[s]["PII_KEYS"] for s in ("members", "notify", "credit")}) == 3
    assert "PII_KEYS" not in envs["gateway"] and "PII_KEYS" not in envs["loyalty"]
    assert "EVENT_PII_KEYS" not in envs["gateway"] and "EVENT_PII_KEYS" not in envs["loyalty"]


PERSONAL = re.compile(r"(^|_)(mobile|phone|name|id_card)$")
MASKED_OR_NOT_PERSONAL = {"display_name", "store_name", "to_tier_name", "reward_name"}
STORE_NAME = ("members.store.registered", "name")  # a shop's name, nobody's


def test_no_event_contract_carries_a_mobile_name_or_id_number_in_clear() -> None:
    """Personal fields of events are `*_enc` (sealed with the events key), masked (`display_name`) or hashes."""
    found = [(etype, f) for (etype, _), cls in known_contracts().items() for f in cls.model_fields
             if PERSONAL.search(f) and f not in MASKED_OR_NOT_PERSONAL and (etype, f) != STORE_NAME]
    assert found == []


def test_text_leaving_a_service_has_no_personal_data() -> None:
    text = ("call 138-0013-8000, +86 139 1234 5678 or １３７００００１１１１; ID 61010319900308123X\n"
            "DETAIL:  Key (full_name)=(王小明) already exists.\n[SQL: INSERT INTO t VALUES ($1)]\n"
            "[parameters: ('王小明', '13912345678')]\ninvalid input for query argument $2: '李秀英' (expected int)")
    out = redact(text)
    for secret in ("0013-8000", "1234 5678", "１３７", "19900308", "王小明", "李秀英", "13912345678"):
        assert secret not in out, secret
    assert "[SQL: INSERT INTO t VALUES ($1)]" in out and "138****8000" in out


def test_spans_lose_spaced_mobiles_and_id_numbers_too() -> None:
    mem = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(Scrubbed(mem)))
    with tp.get_tracer("t").start_as_current_span("lookup") as span:
        span.set_attribute("http.target", "/v1/member-files?mobile=138-0013-8000&name=王小明")
        span.set_attribute("db.statement.error", "DETAIL:  Key (id_card_index)=(61010319900308123X) exists")
        span.set_attribute("note", "called +86 139 1234 5678")
    (s,) = mem.get_finished_spans()
    dumped = json.dumps(dict(s.attributes or {}), ensure_ascii=False)
    for secret in ("0013-8000", "王小明", "61010319900308123X", "1234 5678"):
        assert secret not in dumped, secret


def test_poison_reasons_name_fields_not_values() -> None:
    from vipcore.contracts.members import MemberUpdated
    from vipcore.events import PoisonMessage, decode

    headers = [("ce_id", b"00000000-0000-0000-0000-000000000001"), ("ce_type", MemberUpdated.TYPE.encode()),
               ("ce_source", b"members"), ("ce_time", b"2026-11-22T00:00:00+00:00"),
               ("ce_dataschema", MemberUpdated.dataschema().encode())]
    body = json.dumps({"member_id": "M1", "store_id": "S1", "display_name": "王*明", "name_index": "x",
                       "mobile_index": "y", "mobile": "13912345678", "full_name": "王小明"}).encode()
    with pytest.raises(PoisonMessage) as e:
        decode(headers, body)
    assert "13912345678" not in str(e.value) and "王小明" not in str(e.value) and "mobile_enc" in str(e.value)


async def test_a_failed_statement_logs_and_dead_letters_no_bound_value(stack_config: StackConfig) -> None:
    """A real constraint violation on PostgreSQL: the error a consumer puts in `x-dlq-error`, and the log line
    with its traceback, name the constraint but not the name, mobile or ID number bound to the statement."""
    import asyncpg
    import sqlalchemy as sa
    from vipcore.db import make_engine
    from vipcore.logs import configure_logging, get_logger

    db = f"t{StackConfig(pg_host='h', pg_port=1, kafka_bootstrap='k').tag}_sqlerr"
    admin = await asyncpg.connect(stack_config.admin_dsn)
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    url = stack_config.admin_dsn.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{db}"
    engine = make_engine(url, 1)
    secrets = ["王小明", "13912345678", "61010319900308123X"]
    errors: list[BaseException] = []
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE people (full_name text UNIQUE, mobile text, id_card int)"))
            await conn.execute(sa.text("INSERT INTO people VALUES (:n, :m, 1)"), {"n": secrets[0], "m": secrets[1]})
        for stmt, params in (("INSERT INTO people VALUES (:n, :m, 2)", {"n": secrets[0], "m": secrets[1]}),
                             ("INSERT INTO people VALUES (:n, :m, :i)", {"n": "x", "m": "y", "i": secrets[2]})):
            try:
                async with engine.begin() as conn:
                    await conn.execute(sa.text(stmt), params)
            except Exception as e:  # noqa: BLE001
                errors.append(e)
    finally:
        await engine.dispose()
    assert len(errors) == 2
    reasons = [f"handler failed: {safe_error(e)}" for e in errors]  # what BatchConsumer puts in x-dlq-error
    assert "people_full_name_key" in reasons[0]
    buf = io.StringIO()
    configure_logging("test", "INFO")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(buf), cache_logger_on_first_use=False)
    log = get_logger("t")
    for e in errors:
        try:
            raise e
        except Exception:  # noqa: BLE001
            log.error("statement failed", error=safe_error(e), exc_info=True)
    logged = buf.getvalue()
    assert "statement failed" in logged and "Traceback" in logged
    for s in secrets:
        assert all(s not in r for r in reasons), s
        assert s not in logged, s
