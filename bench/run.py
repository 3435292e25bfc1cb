"""Benchmark: k6 against `lms run` (2 workers, PostgreSQL + Redis) and, in the same run, a bare
Litestar hello-world on granian as the ceiling. Prints requests/s, p95 and p99 per endpoint and
the ratio to the ceiling.

    uv run just bench                 # 10 s per endpoint, 32 virtual users
    uv run just bench --duration 30s --vus 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lms.cli import BACKPRESSURE
from tests.support.databases import PostgresDatabases
from tests.support.servers import PostgresServer, RedisServer, free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PASSWORD = "bench-password-1"
ADMIN = "bench-admin@example.com"
CATALOG_SIZE = 30  # published courses; a default page shows 20 of them


def admin_headers(api: str) -> dict[str, str]:
    r = httpx.post(f"{api}/api/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['tokens']['access_token']}"}


def seed_catalog(api: str, headers: dict[str, str]) -> str:
    """Published courses with realistic text, as an admin; returns one course id."""
    course_id = ""
    for n in range(CATALOG_SIZE):
        body = {
            "title": f"Course {n}: building reliable backend services",
            "description": "Queues, caches, databases and the failure modes between them. " * 4,
            "category": "Backend",
            "difficulty_level": ("beginner", "intermediate", "advanced")[n % 3],
            "thumbnail_url": f"https://cdn.example.com/courses/{n}.png",
            "estimated_duration_minutes": 60 + n,
        }
        r = httpx.post(f"{api}/api/v1/courses", json=body, headers=headers)
        r.raise_for_status()
        course_id = r.json()["id"]
        httpx.post(f"{api}/api/v1/courses/{course_id}/publish", headers=headers).raise_for_status()
    return course_id


LEARNERS = 32  # one student per virtual user: nobody reports progress 32 times at once
LESSONS = 10


@dataclass
class Learners:
    tokens: list[str]
    progress: list[dict[str, object]]  # per student: the progress paths to rotate over
    my_courses: list[dict[str, object]]
    take: list[dict[str, object]]  # per student: the quiz's take view
    quiz_id: str
    answers: str  # a submission that answers every question
    certificate: str  # a certificate number, for the public verification row
    course_id: str  # the course they are enrolled in


def seed_learners(api: str, admin_headers: dict[str, str]) -> Learners:
    """A published course of LESSONS lessons, the last with a published quiz of three questions
    (unlimited attempts), and LEARNERS enrolled students."""
    course = httpx.post(f"{api}/api/v1/courses", json={"title": "Benchmark learning"}, headers=admin_headers).json()
    lessons = [
        httpx.post(
            f"{api}/api/v1/courses/{course['id']}/lessons",
            json={"title": f"Lesson {n}", "lesson_type": "video", "video_url": f"https://videos.example.com/{n}"},
            headers=admin_headers,
        ).json()["id"]
        for n in range(LESSONS)
    ]
    httpx.post(f"{api}/api/v1/courses/{course['id']}/publish", headers=admin_headers).raise_for_status()
    quizzes = f"{api}/api/v1/courses/{course['id']}/quizzes"
    quiz = httpx.post(quizzes, json={"lesson_id": lessons[-1], "title": "Benchmark quiz"}, headers=admin_headers).json()
    questions = [
        {
            "question_text": "Which status means conflict?",
            "question_type": "multiple_choice",
            "options": [{"option_text": "404"}, {"option_text": "409", "is_correct": True}, {"option_text": "500"}],
        },
        {"question_text": "HTTP is stateless", "question_type": "true_false", "correct_answer": "true"},
        {"question_text": "Name the verb that replaces", "question_type": "short_answer", "correct_answer": "PUT"},
    ]
    made = [httpx.post(f"{quizzes}/{quiz['id']}/questions", json=q, headers=admin_headers).json() for q in questions]
    httpx.post(f"{quizzes}/{quiz['id']}/publish", headers=admin_headers).raise_for_status()
    correct = next(o["option_id"] for o in made[0]["options"] if o["is_correct"])
    answers = json.dumps(
        {
            "answers": [
                {"question_id": made[0]["id"], "selected_option_id": correct},
                {"question_id": made[1]["id"], "answer_text": "true"},
                {"question_id": made[2]["id"], "answer_text": "put"},
            ]
        }
    )
    progress, mine, tokens = [], [], []
    for n in range(LEARNERS):
        r = httpx.post(
            f"{api}/api/v1/auth/register",
            json={"email": f"learner{n}@example.com", "full_name": f"Learner {n}", "password": PASSWORD},
        )
        r.raise_for_status()
        token = r.json()["tokens"]["access_token"]
        r = httpx.post(
            f"{api}/api/v1/enrollments", json={"course_id": course["id"]}, headers={"Authorization": f"Bearer {token}"}
        )
        r.raise_for_status()
        eid = r.json()["id"]
        progress.append(
            {"token": token, "paths": [f"/api/v1/enrollments/{eid}/lessons/{lid}/progress" for lid in lessons]}
        )
        mine.append({"token": token, "paths": ["/api/v1/enrollments/my-courses"]})
        tokens.append(token)
    take = [{"token": t, "paths": [f"/api/v1/quizzes/{quiz['id']}/attempts/start"]} for t in tokens]
    certificate = certificate_of(api, admin_headers, tokens[0])
    return Learners(tokens, progress, mine, take, quiz["id"], answers, certificate, course["id"])


def certificate_of(api: str, admin_headers: dict[str, str], token: str) -> str:
    """A one-lesson course the student completes: its certificate's number."""
    student = {"Authorization": f"Bearer {token}"}
    course = httpx.post(f"{api}/api/v1/courses", json={"title": "Benchmark certificate"}, headers=admin_headers).json()
    lesson = httpx.post(
        f"{api}/api/v1/courses/{course['id']}/lessons",
        json={"title": "Only", "lesson_type": "text"},
        headers=admin_headers,
    ).json()
    httpx.post(f"{api}/api/v1/courses/{course['id']}/publish", headers=admin_headers).raise_for_status()
    eid = httpx.post(f"{api}/api/v1/enrollments", json={"course_id": course["id"]}, headers=student).json()["id"]
    httpx.post(f"{api}/api/v1/enrollments/{eid}/lessons/{lesson['id']}/complete", headers=student).raise_for_status()
    mine = httpx.get(f"{api}/api/v1/certificates/my-certificates", headers=student).json()
    return str(mine["items"][0]["certificate_number"])


def k6_files(base: str, token: str, *, duration: str) -> Result:
    """10 MB upload-then-download pairs from 4 VUs; the row's requests/s counts both."""
    summary = run_k6("files.js", {"BASE": base, "TOKEN": token}, vus=4, duration=duration)
    data = json.loads(Path(summary).read_text())
    moved = data["metrics"]["data_sent"]["rate"] + data["metrics"]["data_received"]["rate"]
    result = _result("POST upload + GET download, 10 MB (4 VUs; both counted)", summary)
    print(f"files: {moved / 1e6:.0f} MB/s moved through the API", flush=True)
    return result


def latency(url: str, token: str = "", n: int = 50) -> tuple[float, float, float]:
    """One request at a time: median, p95 and max in ms (after 5 warm-up requests)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(headers=headers) as client:
        for _ in range(5):
            client.get(url).raise_for_status()
        times = []
        for _ in range(n):
            start = time.perf_counter()
            client.get(url).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.95) - 1], times[-1]


def peak_rss_mb(pid: int) -> float:
    """The largest resident size (VmHWM) among a server process and its children, in MB."""
    peaks = []
    for proc in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except FileNotFoundError:
            continue
    return max(peaks, default=0.0)


def rss_mb(pid: int, *, workers_only: bool = False) -> float:
    """The resident size of a server process and its children (or its children alone: the
    workers that serve, without the parent that watches them), in MB."""
    total = 0.0
    for proc in _children(pid) if workers_only else [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            continue
    return total


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path(f"/proc/{pid}/task").iterdir():
        children = (entry / "children").read_text().split()
        for child in children:
            found += [int(child), *_children(int(child))]
    return found


def upload_100mb(base: str, token: str) -> None:
    """One 100 MB upload streamed from this process, to see the server's memory stay flat."""
    chunk = b"B" * (1024 * 1024)

    def body() -> Any:
        yield b'--bench\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        yield b"Content-Type: video/mp4\r\n\r\n"
        for _ in range(100):
            yield chunk
        yield b"\r\n--bench--\r\n"

    r = httpx.post(
        f"{base}/api/v1/files/upload",
        content=body(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=bench"},
        timeout=300,
    )
    r.raise_for_status()


def k6_quiz(base: str, learners: Learners, *, vus: int, duration: str) -> Result:
    """Start-and-submit pairs; requests/s counts both requests."""
    env = {
        "BASE": base,
        "QUIZ_ID": learners.quiz_id,
        "TOKENS": json.dumps(learners.tokens),
        "ANSWERS": learners.answers,
    }
    summary = run_k6("quiz.js", env, vus=vus, duration=duration)
    return _result("POST start + POST submit (a student each; both counted)", summary)


@dataclass
class Result:
    name: str
    rps: float
    p95: float
    p99: float
    failed: float


def k6_binary() -> str:
    found = shutil.which("k6") or str(Path(sys.executable).parent / "k6")
    if not Path(found).exists():
        raise SystemExit("k6 not found: it comes with the dev dependencies (`uv sync`)")
    return found


def serve(args: list[str], env: dict[str, str], probe: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(probe, proc)
    return proc


GRANIAN = [
    sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--no-access-log",
    "--backpressure", str(BACKPRESSURE),
]  # fmt: skip


@dataclass
class Stack:
    """Throwaway PostgreSQL and Redis, a migrated database with the bench admin, and the API's
    production environment on them (rate limits on, never refusing)."""

    env: dict[str, str]
    database: str
    procs: list[subprocess.Popen[bytes]]

    def serve_api(self, workers: int, **overrides: str) -> str:
        port = free_port()
        args = [sys.executable, "-m", "lms.cli", "run", "--port", str(port), "--workers", str(workers)]
        self.procs.append(serve(args, {**self.env, **overrides}, f"http://127.0.0.1:{port}/api/v1/health"))
        return f"http://127.0.0.1:{port}"

    def serve_app(self, factory: str, workers: int, probe: str = "/", **overrides: str) -> str:
        """Another ASGI app (`module:create_app`) on granian, served like the API."""
        port = free_port()
        args = [*GRANIAN, "--workers", str(workers), "--port", str(port), factory]
        self.procs.append(serve(args, {**self.env, **overrides}, f"http://127.0.0.1:{port}{probe}"))
        return f"http://127.0.0.1:{port}"

    def stop(self, pid: int) -> None:
        """Stop one of the servers started here (and the workers it started)."""
        for proc in self.procs:
            if proc.pid == pid:
                proc.terminate()
                proc.wait(timeout=30)
                self.procs.remove(proc)
                return


@contextmanager
def stack(prefix: str, **settings: str) -> Iterator[Stack]:
    pg, redis = PostgresServer.start(), RedisServer.start()
    procs: list[subprocess.Popen[bytes]] = []
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        database = asyncio.run(PostgresDatabases(pg.url).create())
        env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
        env.update(
            {
                "LMS_ENVIRONMENT": "production",
                "LMS_SECRET_KEY": SECRET,
                "LMS_TRUSTED_HOSTS": "127.0.0.1,localhost",
                "LMS_DATA_DIR": str(tmp),
                "LMS_DATABASE_URL": database,
                "LMS_REDIS_URL": redis.url,
                "LMS_QUEUE_URL": redis.url,
                "LMS_EMAIL_BACKEND": "file",
                "LMS_LOG_LEVEL": "WARNING",
                # Limits stay on (their Redis round trip is part of the cost) but never refuse.
                "LMS_RATE_LIMIT_GLOBAL": "1000000000/60",
                "LMS_RATE_LIMIT_AUTH": "1000000000/60",
                "LMS_RATE_LIMIT_UPLOAD": "1000000000/60",
                "UV_COMPILE_BYTECODE": "1",
                **settings,
            }
        )
        cli = [sys.executable, "-m", "lms.cli"]
        subprocess.run([*cli, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run(
            [*cli, "users", "create-admin", "--email", ADMIN, "--password-stdin"],
            env=env, cwd=ROOT, check=True, capture_output=True, input=f"{PASSWORD}\n".encode(),
        )  # fmt: skip
        yield Stack(env=env, database=database, procs=procs)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        pg.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def k6(name: str, base: str, path: str, *, vus: int, duration: str, method: str = "GET", body: str | None = None,
       token: str = "", expect: int = 200, sets: list[dict[str, object]] | None = None) -> Result:  # fmt: skip
    env = {"BASE": base, "PATH_UNDER_TEST": path, "METHOD": method, "TOKEN": token, "EXPECT": str(expect)}
    if body is not None:
        env["BODY"] = body
    if sets is not None:
        env["SETS"] = json.dumps(sets)
    return _result(name, run_k6("load.js", env, vus=vus, duration=duration))


def run_k6(script: str, env: dict[str, str], *, vus: int, duration: str) -> str:
    """Run one of bench/'s k6 scripts with its parameters; returns the summary file's path."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        summary = fh.name
    subprocess.run(
        [k6_binary(), "run", "--quiet", "--summary-export", summary, str(Path(__file__).with_name(script))],
        env={**os.environ, **env, "VUS": str(vus), "DURATION": duration, "K6_NO_USAGE_REPORT": "true"},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return summary


def _result(name: str, summary: str) -> Result:
    data = json.loads(Path(summary).read_text())
    Path(summary).unlink()
    metrics = data["metrics"]
    duration_ms = metrics["http_req_duration"]
    checks = metrics.get("checks", {})
    total = checks.get("passes", 0) + checks.get("fails", 0)
    return Result(
        name=name,
        rps=metrics["http_reqs"]["rate"],
        p95=duration_ms["p(95)"],
        p99=duration_ms["p(99)"],
        failed=(checks.get("fails", 0) / total) if total else 0.0,
    )


def options(doc: str | None, *, vus: int = 32) -> argparse.Namespace:
    """Every runner's command line: `--duration`, `--vus`, `--workers`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--vus", type=int, default=vus)
    parser.add_argument("--workers", type=int, default=2)
    return parser.parse_args()


def main() -> None:
    opts = options(__doc__)

    with stack("lms-bench-") as servers:
        api = servers.serve_api(opts.workers)
        # The same API on the same database with the catalog cache off: the uncached numbers.
        uncached = servers.serve_api(opts.workers, LMS_CACHE_TTL_SECONDS="0")
        hello = servers.serve_app("bench.hello:create_app", opts.workers)
        email = "bench@example.com"
        r = httpx.post(f"{api}/api/v1/auth/register", json={"email": email, "full_name": "Bench", "password": PASSWORD})
        r.raise_for_status()
        token = r.json()["tokens"]["access_token"]
        login = json.dumps({"email": email, "password": PASSWORD})
        admin = admin_headers(api)
        course_id = seed_catalog(api, admin)
        learners = seed_learners(api, admin)
        report = json.dumps({"status": "in_progress", "time_spent_seconds": 30, "last_position_seconds": 12})

        run = {"vus": opts.vus, "duration": opts.duration}
        ceiling = k6("hello-world ceiling", hello, "/", **run)
        results = [
            ceiling,
            k6("GET /api/v1/health", api, "/api/v1/health", **run),
            k6("GET /api/v1/users/me", api, "/api/v1/users/me", token=token, **run),
            k6("GET /api/v1/courses (cached)", api, "/api/v1/courses", **run),
            k6("GET /api/v1/courses (uncached)", uncached, "/api/v1/courses", **run),
            k6("GET /api/v1/courses/{id} (cached)", api, f"/api/v1/courses/{course_id}", **run),
            k6("GET /api/v1/courses/{id} (uncached)", uncached, f"/api/v1/courses/{course_id}", **run),
            k6(
                "PUT …/lessons/{id}/progress (a student each)",
                api,
                "",
                method="PUT",
                body=report,
                sets=learners.progress,
                **run,
            ),
            k6("GET /api/v1/enrollments/my-courses (a student each)", api, "", sets=learners.my_courses, **run),
            k6("GET /api/v1/quizzes/{id}/attempts/start (a student each)", api, "", sets=learners.take, **run),
            k6_quiz(api, learners, **run),
            k6(
                "GET /api/v1/certificates/verify/{number}",
                api,
                f"/api/v1/certificates/verify/{learners.certificate}",
                **run,
            ),
            k6("POST /api/v1/auth/login", api, "/api/v1/auth/login", method="POST", body=login, **run),
        ]
        server = servers.procs[0].pid
        before = peak_rss_mb(server)
        results.append(k6_files(api, token, duration=opts.duration))
        after_files = peak_rss_mb(server)
        upload_100mb(api, token)
        after_big = peak_rss_mb(server)
        memory = (before, after_files, after_big)

    print(
        f"\nserver peak RSS (largest process): {memory[0]:.0f} MB before the file rows, "
        f"{memory[1]:.0f} MB after the 10 MB uploads, {memory[2]:.0f} MB after one 100 MB upload"
    )
    print(f"\n{opts.workers} granian workers each, {opts.vus} k6 virtual users, {opts.duration} per endpoint\n")
    print("| endpoint | requests/s | p95 (ms) | p99 (ms) | ratio to ceiling | failed checks |")
    print("|---|---:|---:|---:|---:|---:|")
    for res in results:
        print(
            f"| {res.name} | {res.rps:,.0f} | {res.p95:.1f} | {res.p99:.1f} | {res.rps / ceiling.rps:.2f} | "
            f"{res.failed:.1%} |"
        )


if __name__ == "__main__":
    main()
