"""Operator commands on the staff register, run where the members service runs (its settings, its database):

    python -m members staff create-admin --staff-id HQ-ADMIN --name "HQ admin" [--store-id HQ --region-code 000
                                         --program generic] < password-file

Creates (or resets) an HQ admin account (O-02 role hq_admin) through members' own service layer: the staff row,
the scrypt password, and `members.staff.changed` through the outbox (the running service's relay publishes it).
The HQ admin then logs in (`POST /v1/auth/login`) and administers through their staff token — there is no static
admin token in normal operation (docs/architecture.md "Identity"). The password is read from standard input (first
line) or, with `--password-env NAME`, from that environment variable; at least 10 characters."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from vipcore.auth import Role
from vipcore.db import make_engine, upgrade_async
from vipcore.migrations import target_metadata

from .adapters.tables import stores
from .config import MembersSettings
from .entrypoints.schemas import StaffIn, StoreIn
from .service.registry import Registry
from .service.validity import CardValidity, read_documents

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def _password(a: argparse.Namespace) -> str:
    if a.password_env:
        value = os.environ.get(a.password_env, "")
    elif sys.stdin.isatty():
        value = getpass.getpass(f"password for {a.staff_id}: ")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if len(value) < 10:
        raise SystemExit("the password must have at least 10 characters")
    return value


async def create_admin(settings: MembersSettings, a: argparse.Namespace, password: str) -> str:
    await upgrade_async(settings.sync_database_url, MIGRATIONS, target_metadata("members"))
    engine = make_engine(settings.database_url, 2)
    try:
        validity = CardValidity(engine, read_documents(settings.programs_dir), settings.card_validity_years,
                                clock=lambda: datetime.now(UTC))
        reg = Registry(engine, settings.pii_index_key.get_secret_value(), settings.pii_keyring(),
                       settings.kafka_topic_prefix, lambda: None, validity, event_keys=settings.event_keyring())
        async with engine.connect() as conn:
            known = (await conn.execute(sa.select(stores.c.store_id).where(stores.c.store_id == a.store_id))).first()
        if known is None:
            await reg.add_store(StoreIn.model_validate({"store_id": a.store_id, "name": a.store_name,
                                                        "region_code": a.region_code, "program": a.program}))
        await reg.add_staff([StaffIn.model_validate({
            "staff_id": a.staff_id, "store_id": a.store_id, "name": a.name, "position": "HQ admin",
            "role": Role.HQ_ADMIN.value, "password": password})])
        return "created" if known is None else "created or updated"
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m members staff", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create-admin", help="create or reset an HQ admin account (role hq_admin)")
    c.add_argument("--staff-id", required=True)
    c.add_argument("--name", default="HQ admin")
    c.add_argument("--store-id", default="HQ", help="the head office 'store' the account belongs to (made if new)")
    c.add_argument("--store-name", default="Head office")
    c.add_argument("--region-code", default="000")
    c.add_argument("--program", default="generic")
    c.add_argument("--password-env", help="read the password from this environment variable (else stdin)")
    a = ap.parse_args(argv)
    settings = MembersSettings()  # type: ignore[call-arg]
    password = _password(a)
    how = asyncio.run(create_admin(settings, a, password))
    print(f"HQ admin {a.staff_id} ({how}); log in with POST /v1/auth/login", file=sys.stderr)
    return 0
