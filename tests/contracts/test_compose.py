"""docker-compose.yml and the Dockerfile agree with the services' settings classes.

No Docker needed: the files are parsed and each service's compose environment is validated against
its pydantic-settings class, so a renamed, misspelt or newly required setting fails here instead of
at `docker compose up`. Every failure names the compose service and the variable.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from devstack.testing import settings_class
from pydantic import SecretStr, ValidationError

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = ("gateway", "members", "loyalty", "credit", "notify")

# Compose interpolation: ${VAR}, ${VAR:?msg}, ${VAR?msg}, ${VAR:-default}, ${VAR-default}, and the
# unbraced $VAR; `$$` is a literal dollar sign.
_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[?+-])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)")
_REQUIRED_SECRET = re.compile(r"\$\{[A-Za-z_]\w*:\?[^}]+\}")


@functools.cache
def compose() -> dict[str, Any]:
    assert COMPOSE.is_file(), f"{COMPOSE.name} is missing"
    data = yaml.safe_load(COMPOSE.read_text())  # resolves the file's anchors and `<<` merges
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), \
        f"{COMPOSE.name} has no `services` mapping"
    return data


def service(name: str) -> dict[str, Any]:
    svc = compose()["services"].get(name)
    assert isinstance(svc, dict), f"{name}: no such service in {COMPOSE.name}"
    return svc


def environment(name: str) -> dict[str, Any]:
    """The service's `environment`, as a mapping whichever of the two compose forms it uses."""
    env = service(name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def command(name: str) -> list[str]:
    cmd = service(name).get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def built_from_project_dockerfile(name: str) -> bool:
    build = service(name).get("build")
    if build is None:
        return False
    if isinstance(build, str):
        build = {"context": build}
    context = ROOT / build.get("context", ".")
    return (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE.resolve()


def services_with_image(prefix: str) -> list[str]:
    return [n for n, s in compose()["services"].items()
            if str(s.get("image", "")).startswith(prefix)]


def interpolate(name: str, var: str, value: str) -> str:
    """What compose would pass, with a dummy secret (16+ chars) for each required ${VAR:?...}."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        ref, op = m.group("name") or m.group("bare"), m.group("op")
        if op in (":?", "?"):
            return f"dummy-{ref.lower()}-0123456789abcdef"
        if op in (":-", "-"):
            return m.group("arg")
        pytest.fail(f"{name}: {var} uses {m.group(0)!r}, which compose turns into an empty string "
                    f"when {ref} is unset; write ${{{ref}:?message}} or ${{{ref}:-default}}")

    return _INTERPOLATION.sub(sub, value)


def env_names(cls: type) -> dict[str, str]:
    """Environment variable name (upper case) -> settings field name."""
    prefix = cls.model_config.get("env_prefix") or ""  # type: ignore[attr-defined]
    return {(prefix + field).upper(): field for field in cls.model_fields}  # type: ignore[attr-defined]


def only_from_arguments(cls: type) -> type:
    """`cls` reading only its constructor arguments: no os.environ or .env of the test run."""

    class Isolated(cls):  # type: ignore[valid-type, misc]
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, *_, **__):  # type: ignore[no-untyped-def]
            return (init_settings,)

    return Isolated


# ---------------------------------------------------------------------------------------------
# (a) the five services: the project image, one `python -m <service>` each
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SERVICES)
def test_service_runs_from_project_image(name: str) -> None:
    assert built_from_project_dockerfile(name), \
        f"{name}: `build` must use the project Dockerfile ({DOCKERFILE.name} at the repo root)"
    assert command(name)[:3] == ["python", "-m", name], \
        f"{name}: command must run `python -m {name}`, got {command(name)!r}"


# ---------------------------------------------------------------------------------------------
# (b) environment <-> settings class, (c) the environment validates
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SERVICES)
def test_environment_matches_settings_fields(name: str) -> None:
    cls = settings_class(name)
    env = environment(name)
    names = env_names(cls)
    for var, value in env.items():
        assert var.upper() in names, \
            f"{name}: environment variable {var} is not a field of {cls.__name__} (typo or stale?)"
        assert value is not None and not isinstance(value, bool), \
            f"{name}: environment variable {var} needs an explicit string value, got {value!r}"
    given = {v.upper() for v in env}
    for var, field in names.items():
        if cls.model_fields[field].is_required():
            assert var in given, (f"{name}: required setting {var} ({cls.__name__}.{field}) "
                                  "is missing from its environment")


@pytest.mark.parametrize("name", SERVICES)
def test_settings_validate_with_compose_environment(name: str) -> None:
    cls = settings_class(name)
    names = env_names(cls)
    kwargs = {names[var.upper()]: interpolate(name, var, str(value))
              for var, value in environment(name).items() if var.upper() in names}
    problems = ""
    try:
        only_from_arguments(cls)(**kwargs)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])).upper()}: {err['msg']}"
                             for err in e.errors())
    assert not problems, f"{name}: {cls.__name__} rejects the compose environment: {problems}"


@pytest.mark.parametrize("name", SERVICES)
def test_secrets_come_from_the_callers_environment(name: str) -> None:
    """Keys and tokens are never written in the repo: each is a required ${VAR:?...} reference."""
    cls = settings_class(name)
    names = env_names(cls)
    for var, value in environment(name).items():
        field = names.get(var.upper())
        if field and SecretStr in (cls.model_fields[field].annotation,
                                   *getattr(cls.model_fields[field].annotation, "__args__", ())):
            assert isinstance(value, str) and _REQUIRED_SECRET.fullmatch(value), \
                f"{name}: secret {var} must be `${{{var}:?message}}`, not a value in the file"


@pytest.mark.parametrize("name", SERVICES)
def test_service_listens_in_the_container_and_has_a_healthcheck(name: str) -> None:
    env = environment(name)
    assert env.get("HTTP_HOST") == "0.0.0.0", f"{name}: HTTP_HOST must be 0.0.0.0 in a container"
    check = service(name).get("healthcheck") or {}
    test = check.get("test")
    test = " ".join(map(str, test)) if isinstance(test, list) else str(test or "")
    assert "/healthz" in test, f"{name}: healthcheck must call /healthz, got {test!r}"
    assert str(env.get("HTTP_PORT")) in test or "HTTP_PORT" in test, \
        f"{name}: healthcheck does not use the service's HTTP_PORT ({env.get('HTTP_PORT')})"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_its_own_database(name: str) -> None:
    url = urlsplit(interpolate(name, "DATABASE_URL", str(environment(name).get("DATABASE_URL", ""))))
    postgres = services_with_image("postgres:")
    assert url.scheme == "postgresql+asyncpg", f"{name}: DATABASE_URL must be postgresql+asyncpg://..."
    assert url.hostname in postgres, f"{name}: DATABASE_URL host {url.hostname!r} is not {postgres}"
    assert url.path == f"/{name}", f"{name}: DATABASE_URL must name its own database /{name}"
    initdb = (ROOT / "deploy" / "compose" / "initdb.sql").read_text()
    assert re.search(rf"CREATE DATABASE\s+\"?{name}\"?\s+OWNER\s+\"?{name}\"?\s*;", initdb, re.I), \
        f"{name}: deploy/compose/initdb.sql does not create database {name} owned by role {name}"
    assert re.search(rf"CREATE ROLE\s+{name}\s+LOGIN\s+NOSUPERUSER\b.*PASSWORD", initdb, re.I), \
        f"{name}: deploy/compose/initdb.sql does not create the least-privileged login role {name}"
    assert url.username == name and url.password, f"{name}: DATABASE_URL must log in as role {name} with its password"


def test_loyalty_runs_several_instances() -> None:
    svc = service("loyalty")
    replicas = (svc.get("deploy") or {}).get("replicas", 1)
    assert replicas >= 2, f"loyalty: deploy.replicas should be 2 or more, got {replicas}"
    assert not svc.get("ports"), "loyalty: replicas cannot share a fixed host port; drop `ports`"


@pytest.mark.parametrize("name", SERVICES)
def test_instance_count_is_the_number_of_replicas(name: str) -> None:
    """In-memory rate limits take 1/INSTANCE_COUNT each (vipcore.limits.RateLimiter.share_of): it must say how many
    replicas really run, or the chain-wide rate is multiplied (too few) or divided (too many)."""
    replicas = (service(name).get("deploy") or {}).get("replicas", 1)
    assert int(environment(name).get("INSTANCE_COUNT", 1)) == replicas, \
        f"{name}: INSTANCE_COUNT must equal deploy.replicas ({replicas})"


# ---------------------------------------------------------------------------------------------
# (d) Kafka: apache/kafka 4.x, KRaft, no auto-create; topics made by the project before services
# ---------------------------------------------------------------------------------------------

def test_kafka_is_apache_4_without_auto_create() -> None:
    brokers = services_with_image("apache/kafka:")
    assert len(brokers) == 1, f"expected one apache/kafka service, found {brokers}"
    kafka = service(brokers[0])
    tag = str(kafka["image"]).split(":", 1)[1]
    assert tag.split(".")[0] == "4", \
        f"{brokers[0]}: image must be apache/kafka 4.x, got {kafka['image']}"
    env = environment(brokers[0])
    assert str(env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).lower() == "false", \
        f"{brokers[0]}: KAFKA_AUTO_CREATE_TOPICS_ENABLE must be \"false\" (project makes topics)"
    roles = set(str(env.get("KAFKA_PROCESS_ROLES", "")).split(","))
    assert roles == {"broker", "controller"}, \
        f"{brokers[0]}: KAFKA_PROCESS_ROLES must be broker,controller (one KRaft node), got {roles}"


def test_topics_are_created_before_the_services_start() -> None:
    topics_cmd = ["python", "-m", "devstack", "topics"]
    inits = [n for n in compose()["services"] if command(n)[:4] == topics_cmd]
    assert len(inits) == 1, f"expected one service running {' '.join(topics_cmd)}, found {inits}"
    init = inits[0]
    assert built_from_project_dockerfile(init), f"{init}: must be built from the project Dockerfile"
    bootstrap = environment(init).get("KAFKA_BOOTSTRAP_SERVERS")
    for name in SERVICES:
        assert environment(name).get("KAFKA_BOOTSTRAP_SERVERS") == bootstrap, \
            f"{name}: KAFKA_BOOTSTRAP_SERVERS differs from {init}'s ({bootstrap})"
        dep = (service(name).get("depends_on") or {})
        condition = dep.get(init, {}).get("condition") if isinstance(dep, dict) else None
        assert condition == "service_completed_successfully", \
            f"{name}: depends_on {init} must have condition service_completed_successfully"


# ---------------------------------------------------------------------------------------------
# (e) traces: every service -> OTel collector -> Jaeger
# ---------------------------------------------------------------------------------------------

def test_traces_flow_through_the_collector_to_jaeger() -> None:
    collectors = services_with_image("otel/opentelemetry-collector")
    jaegers = services_with_image("jaegertracing/")
    assert len(collectors) == 1, f"expected one OpenTelemetry collector service, found {collectors}"
    assert len(jaegers) == 1, f"expected one Jaeger service, found {jaegers}"
    collector, jaeger = collectors[0], jaegers[0]

    for name in SERVICES:
        endpoint = environment(name).get("OTEL_EXPORTER_OTLP_ENDPOINT")
        url = urlsplit(str(endpoint or ""))
        assert url.hostname == collector and url.port == 4318, (
            f"{name}: OTEL_EXPORTER_OTLP_ENDPOINT must be http://{collector}:4318 (OTLP/HTTP), "
            f"got {endpoint!r}")

    # The collector's config is mounted from the repo and forwards traces to Jaeger's OTLP port.
    mounts = [str(v).split(":")[0] for v in service(collector).get("volumes", [])]
    configs = [ROOT / m for m in mounts if m.endswith((".yaml", ".yml"))]
    assert configs and configs[0].is_file(), f"{collector}: no config file mounted from the repo"
    cfg = yaml.safe_load(configs[0].read_text())
    assert "http" in cfg["receivers"]["otlp"]["protocols"], \
        f"{collector}: OTLP/HTTP receiver missing"
    pipeline = cfg["service"]["pipelines"]["traces"]
    to_jaeger = [e for e in pipeline["exporters"]
                 if str(cfg["exporters"][e].get("endpoint", "")).startswith(f"{jaeger}:4317")]
    assert to_jaeger, f"{collector}: the traces pipeline does not export to {jaeger}:4317"
    assert str(environment(jaeger).get("COLLECTOR_OTLP_ENABLED")).lower() == "true", \
        f"{jaeger}: COLLECTOR_OTLP_ENABLED must be \"true\""


# ---------------------------------------------------------------------------------------------
# (f) the image
# ---------------------------------------------------------------------------------------------

def test_dockerfile_installs_the_locked_dependencies() -> None:
    assert DOCKERFILE.is_file(), "Dockerfile is missing at the repo root"
    text = DOCKERFILE.read_text()
    # Instructions only: comments dropped, continuation lines joined.
    lines = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines()
                                          if not ln.lstrip().startswith("#"))).splitlines()
    runs = [ln for ln in lines if ln.startswith("RUN ")]
    assert any(re.search(r"\buv sync\b.*--frozen", r) for r in runs), \
        "Dockerfile: dependencies must be installed with `uv sync --frozen` (exactly uv.lock)"
    assert any(ln.startswith("FROM python:3.11") for ln in lines), \
        "Dockerfile: base must be python:3.11"
    copied = " ".join(ln for ln in lines if ln.startswith("COPY "))
    for path in ("uv.lock", "shared/", "services/", "deploy/devstack/", "programs/"):
        assert path in copied, f"Dockerfile: {path} is not copied into the image"
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "Dockerfile: the services must not run as root"


def test_identity_no_static_admin_token_and_the_gateway_calls_with_its_own_key() -> None:
    """Issue 11 item 4: the static admin token is off, the gateway signs its own service tokens and the services it
    calls know its public key (docs/architecture.md "Identity")."""
    for name in SERVICES:
        env = environment(name)
        assert str(env.get("ADMIN_TOKEN_ENABLED", "false")).lower() == "false", f"{name}: ADMIN_TOKEN_ENABLED"
        assert "ADMIN_TOKEN" not in env, f"{name}: no static admin token in normal operation"
    assert _REQUIRED_SECRET.fullmatch(str(environment("gateway")["SERVICE_PRIVATE_KEY"]))
    for callee in ("loyalty", "credit"):
        assert str(environment(callee).get("SERVICE_KEYS", "")).startswith("gateway="), \
            f"{callee}: SERVICE_KEYS must name the gateway's public key"

