"""The raw-driver baseline of the student journey: a minimal Litestar app on granian that makes the
same round trips as the API for the same requests, on raw asyncpg and redis-py, with none of the
architecture (no ports, unit of work, ORM, problem mapping, middleware, metrics or tracing).

Per authenticated request, as the API does: verify the access token (pyjwt, HS256, same issuer and
audience), count the request and read the blacklist entries in one Redis pipeline, load the user
(one SELECT), then the route's own statements:

- `GET /api/v1/users/me`: nothing more.
- `GET /api/v1/enrollments/my-courses`: one page query with its window count.
- `GET /api/v1/courses/{id}/lessons`: the cached page (one Redis script call), the course and
  lessons queries only on a miss.
- `PUT …/enrollments/{e}/lessons/{l}/progress`: one transaction: the enrollment locked, the
  lesson, the stored progress, an insert or update, the totals, the enrollment update.
- `GET /api/v1/analytics/my-progress`: one aggregate statement.
- `GET /api/v1/courses/{id}` and `GET /api/v1/courses`, anonymous: the count and the cached entry
  in one pipeline (`INCR`, `PEXPIRE NX`, `PTTL`, the namespace generation, the entry), the query
  and a `SET` only on a miss. With `LMS_CACHE_TTL_SECONDS=0` (the API's cache off), the count
  alone and then the query, every time.
- `POST /api/v1/auth/login` (the auth rule, no Bearer: the count alone, one script call): the
  user by email, argon2id verification
  with the API's parameters, the refresh-session insert, two tokens.

Settings come from the same `LMS_*` variables as the API (database, Redis, secret).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import anyio.to_thread
import asyncpg
import jwt
import redis.asyncio as redis
from argon2 import PasswordHasher
from litestar import Litestar, Request, Response, get, post, put
from litestar.exceptions import HTTPException

SECRET = os.environ.get("LMS_SECRET_KEY", "")
CACHING = os.environ.get("LMS_CACHE_TTL_SECONDS") != "0"
ISSUER, AUDIENCE = "lms", "lms-api"
HASHER = PasswordHasher(memory_cost=19_456, time_cost=2, parallelism=1)
HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
CACHE_GET = """
local generation = redis.call('GET', KEYS[1]) or '0'
local value = redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])
if value then return {generation, value} end
return {generation}
"""
USER = (
    "SELECT id, email, full_name, role, password_hash, is_active, mfa_method, totp_secret, totp_last_step,"
    " email_verified_at, tokens_valid_after, created_at, updated_at FROM users"
)
ENROLLMENT_COLUMNS = (
    "id, student_id, course_id, status, enrolled_at, started_at, completed_at, progress_percentage,"
    " completed_lessons_count, total_lessons_count, total_time_spent_seconds, last_accessed_at,"
    " certificate_issued_at, rating, review"
)
PROGRESS_COLUMNS = (
    "id, enrollment_id, lesson_id, status, started_at, completed_at, time_spent_seconds,"
    " last_position_seconds, completion_percentage, notes, created_at, updated_at"
)
MY_PROGRESS = """
SELECT e.count, e.active, e.completed, e.progress_cents, e.time_seconds, e.lessons_completed,
       a.graded, a.passed, a.percentage_cents
FROM (SELECT count(id) AS count, count(CASE WHEN status = 'active' THEN 1 END) AS active,
             count(CASE WHEN status = 'completed' THEN 1 END) AS completed,
             coalesce(sum(round(progress_percentage * 100)), 0) AS progress_cents,
             coalesce(sum(total_time_spent_seconds), 0) AS time_seconds,
             coalesce(sum(completed_lessons_count), 0) AS lessons_completed
      FROM enrollments WHERE student_id = $1) AS e
JOIN (SELECT count(id) AS graded, count(CASE WHEN is_passed THEN 1 END) AS passed,
             coalesce(sum(round(percentage * 100)), 0) AS percentage_cents
      FROM quiz_attempts WHERE student_id = $1 AND status = 'graded') AS a ON true
"""
CENT = Decimal("0.01")


class State:
    pool: asyncpg.Pool
    redis: redis.Redis
    hit: Any
    cache_get: Any


STATE = State()


def _dsn() -> str:
    return os.environ["LMS_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")


async def startup() -> None:
    STATE.pool = await asyncpg.create_pool(_dsn(), min_size=1, max_size=int(os.environ.get("LMS_DB_POOL_SIZE", "20")))
    STATE.redis = redis.Redis.from_url(os.environ["LMS_REDIS_URL"], socket_timeout=1.0)
    STATE.hit = STATE.redis.register_script(HIT)
    STATE.cache_get = STATE.redis.register_script(CACHE_GET)


async def shutdown() -> None:
    await STATE.pool.close()
    await STATE.redis.aclose()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _two(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_EVEN):.2f}"


async def _limited(request: Request[Any, Any, Any], rule: str) -> None:
    client = request.client.host if request.client else "unknown"
    count, _ = await STATE.hit(keys=[f"lms:rl:{rule}:{client}"], args=[60_000])
    if int(count) > 1_000_000_000:
        raise HTTPException(status_code=429)


async def _principal(request: Request[Any, Any, Any]) -> asyncpg.Record:
    """The API's authentication: token, rate limit, blacklist, user row (four round trips' worth)."""
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2]
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE)
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401) from None
    if claims.get("typ") != "access" or float(claims["exp"]) <= time.time():
        raise HTTPException(status_code=401)
    # As the API: the rate-limit count and the blacklist entries in one pipeline.
    client = request.client.host if request.client else "unknown"
    counted = f"lms:rl:global:{client}"
    pipe = STATE.redis.pipeline(transaction=False)
    pipe.incr(counted)
    pipe.pexpire(counted, 60_000, nx=True)
    pipe.pttl(counted)
    pipe.exists(f"lms:bl:jti:{claims['jti']}", f"lms:bl:sid:{claims['sid']}")
    count, _, _, revoked = await pipe.execute()
    if int(count) > 1_000_000_000:
        raise HTTPException(status_code=429)
    if revoked:
        raise HTTPException(status_code=401)
    async with STATE.pool.acquire() as conn:
        user = await conn.fetchrow(f"{USER} WHERE id = $1", uuid.UUID(claims["sub"]))
    if user is None or not user["is_active"]:
        raise HTTPException(status_code=401)
    cutoff = user["tokens_valid_after"]
    if cutoff is not None and int(claims["iat"]) < int(cutoff.timestamp()):
        raise HTTPException(status_code=401)
    return user


def _user_json(user: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(user["id"]),
        "email": user["email"],
        "full_name": user["full_name"],
        "role": user["role"],
        "is_active": user["is_active"],
        "mfa_enabled": user["mfa_method"] is not None,
        "mfa_method": user["mfa_method"],
        "email_verified_at": _iso(user["email_verified_at"]),
        "created_at": _iso(user["created_at"]),
        "updated_at": _iso(user["updated_at"]),
    }


def _enrollment_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "student_id": str(row["student_id"]),
        "course_id": str(row["course_id"]),
        "enrolled_at": _iso(row["enrolled_at"]),
        "started_at": _iso(row["started_at"]),
        "completed_at": _iso(row["completed_at"]),
        "status": row["status"],
        "progress_percentage": _two(row["progress_percentage"]),
        "completed_lessons_count": row["completed_lessons_count"],
        "total_lessons_count": row["total_lessons_count"],
        "total_time_spent_seconds": row["total_time_spent_seconds"],
        "last_accessed_at": _iso(row["last_accessed_at"]),
        "certificate_issued_at": _iso(row["certificate_issued_at"]),
        "rating": row["rating"],
        "review": row["review"],
    }


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/api/v1/users/me")
async def me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _user_json(await _principal(request))


@get("/api/v1/enrollments/my-courses")
async def my_courses(request: Request[Any, Any, Any]) -> dict[str, Any]:
    user = await _principal(request)
    async with STATE.pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {ENROLLMENT_COLUMNS}, count(*) OVER () AS _total FROM enrollments WHERE student_id = $1"
            " ORDER BY enrolled_at DESC, id DESC LIMIT 20 OFFSET 0",
            user["id"],
        )
    total = rows[0]["_total"] if rows else 0
    return {"items": [_enrollment_json(r) for r in rows], "total": total, "page": 1, "page_size": 20}


@get("/api/v1/courses/{course_id:uuid}/lessons")
async def lessons(request: Request[Any, Any, Any], course_id: uuid.UUID) -> Response[bytes]:
    await _principal(request)
    namespace = f"lessons:{course_id}"
    cached = await STATE.cache_get(keys=[f"lms:cache:gen:{{{namespace}}}"], args=[f"lms:cache:{{{namespace}}}:", "raw"])
    if len(cached) == 2:
        return Response(cached[1], media_type="application/json")
    async with STATE.pool.acquire() as conn:
        course = await conn.fetchrow("SELECT id, is_published FROM courses WHERE id = $1", course_id)
        if course is None:
            raise HTTPException(status_code=404)
        rows = await conn.fetch(
            "SELECT id, course_id, title, slug, description, content, lesson_type, order_index, parent_lesson_id,"
            " duration_minutes, video_url, is_preview, created_at, updated_at, count(*) OVER () AS _total"
            " FROM lessons WHERE course_id = $1 ORDER BY order_index, id LIMIT 20 OFFSET 0",
            course_id,
        )
    total = rows[0]["_total"] if rows else 0
    page = {"items": [_plain(r) for r in rows], "total": total, "page": 1, "page_size": 20}
    body = json.dumps(page).encode()
    await STATE.redis.set(f"lms:cache:{{{namespace}}}:{cached[0].decode()}:raw", body, ex=120)
    return Response(body, media_type="application/json")


async def _counted_entry(request: Request[Any, Any, Any], namespace: str) -> tuple[bytes, bytes | None]:
    """The anonymous rate-limit count and a cache read in one round trip: (generation, entry)."""
    client = request.client.host if request.client else "unknown"
    counter = f"lms:rl:global:ip:{client}"
    async with STATE.redis.pipeline(transaction=False) as pipe:
        pipe.incr(counter)
        pipe.pexpire(counter, 60_000, nx=True)
        pipe.pttl(counter)
        if CACHING:
            pipe.get(f"lms:cache:raw-gen:{{{namespace}}}")
            pipe.get(f"lms:cache:raw:{{{namespace}}}")
        count, _, _, *cached = await pipe.execute()
    if int(count) > 1_000_000_000:
        raise HTTPException(status_code=429)
    if not cached:
        return b"0", None
    generation, entry = cached
    generation = generation or b"0"
    if entry is not None and entry.partition(b":")[0] == generation:
        return generation, entry.partition(b":")[2]
    return generation, None


async def _fill(namespace: str, generation: bytes, body: bytes) -> None:
    if CACHING:
        await STATE.redis.set(f"lms:cache:raw:{{{namespace}}}", generation + b":" + body, ex=120)


@get("/api/v1/courses/{course_id:uuid}")
async def course(request: Request[Any, Any, Any], course_id: uuid.UUID) -> Response[bytes]:
    namespace = f"course:{course_id}"
    generation, entry = await _counted_entry(request, namespace)
    if entry is None:
        async with STATE.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM courses WHERE id = $1 AND is_published", course_id)
        if row is None:
            raise HTTPException(status_code=404)
        entry = json.dumps(_plain(row)).encode()
        await _fill(namespace, generation, entry)
    return Response(entry, media_type="application/json")


@get("/api/v1/courses")
async def courses(request: Request[Any, Any, Any]) -> Response[bytes]:
    namespace = "courses"
    generation, entry = await _counted_entry(request, namespace)
    if entry is None:
        async with STATE.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT *, count(*) OVER () AS _total FROM courses WHERE is_published"
                " ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 0"
            )
        total = rows[0]["_total"] if rows else 0
        entry = json.dumps({"items": [_plain(r) for r in rows], "total": total, "page": 1, "page_size": 20}).encode()
        await _fill(namespace, generation, entry)
    return Response(entry, media_type="application/json")


def _plain(row: asyncpg.Record) -> dict[str, Any]:
    def value(v: Any) -> Any:
        return str(v) if isinstance(v, (uuid.UUID, Decimal)) else _iso(v) if isinstance(v, datetime) else v

    return {k: value(v) for k, v in dict(row).items() if k != "_total"}


@put("/api/v1/enrollments/{enrollment_id:uuid}/lessons/{lesson_id:uuid}/progress")
async def report_progress(
    request: Request[Any, Any, Any], enrollment_id: uuid.UUID, lesson_id: uuid.UUID, data: dict[str, Any]
) -> dict[str, Any]:
    user = await _principal(request)
    now = datetime.now(UTC)
    async with STATE.pool.acquire() as conn, conn.transaction():
        enrollment = await conn.fetchrow(
            f"SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE id = $1 FOR NO KEY UPDATE", enrollment_id
        )
        if enrollment is None or enrollment["student_id"] != user["id"]:
            raise HTTPException(status_code=404)
        lesson = await conn.fetchrow("SELECT id, course_id FROM lessons WHERE id = $1", lesson_id)
        if lesson is None or lesson["course_id"] != enrollment["course_id"]:
            raise HTTPException(status_code=404)
        stored = await conn.fetchrow(
            f"SELECT {PROGRESS_COLUMNS} FROM lesson_progress WHERE enrollment_id = $1 AND lesson_id = $2",
            enrollment_id,
            lesson_id,
        )
        spent = int(data.get("time_spent_seconds", 0))
        position = int(data.get("last_position_seconds", 0))
        status = str(data.get("status", "in_progress"))
        if stored is None:
            progress = await conn.fetchrow(
                f"INSERT INTO lesson_progress ({PROGRESS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, 0, NULL,"
                f" $5, $5) RETURNING {PROGRESS_COLUMNS}",
                uuid.uuid4(), enrollment_id, lesson_id, status, now, spent, position,
            )  # fmt: skip
        else:
            progress = await conn.fetchrow(
                "UPDATE lesson_progress SET status = $1, time_spent_seconds = time_spent_seconds + $2,"
                f" last_position_seconds = $3, updated_at = $4 WHERE id = $5 RETURNING {PROGRESS_COLUMNS}",
                status, spent, position, now, stored["id"],
            )  # fmt: skip
        totals = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'completed') AS done,"
            " coalesce(sum(time_spent_seconds), 0) AS spent,"
            " (SELECT count(*) FROM lessons WHERE course_id = $1) AS lessons"
            " FROM lesson_progress WHERE enrollment_id = $2",
            enrollment["course_id"], enrollment_id,
        )  # fmt: skip
        percentage = Decimal(100 * totals["done"]) / totals["lessons"] if totals["lessons"] else Decimal(0)
        await conn.execute(
            "UPDATE enrollments SET progress_percentage = $1, completed_lessons_count = $2, total_lessons_count = $3,"
            " total_time_spent_seconds = $4, last_accessed_at = $5, started_at = coalesce(started_at, $5),"
            " updated_at = $5 WHERE id = $6",
            percentage.quantize(CENT), totals["done"], totals["lessons"], totals["spent"], now, enrollment_id,
        )  # fmt: skip
    return {
        "id": str(progress["id"]),
        "enrollment_id": str(enrollment_id),
        "lesson_id": str(lesson_id),
        "status": progress["status"],
        "started_at": _iso(progress["started_at"]),
        "completed_at": _iso(progress["completed_at"]),
        "time_spent_seconds": progress["time_spent_seconds"],
        "last_position_seconds": progress["last_position_seconds"],
        "completion_percentage": _two(progress["completion_percentage"]),
        "updated_at": _iso(progress["updated_at"]),
    }


@get("/api/v1/analytics/my-progress")
async def my_progress(request: Request[Any, Any, Any]) -> dict[str, Any]:
    user = await _principal(request)
    async with STATE.pool.acquire() as conn:
        row = await conn.fetchrow(MY_PROGRESS, user["id"])
    count, graded = row["count"], row["graded"]
    mean = lambda total, n: _two(Decimal(total) / 100 / n) if n else "0.00"  # noqa: E731
    return {
        "student_id": str(user["id"]),
        "total_enrollments": count,
        "active_enrollments": row["active"],
        "completed_enrollments": row["completed"],
        "average_progress": mean(row["progress_cents"], count),
        "total_time_hours": _two(Decimal(row["time_seconds"]) / 3600),
        "total_lessons_completed": int(row["lessons_completed"]),
        "quizzes_taken": graded,
        "quizzes_passed": row["passed"],
        "average_quiz_score": mean(row["percentage_cents"], graded),
    }


def _token(user: asyncpg.Record, typ: str, ttl: timedelta, sid: uuid.UUID, now: datetime) -> str:
    claims: dict[str, Any] = {
        "sub": str(user["id"]), "jti": str(uuid.uuid4()), "typ": typ, "iat": int(now.timestamp()),
        "iat_us": int(now.timestamp() * 1_000_000), "exp": int((now + ttl).timestamp()), "sid": str(sid),
        "iss": ISSUER, "aud": AUDIENCE,
    }  # fmt: skip
    if typ == "access":
        claims["role"] = user["role"]
    return jwt.encode(claims, SECRET, algorithm="HS256")


@post("/api/v1/auth/login", status_code=200)
async def login(request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    await _limited(request, "auth")
    async with STATE.pool.acquire() as conn:
        user = await conn.fetchrow(f"{USER} WHERE email = $1", str(data["email"]).strip().lower())
        if user is None:
            raise HTTPException(status_code=401)
        try:  # off the event loop, as the API does
            await anyio.to_thread.run_sync(HASHER.verify, user["password_hash"], str(data["password"]))
        except Exception:
            raise HTTPException(status_code=401) from None
        now, sid = datetime.now(UTC), uuid.uuid4()
        await conn.execute(
            "INSERT INTO refresh_sessions (id, user_id, sid, expires_at, revoked_at, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, NULL, $5, $5)",
            uuid.uuid4(), user["id"], sid, now + timedelta(days=30), now,
        )  # fmt: skip
    return {
        "user": _user_json(user),
        "tokens": {
            "access_token": _token(user, "access", timedelta(minutes=15), sid, now),
            "refresh_token": _token(user, "refresh", timedelta(days=30), sid, now),
            "token_type": "bearer",
            "expires_in": 900,
        },
    }


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[health, me, my_courses, lessons, course, courses, report_progress, my_progress, login],
        on_startup=[startup],
        on_shutdown=[shutdown],
        openapi_config=None,
    )
