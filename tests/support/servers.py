"""Throwaway PostgreSQL and Redis servers for the test suite, started from the system binaries.

A missing binary is an error with the install hint, never a skip.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PG_HINT = "PostgreSQL server binaries not found: install them with `apt-get install -y postgresql`"
REDIS_HINT = "redis-server not found: install it with `apt-get install -y redis-server`"


class ServerMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _terminate(process: subprocess.Popen[bytes] | None, root: Path) -> None:
    _stop(process)
    shutil.rmtree(root, ignore_errors=True)


def postgres_bindir() -> Path:
    """Find initdb/postgres: PATH, then `pg_config --bindir`, then Debian's versioned folders."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).parent
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out:
            candidates.append(Path(out))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    raise ServerMissing(PG_HINT)


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    run_as: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls) -> PostgresServer:
        bindir = postgres_bindir()
        root = Path(tempfile.mkdtemp(prefix="lms-pg-"))
        data = root / "data"
        data.mkdir()
        run_as: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: hand the cluster to the postgres system user.
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise ServerMissing(PG_HINT + " (it creates the `postgres` user)") from None
            shutil.chown(root, "postgres")
            shutil.chown(data, "postgres")
            run_as = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        server = cls(bindir=bindir, root=root, port=free_port(), run_as=run_as)
        server._launch()
        return server

    def _launch(self) -> None:
        self.process = subprocess.Popen(
            [
                *self.run_as,
                str(self.bindir / "postgres"),
                "-D", str(self.root / "data"),
                "-p", str(self.port),
                "-k", str(self.root),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(self.port, self.process, "postgres")
        self._wait_ready()

    def pause(self) -> None:
        """Stop the server as a restart does (fast shutdown: clients are disconnected), keeping
        its data and port for `resume`."""
        if self.process is not None:
            # To the postmaster itself: the process started may be `runuser`, which does not pass it on.
            postmaster = int((self.root / "data" / "postmaster.pid").read_text().split()[0])
            os.kill(postmaster, signal.SIGINT)
            self.process.wait(timeout=30)
            self.process = None

    def resume(self) -> None:
        self._launch()

    def _wait_ready(self) -> None:
        import asyncio

        import asyncpg

        async def probe() -> None:
            conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            await conn.close()

        deadline = time.monotonic() + 30
        while True:
            try:
                # A thread of its own: this may be called while an event loop runs.
                with ThreadPoolExecutor(1) as pool:
                    pool.submit(asyncio.run, probe()).result()
                return
            except (OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise RuntimeError("postgres is not accepting connections") from None
                time.sleep(0.1)

    def stop(self) -> None:
        _terminate(self.process, self.root)


@dataclass
class RedisServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    binary: str = "redis-server"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls) -> RedisServer:
        binary = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
        )
        if binary is None:
            raise ServerMissing(REDIS_HINT)
        root = Path(tempfile.mkdtemp(prefix="lms-redis-"))
        port = free_port()
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(port, process, "redis-server")
        return cls(root=root, port=port, process=process, binary=binary)

    def kill(self) -> None:
        """SIGKILL, as an operator's outage would; `resume` starts it again on the same port."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and nothing is answered, as on a stalled host; `thaw` undoes it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def resume(self) -> None:
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.binary, *arguments, "--dir", str(self.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for_port(self.port, self.process, "redis-server")

    def stop(self) -> None:
        _terminate(self.process, self.root)


async def flush(redis_url: str) -> None:
    """Empty a test Redis before a test uses it."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.flushall()
    finally:
        await client.aclose()


def s3_environment(endpoint: str) -> dict[str, str]:
    """The standard AWS variables that point the S3 client at a test server (moto)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll `url` until it answers 200; fail with the process's output if it exits first."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            out = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}: {out}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


AZURITE_HINT = "Azurite needs Node.js and npm: install them with `apt-get install -y nodejs npm`"
AZURITE_VERSION = "3"
AZURITE_ACCOUNT = "devstoreaccount1"
# The emulator's published development key (not a secret).
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass
class AzuriteServer:
    """Azure Blob Storage's emulator, installed from the npm registry on first use (cached)."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls) -> AzuriteServer:
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise ServerMissing(AZURITE_HINT)
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lms-tests" / "azurite"
        binary = cache / "node_modules" / ".bin" / "azurite-blob"
        if not binary.exists():
            cache.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    npm,
                    "install",
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(cache),
                    f"azurite@{AZURITE_VERSION}",
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
        root = Path(tempfile.mkdtemp(prefix="lms-azurite-"))
        port = free_port()
        process = subprocess.Popen(
            [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(root),
             "--silent", "--skipApiVersionCheck"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(port, process, "azurite")
        return cls(root=root, port=port, process=process)

    def stop(self) -> None:
        _terminate(self.process, self.root)


LOCALSTRIPE_HINT = "localstripe is missing: `uv sync` installs it (a dev dependency of the project)"


@dataclass
class LocalStripeServer:
    """A Stripe-compatible server (localstripe, from PyPI): PaymentIntents, refunds, and webhooks
    signed as Stripe signs them. It keeps its state in memory (`--from-scratch`: nothing read back
    from its dump file)."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls) -> LocalStripeServer:
        if importlib.util.find_spec("localstripe") is None:
            raise ServerMissing(LOCALSTRIPE_HINT)
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(port, process, "localstripe")
        return cls(port=port, process=process)

    def stop(self) -> None:
        _stop(self.process)
        self.process = None
