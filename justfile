# Everyday recipes. `uv run just <recipe>`; `uv run just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Serve the API (embedded default: SQLite, in-process cache and queue, console email).
run *ARGS:
    uv run lms run {{ARGS}}

# Run the SAQ job worker (needs LMS_QUEUE_URL).
worker:
    uv run lms worker

# Apply pending database migrations.
migrate:
    uv run lms db upgrade

# Install what the test suite needs from the system when it is missing: the servers it starts
# (PostgreSQL, Redis), the fonts certificates are rendered with, libfaketime, and Chromium.
system-deps:
    #!/usr/bin/env bash
    set -euo pipefail
    missing=()
    command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
    command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    # Certificates are rendered with the system's fonts: CJK names need Noto CJK (DejaVu covers the rest).
    fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
    fc-list 2>/dev/null | grep -qi "DejaVu Sans" || missing+=(fonts-dejavu-core)
    ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing+=(libharfbuzz-subset0)
    # A worker under libfaketime lives through simulated hours of webhook retries in seconds.
    ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || missing+=(faketime)
    # Azurite (the Azure Blob emulator of the storage tests) comes from the npm registry.
    command -v npm >/dev/null || missing+=(npm)
    # The browser test drives the system's headless Chromium (Playwright's own download is not used).
    command -v chromium >/dev/null || missing+=(chromium)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]}"
        SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
        # The packages start system services; the tests run their own throwaway servers.
        $SUDO systemctl disable --now redis-server postgresql >/dev/null 2>&1 || true
    fi

# Lint and format check.
lint:
    uv run ruff format --check .
    uv run ruff check .
    uv run lint-imports

# Format the code.
fmt:
    uv run ruff format .
    uv run ruff check --fix .

# Type-check (strict on domain/ and lms/).
typecheck:
    uv run mypy

# Everything CI runs: system servers, lint, types, layer contract, the whole test suite.
test *ARGS: system-deps lint typecheck
    uv run pytest -n 2 {{ARGS}}

# Benchmark with k6 against `lms run` on PostgreSQL + Redis (see bench/README.md).
bench *ARGS:
    uv run python -m bench.run {{ARGS}}

# The student journey: the API beside the same round trips on raw asyncpg, and the ceiling.
bench-journey *ARGS:
    uv run python -m bench.journey {{ARGS}}

# Analytics as the tables grow: 1 k, then 1 M progress rows.
bench-growth *ARGS:
    uv run python -m bench.growth {{ARGS}}

# Every list route, uncached, at 100, 10 k and 100 k courses (1 M users and enrollments).
bench-lists *ARGS:
    uv run python -m bench.lists {{ARGS}}

# The gradebook of 10,000 students and 40 items: a page under 8 managers, and the CSV's memory.
bench-gradebook *ARGS:
    uv run python -m bench.gradebook {{ARGS}}

# A roster import of 10,000 rows on PostgreSQL (bench/roster.py).
bench-roster *ARGS:
    uv run python -m bench.roster {{ARGS}}

# Autogenerate a migration from the models (review it before committing).
revision MESSAGE:
    uv run python -c 'import sys; from adapters.sql.migrate import new_revision; new_revision(sys.argv[1])' "{{MESSAGE}}"

# Where a request's time goes: the API and the raw baseline in process, with a profile per route.
bench-profile *ARGS:
    uv run python -m bench.profile {{ARGS}}

# Live connections: 10,000 idle sockets on one process, and fan-out across two (bench/live.py).
bench-live *ARGS:
    uv run python -m bench.live {{ARGS}}
