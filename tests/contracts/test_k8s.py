"""deploy/k8s (the production multi-node layout) agrees with the services' settings classes and with itself.

No cluster needed: the files kustomization.yaml lists are parsed and each Deployment's environment — literal
values, ConfigMaps it reads whole (`envFrom`) or by key, Secrets by key — is validated against the service's
pydantic-settings class, as tests/contracts/test_compose.py does for docker-compose.yml. Ports must agree between
HTTP_PORT, the container, the probes and the Service; every service runs several pods (and says so in
INSTANCE_COUNT); Kafka is a cluster (replication factor 3) whose topics have a partition for every consumer pod.
Every failure names the file's object and the variable.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from devstack.testing import settings_class
from pydantic import SecretStr, ValidationError
from vipcore.topics import CONSUMED, all_topics

from .test_compose import DOCKERFILE, env_names, only_from_arguments

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SERVICES = ("gateway", "members", "loyalty", "credit", "notify")  # ServiceSettings: database, Kafka, INSTANCE_COUNT
ALL = (*SERVICES, "console")
SECRET = object()  # an environment value that comes from a Secret


@functools.cache
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> object, from the files kustomization.yaml lists (which must be every YAML file here)."""
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = list(kust.get("resources") or [])
    on_disk = sorted(p.name for p in K8S.glob("*.y*ml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk, f"kustomization.yaml lists {listed}, the folder has {on_disk}"
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for name in listed:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc is None:
                continue
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in out, f"{name}: {key} is defined twice"
            out[key] = doc
    return out


def get(kind: str, name: str) -> dict[str, Any]:
    obj = objects().get((kind, name))
    assert obj is not None, f"deploy/k8s has no {kind} {name!r}"
    return obj


def container(name: str) -> dict[str, Any]:
    spec = get("Deployment", name)["spec"]["template"]["spec"]
    found = [c for c in spec["containers"] if c["name"] == name]
    assert len(found) == 1, f"Deployment {name}: no container named {name}"
    return found[0]


def environment(name: str) -> dict[str, Any]:
    """What the container's process sees: name -> literal string, or SECRET. Later entries win, as in Kubernetes
    (`env` over `envFrom`, later `envFrom` sources over earlier ones)."""
    c = container(name)
    env: dict[str, Any] = {}
    for source in c.get("envFrom") or []:
        assert "secretRef" not in source, \
            f"{name}: envFrom secretRef hides which variables it sets; name each with secretKeyRef"
        data = get("ConfigMap", source["configMapRef"]["name"]).get("data") or {}
        env.update(data)
    for item in c.get("env") or []:
        var = item["name"]
        if "value" in item:
            env[var] = item["value"]
            continue
        ref = item["valueFrom"]
        if "secretKeyRef" in ref:
            env[var] = SECRET
        else:
            cm = ref["configMapKeyRef"]
            data = get("ConfigMap", cm["name"]).get("data") or {}
            assert cm["key"] in data, f"{name}: {var} reads key {cm['key']} that ConfigMap {cm['name']} lacks"
            env[var] = data[cm["key"]]
    return env


def secret_refs(name: str) -> dict[str, tuple[str, str]]:
    """Variable -> (Secret name, key) of the container's secretKeyRef entries."""
    return {i["name"]: (i["valueFrom"]["secretKeyRef"]["name"], i["valueFrom"]["secretKeyRef"]["key"])
            for i in container(name).get("env") or [] if "secretKeyRef" in (i.get("valueFrom") or {})}


def dummy(name: str, var: str) -> str:
    if var == "DATABASE_URL":
        return f"postgresql+asyncpg://{name}:pw@{name}-db.example:5432/{name}"
    return f"dummy-{var.lower()}-0123456789abcdef"


def replicas(name: str) -> int:
    return int(get("Deployment", name)["spec"].get("replicas", 1))


# ---------------------------------------------------------------------------------------------------------------
# (a) environment <-> settings class
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_environment_matches_settings_fields(name: str) -> None:
    cls = settings_class(name)
    names = env_names(cls)
    env = environment(name)
    for var, value in env.items():
        assert var.upper() in names, f"{name}: variable {var} is not a field of {cls.__name__} (typo or stale?)"
        assert value is SECRET or isinstance(value, str), \
            f"{name}: {var} must be a string in its ConfigMap (quote numbers and booleans), got {value!r}"
    for var, field in names.items():
        if cls.model_fields[field].is_required():
            assert var in env, f"{name}: required setting {var} ({cls.__name__}.{field}) is missing"


@pytest.mark.parametrize("name", ALL)
def test_settings_validate_with_the_manifest_environment(name: str) -> None:
    cls = settings_class(name)
    names = env_names(cls)
    kwargs = {names[var]: dummy(name, var) if value is SECRET else value for var, value in environment(name).items()}
    try:
        only_from_arguments(cls)(**kwargs)
    except ValidationError as e:
        pytest.fail(f"{name}: {cls.__name__} rejects the manifest's environment: " + "; ".join(
            f"{'.'.join(map(str, err['loc'])).upper()}: {err['msg']}" for err in e.errors()))


@pytest.mark.parametrize("name", ALL)
def test_secrets_come_only_from_secrets(name: str) -> None:
    """Every SecretStr setting, and DATABASE_URL (it holds the password), is read from a Secret: never a value in
    a file of the repository."""
    cls = settings_class(name)
    names = env_names(cls)

    def secret(var: str) -> bool:
        ann = cls.model_fields[names[var]].annotation if var in names else None
        return var == "DATABASE_URL" or SecretStr in (ann, *getattr(ann, "__args__", ()))

    for var, value in environment(name).items():
        if secret(var):
            assert value is SECRET, f"{name}: {var} must come from a Secret (secretKeyRef), not a ConfigMap or value"
    for source in container(name).get("envFrom") or []:  # not even a value that `env` overrides
        cm = source["configMapRef"]["name"]
        leaked = [var for var in get("ConfigMap", cm).get("data") or {} if secret(var)]
        assert not leaked, f"{name}: ConfigMap {cm} holds {leaked}: secrets belong in a Secret"
    assert not [k for k in objects() if k[0] == "Secret"], "deploy/k8s must not define Secrets (values in the repo)"


def test_the_readme_creates_exactly_the_secret_keys_the_manifests_read() -> None:
    text = (K8S / "README.md").read_text()
    created: set[tuple[str, str]] = set()
    for command in text.split("kubectl create secret generic ")[1:]:
        command = command.split("\n\n", 1)[0]  # up to the blank line after the command
        secret = command.split()[0]
        created |= {(secret, key) for key in re.findall(r"--from-literal=([A-Z_]+)=", command)}
    read = {ref for name in ALL for ref in secret_refs(name).values()}
    assert read - created == set(), f"deploy/k8s/README.md does not create {sorted(read - created)}"
    assert created - read == set(), f"deploy/k8s/README.md creates {sorted(created - read)}, which nothing reads"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_its_own_database_secret(name: str) -> None:
    secret, key = secret_refs(name)["DATABASE_URL"]
    assert (secret, key) == (name, "DATABASE_URL"), \
        f"{name}: DATABASE_URL must come from its own Secret {name} (one server or database per service)"
    assert not [o for (kind, _), o in objects().items() if kind == "StatefulSet"], \
        "PostgreSQL and Kafka run outside deploy/k8s (docs/scaling.md)"


# ---------------------------------------------------------------------------------------------------------------
# (b) the pods: image, command, replicas, ports, probes, resources
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_deployment_runs_the_service_from_the_project_image_on_several_pods(name: str) -> None:
    dep = get("Deployment", name)
    c = container(name)
    assert c["command"][:3] == ["python", "-m", name], f"{name}: command must run python -m {name}"
    images = {container(n)["image"].rsplit(":", 1)[0] for n in ALL}
    assert len(images) == 1, f"every service runs from the one project image ({DOCKERFILE.name}), got {images}"
    assert replicas(name) >= 2, f"{name}: replicas must be 2 or more (no single pod per service), got {replicas(name)}"
    labels = dep["spec"]["template"]["metadata"]["labels"]
    selector = dep["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items(), f"{name}: the selector {selector} does not match the pods' labels"
    assert dep["spec"]["template"]["spec"]["securityContext"].get("runAsNonRoot") is True, f"{name}: runAsNonRoot"


@pytest.mark.parametrize("name", SERVICES)
def test_instance_count_is_the_number_of_replicas(name: str) -> None:
    """In-memory rate limits take 1/INSTANCE_COUNT each (vipcore.limits.RateLimiter.share_of)."""
    assert int(environment(name).get("INSTANCE_COUNT", 1)) == replicas(name), \
        f"{name}: INSTANCE_COUNT must equal the Deployment's replicas ({replicas(name)})"


def container_port(name: str, port: int | str) -> int:
    """A probe's or Service's port (number or the container port's name) as the container's port number."""
    ports = container(name).get("ports") or []
    if isinstance(port, str):
        found = [p["containerPort"] for p in ports if p.get("name") == port]
        assert found, f"{name}: no container port named {port!r}"
        return int(found[0])
    assert port in [p["containerPort"] for p in ports], f"{name}: port {port} is not a container port"
    return port


@pytest.mark.parametrize("name", ALL)
def test_ports_probes_and_service_agree(name: str) -> None:
    env = environment(name)
    assert env.get("HTTP_HOST") == "0.0.0.0", f"{name}: HTTP_HOST must be 0.0.0.0 (probes and Service reach the pod)"
    http_port = int(env.get("HTTP_PORT") or settings_class(name).model_fields["http_port"].default)
    c = container(name)
    assert [p["containerPort"] for p in c["ports"]] == [http_port], f"{name}: container port must be HTTP_PORT"
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get_ = (c.get(probe) or {}).get("httpGet") or {}
        assert get_.get("path") == path, f"{name}: {probe} must ask {path}"
        assert container_port(name, get_["port"]) == http_port, f"{name}: {probe} asks another port than HTTP_PORT"
    if "startupProbe" in c:
        assert container_port(name, c["startupProbe"]["httpGet"]["port"]) == http_port
    svc = get("Service", name)
    pod_labels = get("Deployment", name)["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items(), f"Service {name} selects no pod of {name}"
    [sp] = svc["spec"]["ports"]
    assert sp["port"] == http_port and container_port(name, sp["targetPort"]) == http_port, \
        f"Service {name}: port and targetPort must be HTTP_PORT ({http_port})"


@pytest.mark.parametrize("name", ALL)
def test_urls_of_other_services_name_their_service_and_port(name: str) -> None:
    for var, value in environment(name).items():
        target = var[:-4].lower()
        if not var.endswith("_URL") or target not in ALL:
            continue
        url = urlsplit(str(value))
        port = int(environment(target).get("HTTP_PORT"))
        assert (url.hostname, url.port) == (target, port), \
            f"{name}: {var}={value} must be http://{target}:{port} (the {target} Service)"
        get("Service", target)


@pytest.mark.parametrize("name", ALL)
def test_resources_have_requests_and_limits(name: str) -> None:
    res = container(name).get("resources") or {}
    for part in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(res.get(part) or {}), f"{name}: resources.{part} needs cpu and memory"


# ---------------------------------------------------------------------------------------------------------------
# (c) Kafka: an external cluster of three brokers or more; topics with replication 3 and enough partitions
# ---------------------------------------------------------------------------------------------------------------

def topics_job() -> tuple[dict[str, Any], list[str]]:
    jobs = [o for (kind, _), o in objects().items() if kind == "Job"]
    found = [(j, j["spec"]["template"]["spec"]["containers"][0]) for j in jobs]
    found = [(j, c) for j, c in found if c["command"][:4] == ["python", "-m", "devstack", "topics"]]
    assert len(found) == 1, "expected one Job running python -m devstack topics"
    return found[0][0], [str(a) for a in found[0][1]["command"]]


def option(cmd: list[str], flag: str) -> int:
    assert flag in cmd, f"the topics Job must pass {flag}"
    return int(cmd[cmd.index(flag) + 1])


def test_every_service_reaches_a_kafka_cluster_of_three_brokers() -> None:
    job, _ = topics_job()
    [ref] = job["spec"]["template"]["spec"]["containers"][0]["env"]
    bootstrap = get("ConfigMap", ref["valueFrom"]["configMapKeyRef"]["name"])["data"][ref["name"]]
    assert len({h.rsplit(":", 1)[0] for h in bootstrap.split(",")}) >= 3, \
        f"KAFKA_BOOTSTRAP_SERVERS should list the cluster's brokers (3 or more), got {bootstrap}"
    for name in SERVICES:
        assert environment(name).get("KAFKA_BOOTSTRAP_SERVERS") == bootstrap, \
            f"{name}: KAFKA_BOOTSTRAP_SERVERS differs from the topics Job's"
    assert not [k for k in objects() if k[1].startswith(("kafka-", "postgres")) and k[0] != "Job"], \
        "Kafka and PostgreSQL run outside deploy/k8s"


def test_topics_have_replication_3_and_a_partition_for_every_consumer_pod() -> None:
    _, cmd = topics_job()
    assert option(cmd, "--replication-factor") == 3, "topics need replication factor 3 (min.insync.replicas 2)"
    most = max(replicas(n) for n in SERVICES)  # every service consumes at least one topic
    partitions = {name: p for name, p, _ in all_topics(min_partitions=option(cmd, "--min-partitions"))}
    for t in CONSUMED:
        assert partitions[t.name] >= most, (f"{t.name}: {partitions[t.name]} partitions for up to {most} pods of a "
                                            "consumer group: raise --min-partitions (before the topics exist)")

