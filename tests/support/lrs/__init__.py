"""A learning record store for the suite: Ralph (`ralph-malph` from PyPI) on its file backend,
installed on first use into a virtualenv of its own (its server pins versions the project's
environment must not follow), from the hashed requirements in `requirements.txt`."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import ServerMissing, _stop, _wait_for_port, free_port

HERE = Path(__file__).parent
UV_HINT = "the LRS tests install Ralph with uv: install it with `pip install uv` (the README's setup does)"
USERNAME, PASSWORD = "lms", "lrs-secret-for-tests"


def _environment() -> Path:
    """The LRS's virtualenv, made once per requirements file and shared by later runs."""
    uv = shutil.which("uv")
    if uv is None:
        raise ServerMissing(UV_HINT)
    requirements = HERE / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lms-tests" / "lrs"
    target = cache / f"ralph-{digest}"
    done = target / ".installed"  # written last: a run cut short leaves no half install in use
    if done.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f"{target.name}.lock").open("w") as lock:  # one installer at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
            subprocess.run([uv, "venv", "-q", "-p", version, str(target)], check=True, timeout=300)
            env = os.environ | {"VIRTUAL_ENV": str(target)}
            subprocess.run(
                [uv, "pip", "sync", "-q", "--require-hashes", str(requirements)], check=True, env=env, timeout=900
            )
            done.touch()
    return target


@dataclass
class RalphLrs:
    """Ralph's LRS on a file of its own; `statements()` reads back what it stored."""

    port: int
    root: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI"

    @classmethod
    def start(cls, root: Path) -> RalphLrs:
        venv = _environment()
        root.mkdir(parents=True, exist_ok=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RALPH_")},
            "RALPH_APP_DIR": str(root),
            "RALPH_AUTH_FILE": str(root / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(root / "data"),
            "RALPH_LRS_PARTIAL_SUCCESS_DEFAULT": "false",
        }
        (root / "data").mkdir(exist_ok=True)
        subprocess.run(
            [
                str(venv / "bin" / "ralph"),
                "auth",
                "-u",
                USERNAME,
                "-p",
                PASSWORD,
                "-s",
                "all",
                "-A",
                USERNAME,
                "https://lms.test",
                "-w",
            ],
            check=True,
            env=env,
            capture_output=True,
            timeout=120,
        )
        port = free_port()
        process = subprocess.Popen(
            [str(venv / "bin" / "python"), str(HERE / "serve.py"), "127.0.0.1", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(root / "server.log").open("wb"),
        )
        _wait_for_port(port, process, "the LRS (ralph)", timeout=60)
        return cls(port=port, root=root, process=process)

    def statements(self, **query: str) -> list[dict[str, Any]]:
        """Every statement stored (following `more` links), newest first."""
        found: list[dict[str, Any]] = []
        headers = {"X-Experience-API-Version": "1.0.3"}
        with httpx.Client(auth=(USERNAME, PASSWORD), headers=headers, timeout=10, trust_env=False) as client:
            page = client.get(f"{self.url}/statements", params={"limit": "500", **query}).raise_for_status().json()
            found.extend(page["statements"])
            while more := page.get("more"):
                page = client.get(f"http://127.0.0.1:{self.port}{more}").raise_for_status().json()
                found.extend(page["statements"])
        return found

    def settings(self) -> dict[str, str]:
        return {"LMS_XAPI_LRS_URL": self.url, "LMS_XAPI_LRS_USERNAME": USERNAME, "LMS_XAPI_LRS_PASSWORD": PASSWORD}

    def stop(self) -> None:
        _stop(self.process)
        self.process = None
