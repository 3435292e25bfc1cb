"""SDK users: the served OpenAPI document passes openapi-spec-validator and Redocly's recommended
rules, and clients generated from it (openapi-python-client, @hey-api/openapi-ts) type-check a short
journey strictly (mypy --strict, tsc --strict, no casts) and run it against a live server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from tests.e2e.conftest import lms, lms_env, serving
from tests.support.npm import npm_tools
from tests.support.servers import ServerMissing

SDK = Path(__file__).parent.parent / "sdk"
ADMIN, PASSWORD = "sdk-admin@example.com", "sdk-admin-pass-2026"


def run(*command: str | Path, cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_generated_clients_type_check_and_run_the_journey(tmp_path: Path) -> None:
    try:
        tools = npm_tools(SDK)
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    env = lms_env(tmp_path / "server")
    created = lms("users", "create-admin", "--email", ADMIN, "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    with serving(env) as base:
        document = httpx.get(f"{base}/schema/openapi.json").json()
        spec = tmp_path / "openapi.json"
        spec.write_text(json.dumps(document))
        validate(document)
        run(tools / "redocly", "lint", "--config", SDK / "redocly.yaml", spec, cwd=tmp_path)

        python = tmp_path / "python"
        python.mkdir()
        run(
            Path(sys.executable).parent / "openapi-python-client", "generate", "--path", spec,
            "--output-path", python / "lms_client", "--config", SDK / "openapi-python-client.yaml", "--meta", "none",
            cwd=python,
        )  # fmt: skip
        shutil.copy(SDK / "journey.py", python)
        run(sys.executable, "-m", "mypy", "--strict", "--no-incremental", "journey.py", cwd=python)
        assert "journey complete" in run(sys.executable, "journey.py", base, ADMIN, PASSWORD, cwd=python)

        typescript = tmp_path / "typescript"
        typescript.mkdir()
        run(tools / "openapi-ts", "--input", spec, "--output", typescript / "client", cwd=typescript)
        for name in ("journey.ts", "tsconfig.json"):
            shutil.copy(SDK / name, typescript)
        types = tools.parent / "@types"  # the cached install's, beside the tools
        run(tools / "tsc", "--project", typescript / "tsconfig.json", "--typeRoots", types, cwd=typescript)
        assert "journey complete" in run(
            "node", typescript / "out" / "journey.js", base, ADMIN, PASSWORD, cwd=typescript
        )
