"""Session-wide servers: a throwaway PostgreSQL cluster and Redis, or the ones named by
LMS_TEST_DATABASE_URL / LMS_TEST_REDIS_URL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.databases import PostgresDatabases, SqliteDatabases
from tests.support.lrs import RalphLrs
from tests.support.servers import LocalStripeServer, PostgresServer, RedisServer, ServerMissing


def _server(variable: str, start: Callable[[], PostgresServer | RedisServer]) -> Iterator[str]:
    """The server named by `variable`, or a throwaway one for this session."""
    if url := os.environ.get(variable):
        yield url
        return
    try:
        server = start()
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from _server("LMS_TEST_DATABASE_URL", PostgresServer.start)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    yield from _server("LMS_TEST_REDIS_URL", RedisServer.start)


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripeServer]:
    """A Stripe-compatible server for this session (localstripe, from PyPI)."""
    try:
        server = LocalStripeServer.start()
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLrs]:
    """A learning record store for this session (Ralph, from PyPI, on its file backend)."""
    try:
        server = RalphLrs.start(tmp_path_factory.mktemp("lrs"))
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_databases(postgres_url: str) -> PostgresDatabases:
    return PostgresDatabases(postgres_url)


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite"))


# ----- no process outlives the run -----
# Every process the suite starts inherits this mark in its environment (the e2e helpers keep
# LMS_TEST_* variables), so one that outlives the run is found even after it was re-parented.
SESSION_MARK = "LMS_TEST_SESSION"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(SESSION_MARK, uuid.uuid4().hex)  # xdist's workers inherit the controller's
    if not hasattr(config, "workerinput") and Path("/proc").is_dir():
        # Should this run be killed outright (SIGKILL skips every cleanup), a watcher outside it
        # kills what it started. The watcher itself carries no mark.
        mark = f"{SESSION_MARK}={os.environ[SESSION_MARK]}"
        unmarked = {k: v for k, v in os.environ.items() if k != SESSION_MARK}
        subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "support" / "reaper.py"), str(os.getpid()), mark],
            env=unmarked,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


def _marked_processes() -> dict[int, str]:
    """Living processes carrying this run's mark, but for this one: pid → command line."""
    mark = f"{SESSION_MARK}={os.environ[SESSION_MARK]}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if state != "Z":
            found[int(entry.name)] = command
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a process it started is still alive once it is over (the controller checks,
    after xdist's workers have had time to exit), and stop what is left."""
    if hasattr(session.config, "workerinput") or not Path("/proc").is_dir():
        return
    deadline = time.monotonic() + 15
    while (left := _marked_processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not left:
        return
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    listing = "\n".join(f"  {pid}: {command}" for pid, command in sorted(left.items()))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = f"processes started by the tests were still running after the run (now killed):\n{listing}"
    if reporter is not None:
        reporter.write_line(message, red=True)
    else:
        print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
