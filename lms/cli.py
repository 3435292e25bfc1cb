"""The `lms` command: run, worker, db upgrade/downgrade, users create-admin, demo seed (API §8.4).

Exit status: 0 success, 1 operational failure, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from domain.shared.build import version
from lms.settings import Settings, SettingsError, load_settings
from lms.supervision import PARENT_PID

# Requests one worker serves at once. An open event stream is one of them for as long as it lasts
# (API §13), so the bound is far above granian's own default (1,024 shared by the workers); the
# database pool still bounds the work that needs a connection.
BACKPRESSURE = 16_384


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None


def _refuse_in_production(settings: Settings, what: str) -> None:
    if settings.is_production:
        print(f"{what} refuses to run in production (LMS_ENVIRONMENT=production)", file=sys.stderr)
        raise SystemExit(2)


def _prepare_schema(settings: Settings) -> None:
    """Migrate once in the parent, before any server process starts (refused in production)."""
    from adapters.sql.engine import create_engine
    from lms.app import ensure_schema

    async def prepare() -> None:
        engine = create_engine(settings.database_url)
        try:
            await ensure_schema(settings, engine)
        finally:
            await engine.dispose()

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(prepare())
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None


def _share_metrics(settings: Settings) -> None:
    """One folder for this server's worker processes to add up their metrics in (`/metrics`
    answers for all of them), emptied of an earlier run's figures."""
    folder = settings.metrics_dir or (settings.data_dir / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink(missing_ok=True)
    os.environ["LMS_METRICS_DIR"] = str(folder.resolve())  # read by every worker granian starts


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        settings.check_workers(args.workers)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    _prepare_schema(settings)
    _share_metrics(settings)
    from granian.constants import Interfaces
    from granian.server import Server

    from lms.logs import granian_log_config

    os.environ[PARENT_PID] = str(os.getpid())  # each worker dies with this process (`serve_app`)
    server = Server(
        "lms.app:serve_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        factory=True,
        log_access=False,
        log_dictconfig=granian_log_config(settings),
        backpressure=args.backpressure,
    )
    server.serve()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.queue_url:
        print("LMS_QUEUE_URL is not set; jobs run inside the API process", file=sys.stderr)
        return 2
    from lms.logs import configure_logging
    from lms.worker import run_worker

    configure_logging(settings)
    try:
        asyncio.run(run_worker(settings, http_host=args.http_host, http_port=args.http_port))
    except OSError as exc:  # the health and metrics port is taken, say
        print(f"worker failed: {exc}", file=sys.stderr)
        return 1
    return 0


def _migrate(step: str, revision: str) -> int:
    settings = _settings()
    from adapters.sql import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run = migrate.upgrade if step == "upgrade" else migrate.downgrade
    try:
        steps = run(settings.database_url, revision)
    except Exception as exc:  # an unreachable database (or an unknown revision) is an operational failure
        print(f"migration failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    from lms.logs import report

    verb = "applied" if step == "upgrade" else "reverted"
    for line in steps:
        report(settings, f"{verb} {line}")
    if step == "upgrade":
        report(settings, "database schema is current" if steps else "database schema is current; nothing to apply")
    elif not steps:
        report(settings, f"database schema is already at {revision}; nothing to revert")
    return 0


def cmd_db_upgrade(_: argparse.Namespace) -> int:
    return _migrate("upgrade", "head")


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    return _migrate("downgrade", args.revision)


def cmd_create_admin(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print("--password-stdin is required: the password is read from standard input", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    if not 8 <= len(password) <= 128:
        print("the password must be 8..128 characters", file=sys.stderr)
        return 2
    settings = _settings()
    _prepare_schema(settings)
    from domain.shared.errors import Conflict
    from lms.bootstrap import build_container

    async def main() -> int:
        container = build_container(settings)
        try:
            user = await container.identity.accounts.create_admin(args.email, args.full_name, password)
        except Conflict as exc:
            print(exc.detail, file=sys.stderr)
            return 1
        finally:
            await container.close()
        print(user.id)
        return 0

    return asyncio.run(main())


def cmd_demo_seed(args: argparse.Namespace) -> int:
    if args.students < 0:
        print("--students must be 0 or more", file=sys.stderr)
        return 2
    settings = _settings()
    _refuse_in_production(settings, "lms demo seed")  # it creates accounts with published passwords
    _prepare_schema(settings)
    from adapters.queue.inprocess import InProcessQueue
    from adapters.security.passwords import Argon2Hasher
    from lms.bootstrap import build_container
    from lms.demo import ADMIN, INSTRUCTOR, STUDENT, DemoClock, OnceHasher, seed

    async def main() -> int:
        clock = DemoClock()
        container = build_container(settings, clock=clock, hasher=OnceHasher(Argon2Hasher()))
        try:
            await container.start()
            report = await seed(container, clock, students=args.students)
            if isinstance(container.queue, InProcessQueue):
                await container.queue.drain(timeout=300)  # emails and certificate PDFs of the history
        except Exception as exc:  # an unreachable database is an operational failure
            print(f"demo seed failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        finally:
            await container.close()
        if report.created:
            print(
                f"created {len(report.created)} item(s): "
                + "; ".join(report.created[:8])
                + ("; ..." if len(report.created) > 8 else "")
            )
        else:
            print("demo data is already in place; nothing changed")
        for email, password, _ in (ADMIN, INSTRUCTOR, STUDENT):
            print(f"  sign in as {email} / {password}")
        return 0

    return asyncio.run(main())


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """For container health checks (the image has no curl): 0 when the URL answers 200, else 1.
    The API's probe sends the first trusted host, as other `Host` values are refused in production."""
    import urllib.error
    import urllib.request

    hosts = [h.strip() for h in os.environ.get("LMS_TRUSTED_HOSTS", "").split(",") if h.strip()]
    headers = {"Host": hosts[0].replace("*.", "probe.")} if hosts and hosts[0] != "*" else {}
    request = urllib.request.Request(args.url, headers=headers)  # noqa: S310 (a URL the operator gives)
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as answer:  # noqa: S310
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lms", description="LMS backend")
    root.add_argument("--version", action="version", version=f"lms {version()}")
    sub = root.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve the API with granian")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument(
        "--backpressure",
        type=int,
        default=BACKPRESSURE,
        help=f"max concurrent requests per worker, open event streams included (default {BACKPRESSURE:,})",
    )
    run.set_defaults(func=cmd_run)

    worker = sub.add_parser("worker", help="run the SAQ job worker (needs LMS_QUEUE_URL)")
    worker.add_argument("--http-host", default="127.0.0.1", help="address of /health, /ready and /metrics")
    worker.add_argument("--http-port", type=int, default=9100, help="their port; 0 serves none")
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply pending migrations")
    upgrade.set_defaults(func=cmd_db_upgrade)
    downgrade = db_sub.add_parser("downgrade", help="revert migrations down to REVISION")
    downgrade.add_argument("revision", help="a revision id (such as 0007), or -N for the last N")
    downgrade.set_defaults(func=cmd_db_downgrade)

    health = sub.add_parser("healthcheck", help="exit 0 when a health URL answers 200 (container health checks)")
    health.add_argument("url", nargs="?", default="http://127.0.0.1:8000/api/v1/health")
    health.add_argument("--timeout", type=float, default=3.0)
    health.set_defaults(func=cmd_healthcheck)

    users = sub.add_parser("users", help="user administration")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    admin = users_sub.add_parser("create-admin", help="create an active, verified admin")
    admin.add_argument("--email", required=True)
    admin.add_argument("--full-name", default="Administrator")
    admin.add_argument("--password-stdin", action="store_true")
    admin.set_defaults(func=cmd_create_admin)

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    demo_seed = demo_sub.add_parser("seed", help="create the demo accounts and course (idempotent)")
    demo_seed.add_argument(
        "--students", type=int, default=0, help="also N demo students with 60 days of history (through the use cases)"
    )
    demo_seed.set_defaults(func=cmd_demo_seed)
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    raise SystemExit(args.func(args))


if __name__ == "__main__":
    main()
