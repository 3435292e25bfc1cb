"""Operating real processes: versions, migrations run twice at once and reverted, the worker's
graceful stop and its own endpoint, JSON logs in production, traces to a collector, servers whose
workers die with them, and configuration mistakes that stop start-up with one line."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from domain.shared.build import version
from tests.e2e.conftest import lms, lms_env, production_env, serving, start_api, start_worker, stop, wait_for
from tests.support.databases import PostgresDatabases
from tests.support.servers import RedisServer, free_port, wait_until_up
from tests.support.smtp import smtp_sink

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"

PASSWORD = "password-1"


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_version(tmp_path: Path) -> None:
    result = lms("--version", env=lms_env(tmp_path))
    assert (result.returncode, result.stdout.strip()) == (0, f"lms {version()}")


def test_workers_of_lms_run_die_with_it(tmp_path: Path) -> None:
    """SIGKILL to `lms run` alone (not its group): its granian worker must not serve on."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lms.cli", "run", "--port", str(port)],
        env=lms_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so that the clean-up below can reach anything left
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/health", process)
        workers = children_of(process.pid)
        assert workers
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in workers), timeout=10, what="the workers to die")
    finally:
        stop(process)


def test_configuration_mistakes_stop_start_up_with_one_line(tmp_path: Path) -> None:
    env = lms_env(tmp_path)
    for variable, value, message in (
        ("LMS_STORAGE_URL", "ftp://x", "LMS_STORAGE_URL must start with one of file://"),
        ("LMS_TRUSTED_PROXIES", "everyone", "LMS_TRUSTED_PROXIES must list IP addresses or CIDRs"),
    ):
        result = lms("run", env={**env, variable: value})
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line, no traceback
        assert message in result.stderr
    production = {**env, "LMS_ENVIRONMENT": "production", "LMS_TRUSTED_HOSTS": "localhost"}
    refused = lms("demo", "seed", env=production)
    assert refused.returncode == 2
    assert "lms demo seed refuses to run in production" in refused.stderr
    many = lms(
        "run", "--workers", "2", env={**env, "LMS_REDIS_URL": "redis://127.0.0.1:1/0", "LMS_STORAGE_URL": "memory://"}
    )
    assert many.returncode == 2
    assert "memory:// cannot serve more than one worker" in many.stderr


def test_misspelled_variables_are_named(tmp_path: Path) -> None:
    env = lms_env(tmp_path, LMS_LOG_LEVEL="WARNING", LMS_RATE_LIMT_ENABLED="false")
    log = tmp_path / "run.log"
    proc, _ = start_api(env, log=log)
    stop(proc)
    hint = "LMS_RATE_LIMT_ENABLED is not a known setting and is ignored; did you mean LMS_RATE_LIMIT_ENABLED?"
    assert hint in log.read_text()


def test_concurrent_upgrades_apply_each_revision_once(tmp_path: Path, postgres_databases: PostgresDatabases) -> None:
    """Two `lms db upgrade` at once on an empty database (two pods' migration jobs): both succeed,
    one applies every revision and the other finds nothing left to do."""
    database = asyncio.run(postgres_databases.create_empty())
    env = lms_env(tmp_path, LMS_DATABASE_URL=database)
    command = [sys.executable, "-m", "lms.cli", "db", "upgrade"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0], results
    applied = sorted(out.count("applied ") for _, out, _ in results)
    assert applied[0] == 0 and applied[1] >= 8, results
    assert any("nothing to apply" in out for _, out, _ in results)


def test_downgrade_then_upgrade(tmp_path: Path) -> None:
    env = lms_env(tmp_path)
    assert lms("db", "upgrade", env=env).returncode == 0
    down = lms("db", "downgrade", "0007", env=env)
    assert down.returncode == 0, down.stderr
    later = sorted(path.name[:4] for path in MIGRATIONS.glob("0*.py") if path.name[:4] > "0007")
    assert later, "the test needs migrations after 0007"
    reverted = [line.split()[1] for line in down.stdout.splitlines() if line.startswith("reverted ")]
    assert reverted == later[::-1], down.stdout
    up = lms("db", "upgrade", env=env)
    applied = [line.split()[1] for line in up.stdout.splitlines() if line.startswith("applied ")]
    assert applied == later, up.stdout
    assert "database schema is current" in up.stdout
    unknown = lms("db", "downgrade", "nonsense", env=env)
    assert unknown.returncode == 1
    assert "migration failed" in unknown.stderr


def test_a_stopping_worker_finishes_its_sends_and_none_runs_twice(
    tmp_path: Path, postgres_databases: PostgresDatabases, own_redis: RedisServer
) -> None:
    """SIGTERM while the worker is in the middle of sending: it takes no more jobs, waits for the
    sends (held at the SMTP server for a while), then exits; another worker finds nothing to redo."""
    database = asyncio.run(postgres_databases.create())
    with smtp_sink() as sink:
        env = lms_env(
            tmp_path,
            LMS_DATABASE_URL=database,
            LMS_REDIS_URL=own_redis.url,
            LMS_QUEUE_URL=own_redis.url,
            **sink.settings(),
        )
        worker, _ = start_worker(env)
        try:
            with serving(env) as base:
                sink.hold()
                r = httpx.post(
                    f"{base}/api/v1/auth/register",
                    json={"email": "graceful@example.com", "full_name": "Grace", "password": PASSWORD},
                )
                assert r.status_code == 201
                wait_for(lambda: sink.arrived >= 2, what="both emails at the server")
                worker.send_signal(signal.SIGTERM)
                time.sleep(2)  # longer than a stop without grace takes
                assert worker.poll() is None  # still finishing its sends
                sink.release()
                assert worker.wait(timeout=20) == 0
                second, _ = start_worker(env)
                try:
                    time.sleep(3)  # sweeps and dequeues: nothing left to run again
                finally:
                    stop(second)
        finally:
            stop(worker)
        subjects = Counter(
            str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"]) for raw in sink.messages
        )
    assert subjects == Counter({"Welcome to LMS": 1, "Verify your email address": 1})


def test_the_workers_own_endpoint(
    tmp_path: Path, postgres_databases: PostgresDatabases, own_redis: RedisServer
) -> None:
    database = asyncio.run(postgres_databases.create())
    env = lms_env(tmp_path, LMS_DATABASE_URL=database, LMS_REDIS_URL=own_redis.url, LMS_QUEUE_URL=own_redis.url)
    worker, probes = start_worker(env)
    try:
        with serving(env) as base:
            r = httpx.post(
                f"{base}/api/v1/auth/register",
                json={"email": "counted@example.com", "full_name": "Counted", "password": PASSWORD},
            )
            assert r.status_code == 201
            wait_for(lambda: len(list((tmp_path / "mail").glob("*.eml"))) >= 2, what="the emails")
        assert httpx.get(f"{probes}/health").json() == {"status": "ok"}
        ready = httpx.get(f"{probes}/ready")
        assert (ready.status_code, ready.json()["database"], ready.json()["redis"]) == (200, "up", "up")
        text = httpx.get(f"{probes}/metrics").text
        assert 'lms_emails_total{outcome="sent"} 2.0' in text
        assert 'lms_jobs_total{job="send_email",outcome="complete"} 2.0' in text
        assert 'lms_queue_jobs{state="queued"} 0.0' in text
        assert 'lms_build_info{python="' in text and 'role="worker"' in text
        assert httpx.get(f"{probes}/nothing").status_code == 404
        with httpx.Client() as client:
            assert client.post(f"{probes}/health").status_code == 405
        host, port = probes.removeprefix("http://").split(":")
        for garbage in (b"NOT HTTP\r\n\r\n", b"GET /health SPDY/3\r\n\r\n", b"GET " + b"x" * 9000 + b"\r\n\r\n"):
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                raw.sendall(garbage)
                answer = raw.recv(4096)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 400 "), answer  # refused, or dropped when too long
        own_redis.freeze()
        try:
            started = time.monotonic()
            ready = httpx.get(f"{probes}/ready", timeout=10)
            assert (ready.status_code, ready.json()["redis"]) == (503, "down")
            assert time.monotonic() - started < 3
        finally:
            own_redis.thaw()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        stop(worker)


def test_production_logs_are_json_lines(tmp_path: Path, postgres_databases: PostgresDatabases, redis_url: str) -> None:
    database = asyncio.run(postgres_databases.create_empty())
    env = production_env(tmp_path, database, redis_url, LMS_LOG_LEVEL="INFO", LMS_RATE_LIMIT_ENABLED="false")
    upgraded = lms("db", "upgrade", env=env)
    assert upgraded.returncode == 0
    steps = [json.loads(line) for line in upgraded.stdout.splitlines()]  # the migration Job's lines too
    assert steps[0]["message"].startswith("applied 0001") and steps[-1]["message"] == "database schema is current"
    logs = {"api": tmp_path / "api.log", "worker": tmp_path / "worker.log"}
    api, base = start_api(env, log=logs["api"])
    try:
        worker, _ = start_worker(env, log=logs["worker"])
        try:
            httpx.get(f"{base}/api/v1/courses")
        finally:
            stop(worker)
    finally:
        stop(api)
    for name, expected in (("api", {"_granian", "lms.access"}), ("worker", {"lms.worker"})):
        entries = [json.loads(line) for line in logs[name].read_text().splitlines() if line.strip()]
        assert {"time", "level", "logger", "message"} <= set(entries[0])  # every line above is one JSON object
        assert expected <= {entry["logger"] for entry in entries}, entries
        if name == "api":
            access = next(entry for entry in entries if entry["logger"] == "lms.access")
            assert (access["route"], access["status"], access["client_ip"]) == ("/api/v1/courses", 200, "127.0.0.1")


class _Collector(BaseHTTPRequestHandler):
    """An OpenTelemetry collector's OTLP/HTTP endpoint that keeps what it is sent."""

    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return None


def test_traces_go_to_the_collector_named_by_the_standard_variable(tmp_path: Path) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    handler = type("Collector", (_Collector,), {"received": []})
    collector = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    env = lms_env(
        tmp_path,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_address[1]}",
        OTEL_BSP_SCHEDULE_DELAY="200",  # export batches every 0.2 s
        LOGFIRE_BASE_URL="http://127.0.0.1:9",  # were anything sent to Logfire, it would fail here
    )
    try:
        with serving(env) as base:
            assert httpx.get(f"{base}/api/v1/courses").status_code == 200
            wait_for(lambda: any(path == "/v1/traces" for path, _ in handler.received), timeout=20, what="a trace")
    finally:
        collector.shutdown()
    names = set()
    for path, body in handler.received:
        if path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            names |= {span.name for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans}
    assert "GET /api/v1/courses" in names, names
