"""`deploy/`: the Dockerfile passes hadolint, the Kubernetes manifests validate against the API's
schemas (kubernetes-validate), and the compose file and examples keep the rules operators rely on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from lms.settings import KNOWN_VARIABLES

DEPLOY = Path(__file__).parent.parent.parent / "deploy"
BIN = Path(sys.executable).parent


def test_the_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [BIN / "hadolint", "--config", DEPLOY / ".hadolint.yaml", DEPLOY / "Dockerfile"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = (DEPLOY / "Dockerfile").read_text()
    assert "USER 10001:10001" in text
    assert re.search(r'HEALTHCHECK .*CMD \["lms", "healthcheck"\]', text)
    assert "org.opencontainers.image.version" in text
    assert re.search(r"uv==\d+\.\d+\.\d+", text)


def test_the_kubernetes_manifests_validate() -> None:
    manifests = sorted((DEPLOY / "k8s").glob("*.yaml"))
    done = subprocess.run(
        [BIN / "kubernetes-validate", "--strict", *manifests], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = {doc["kind"] for path in manifests for doc in yaml.safe_load_all(path.read_text()) if doc}
    assert {"Deployment", "Job", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "Secret"} <= kinds


def documents() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / "k8s" / "lms.yaml").read_text()) if doc]


def test_every_pod_runs_locked_down_with_probes_and_limits() -> None:
    for doc in documents():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
        mounts = set()
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True and security["capabilities"]["drop"] == ["ALL"]
            assert "limits" in container["resources"], container["name"]
            assert not container["image"].endswith(":latest")
            mounts |= {m["mountPath"] for m in container["volumeMounts"]}
            if doc["kind"] == "Deployment":
                assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(container), container["name"]
        assert {"/tmp", "/app/var"} <= mounts  # noqa: S108 (the writable mounts of a read-only root)
    named = {d["metadata"]["name"]: d for d in documents() if d["kind"] == "Deployment"}
    api, worker = named["lms-api"], named["lms-worker"]
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["timeoutSeconds"] >= 2  # above the probe's own 1.5 s budget
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 30  # the worker's grace
    job = next(d for d in documents() if d["kind"] == "Job")
    assert job["metadata"]["name"].endswith(container["image"].rsplit(":", 1)[1].replace(".", "-"))


def test_the_compose_file() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    built = [name for name, service in services.items() if "build" in service]
    assert built == ["migrate"]  # one build, run by the three
    image = services["migrate"]["image"]
    for name, service in services.items():
        assert "restart" in service and service["logging"]["options"]["max-size"], name
        assert ":" in service["image"] and not service["image"].endswith(":latest"), name
        if name in ("api", "worker"):
            assert service["image"] == image
    assert services["migrate"]["healthcheck"] == {"disable": True}
    assert services["worker"]["healthcheck"]["test"][:3] == ["CMD", "lms", "healthcheck"]
    assert "9000:9000" in services["objects"]["ports"]


def test_the_examples_name_only_known_settings() -> None:
    """A misspelled variable in an example would be copied by every operator."""
    texts = [*(DEPLOY / "k8s").glob("*.yaml"), *DEPLOY.glob("*.env.example")]
    for path in texts:
        for name in re.findall(r"\b(LMS_[A-Z0-9_]+)\b", path.read_text()):
            assert name in KNOWN_VARIABLES, (path.name, name)
