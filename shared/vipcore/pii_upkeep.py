"""Key rotation for personal data at rest: re-encrypt every ciphertext under the current key, in batches.

Each service lists its encrypted columns (`Sealed`) and gets a command, `python -m <service>.pii rotate`:

1. put the new key first in the service's `PII_KEYS` (`k2=<new>,k1=<old>`) and restart the service: new writes
   use k2, every old row still decrypts under k1;
2. run the rotation: rows whose ciphertext does not carry the current key id are re-encrypted, a batch per
   transaction, with a progress bar. Each row is updated only if it still holds the value read
   (compare-and-set), so the service keeps running and writing meanwhile. Interrupted, it is simply run
   again: it takes only rows not yet under the current key (resumable by construction);
3. when it reports nothing left, drop the old key from `PII_KEYS`.

A column may also hold values written in clear before encryption (`clear`, e.g. coupon buyers' phones): they are
sealed by the same pass (and their blind index filled), so the rotation is also the data migration."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .pii import Keyring

Progress = Callable[[str, int, int], None]  # (target name, rows done, rows to do)


@dataclass(frozen=True)
class Sealed:
    """Encrypted values of one table: plain columns, or one key inside a JSON column (`json_key`)."""

    table: sa.Table
    columns: tuple[str, ...]
    json_key: str | None = None  # columns[0] is a JSON object; its `json_key` holds the ciphertext
    clear: re.Pattern[str] | None = None  # values matching this were stored in clear (sealed on rotation)
    index: tuple[str, Callable[[str], str]] | None = None  # (column, f(plaintext)) kept in step when sealing

    @property
    def name(self) -> str:
        return self.table.name + "." + (f"{self.columns[0]}->{self.json_key}" if self.json_key
                                        else ",".join(self.columns))

    def _exprs(self) -> list[Any]:
        if self.json_key:
            return [self.table.c[self.columns[0]][self.json_key].astext]
        return [self.table.c[c] for c in self.columns]

    def stale(self, keys: Keyring) -> Any:
        """Rows holding a value not under the current key (older key, no key id, or clear)."""
        prefix = keys.current + ":"
        return sa.or_(*[sa.and_(e.is_not(None), sa.not_(e.startswith(prefix, autoescape=True)))
                        for e in self._exprs()])


def _open(t: Sealed, keys: Keyring, v: str) -> str:
    if t.clear is not None and t.clear.fullmatch(v):
        return v
    return keys.decrypt(v)


async def count_stale(engine: AsyncEngine, keys: Keyring, targets: Sequence[Sealed]) -> dict[str, int]:
    async with engine.connect() as conn:
        return {t.name: int(await conn.scalar(sa.select(sa.func.count()).select_from(t.table)
                                              .where(t.stale(keys))) or 0) for t in targets}


async def rotate(engine: AsyncEngine, keys: Keyring, targets: Sequence[Sealed], *, batch: int = 500,
                 progress: Progress | None = None) -> dict[str, int]:
    """Re-encrypt every stale value under `keys.current`; returns rows rewritten per target."""
    todo = await count_stale(engine, keys, targets)
    done: dict[str, int] = {}
    for t in targets:
        pk = list(t.table.primary_key.columns)[0]
        n, after = 0, None
        if progress:
            progress(t.name, 0, todo[t.name])
        while True:
            async with engine.begin() as conn:
                cols = [t.table.c[c] for c in t.columns]
                q = sa.select(pk, *cols).where(t.stale(keys)).order_by(pk).limit(batch)
                if after is not None:
                    q = q.where(pk > after)
                rows = (await conn.execute(q)).all()
                if not rows:
                    break
                for r in rows:
                    await _reseal(conn, t, keys, pk, r)
                after = rows[-1][0]
            n += len(rows)
            if progress:
                progress(t.name, n, max(todo[t.name], n))
        done[t.name] = n
    return done


async def _reseal(conn: Any, t: Sealed, keys: Keyring, pk: sa.Column[Any], r: Any) -> None:
    values: dict[str, Any] = {}
    cond = [pk == r[0]]
    plain_for_index: str | None = None
    for i, name in enumerate(t.columns, start=1):
        old = r[i]
        col = t.table.c[name]
        if old is None:
            continue
        if t.json_key:
            token = old.get(t.json_key) if isinstance(old, dict) else None
            if not token or keys.is_current(token):
                continue
            values[name] = {**old, t.json_key: keys.encrypt(_open(t, keys, token))}
            cond.append(sa.cast(col, sa.Text) == sa.cast(sa.literal(old, type_=col.type), sa.Text))
            continue
        if not (t.clear is not None and t.clear.fullmatch(old)) and keys.is_current(old):
            continue
        plain = _open(t, keys, old)
        plain_for_index = plain_for_index or plain
        values[name] = keys.encrypt(plain)
        cond.append(col == old)  # compare-and-set: a row the service rewrote meanwhile is left as it is
    if t.index is not None and plain_for_index is not None:
        values[t.index[0]] = t.index[1](plain_for_index)
    if values:
        await conn.execute(t.table.update().where(*cond).values(**values))


class Rotator:
    """The rotation run in the background when a service starts (one instance at a time: advisory lock), so a new
    key put first in PII_KEYS, or values left in clear by an older version, are dealt with without an operator;
    `python -m <service>.pii rotate` does the same by hand with a progress bar."""

    def __init__(self, engine: AsyncEngine, keys: Keyring, targets: Sequence[Sealed], service: str) -> None:
        self.engine, self.keys, self.targets, self.service = engine, keys, targets, service
        self.done = asyncio.Event()
        self.result: dict[str, int] = {}

    async def run(self) -> None:
        from .logs import get_logger

        try:
            if not any((await count_stale(self.engine, self.keys, self.targets)).values()):
                return
            async with self.engine.connect() as lock:
                await lock.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": ROTATION_LOCK})
                try:
                    self.result = await rotate(self.engine, self.keys, self.targets)
                finally:
                    await lock.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ROTATION_LOCK})
            get_logger(__name__).info("personal data re-encrypted", service=self.service, key=self.keys.current,
                                      **{k.replace(".", "_"): v for k, v in self.result.items()})
        except Exception as e:  # noqa: BLE001 - the command can finish it; the service keeps serving
            get_logger(__name__).warning("re-encryption stopped; run the pii rotate command",
                                         service=self.service, error=type(e).__name__)
        finally:
            self.done.set()

    def stop(self) -> None:
        pass


ROTATION_LOCK = 0x76697070_69697274  # "vippiirt"


def run_command(service: str, make: Callable[[], tuple[str, Keyring, Sequence[Sealed]]],
                extra: dict[str, Callable[[AsyncEngine, argparse.Namespace], Any]] | None = None,
                argv: Sequence[str] | None = None) -> int:
    """`python -m <service>.pii {status,rotate}`: what is not under the current key yet, and the rotation."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .db import make_engine

    p = argparse.ArgumentParser(prog=f"python -m {service}.pii",
                                description=f"Personal data of the {service} service: key rotation")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status", help="count the values not yet under the current key")
    r = sub.add_parser("rotate", help="re-encrypt every value under the current key (first in PII_KEYS)")
    r.add_argument("--batch", type=int, default=500, help="rows per transaction")
    for name in extra or {}:
        sub.add_parser(name, help=f"{name} (see the service's README)")
    a = p.parse_args(argv)
    url, keys, targets = make()

    async def main() -> int:
        engine = make_engine(url, 2)
        try:
            if a.cmd == "status":
                left = await count_stale(engine, keys, targets)
                for name, n in left.items():
                    print(f"{name}: {n} not under {keys.current}")
                return 0 if not any(left.values()) else 1
            if a.cmd == "rotate":
                with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeRemainingColumn()) as bar:
                    tasks: dict[str, Any] = {}

                    def show(name: str, n: int, total: int) -> None:
                        if name not in tasks:
                            tasks[name] = bar.add_task(name, total=total)
                        bar.update(tasks[name], completed=n, total=total)

                    done = await rotate(engine, keys, targets, batch=a.batch, progress=show)
                print(f"re-encrypted under {keys.current}: " + ", ".join(f"{k} {v}" for k, v in done.items()))
                return 0
            assert extra is not None
            await extra[a.cmd](engine, a)
            return 0
        finally:
            await engine.dispose()

    return asyncio.run(main())
