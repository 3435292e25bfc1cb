"""Node tools from the npm registry, installed once from a folder's `package.json` and lock file
(`npm ci`) into a cache keyed by the lock file, and reused by later runs."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from tests.support.servers import ServerMissing

NPM_HINT = "these checks need Node.js and npm: install them with `apt-get install -y nodejs npm`"


def npm_packages(folder: Path) -> Path:
    """The `node_modules` of the packages `folder` locks, installed on first use."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ServerMissing(NPM_HINT)
    locked = (folder / "package-lock.json").read_bytes() + (folder / "package.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lms-tests" / "npm"
    target = cache / f"{folder.name}-{hashlib.sha256(locked).hexdigest()[:16]}"
    modules = target / "node_modules"
    if modules.is_dir():
        return modules
    cache.mkdir(parents=True, exist_ok=True)
    # One installer at a time: the suite's workers, and other runs sharing the cache.
    with (cache / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not modules.is_dir():
            _install(npm, folder, target)
    return modules


def npm_tools(folder: Path) -> Path:
    """The `node_modules/.bin` of the packages `folder` locks, installed on first use."""
    return npm_packages(folder) / ".bin"


def _install(npm: str, folder: Path, target: Path) -> None:
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(folder / name, staging / name)
    subprocess.run(
        [npm, "ci", "--silent", "--no-audit", "--no-fund"], cwd=staging, check=True, capture_output=True, timeout=900
    )
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # whole, or not there: a run cut short leaves no half install
