"""The `lms` command: run, worker, db upgrade, users create-admin, demo seed (API §8.4).

Exit status: 0 success, 1 operational failure, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from lms.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None


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

    server = Server(
        "lms.app:create_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        factory=True,
        log_access=False,
        backpressure=args.backpressure,
    )
    server.serve()
    return 0


def cmd_worker(_: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.queue_url:
        print("LMS_QUEUE_URL is not set; jobs run inside the API process", file=sys.stderr)
        return 2
    from adapters.queue.saq_queue import SaqQueue, stop_worker
    from lms.bootstrap import build_container
    from lms.logs import configure_logging

    configure_logging(settings)

    async def main() -> None:
        container = build_container(settings)
        queue = container.queue
        assert isinstance(queue, SaqQueue)
        await queue.connect()
        worker = queue.worker(container.handlers)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        running = asyncio.create_task(worker.start())
        if container.webhooks.enabled:
            container.relay.start()  # with a SAQ queue the outbox relay runs here, not in `lms run`
        print(f"worker started on queue {queue.queue.name!r}", flush=True)
        await stop.wait()
        await stop_worker(worker)
        running.cancel()
        await container.close()

    asyncio.run(main())
    return 0


def cmd_db_upgrade(_: argparse.Namespace) -> int:
    settings = _settings()
    from adapters.sql import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        migrate.upgrade(settings.database_url)
    except Exception as exc:  # an unreachable database is an operational failure
        print(f"migration failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("database schema is current")
    return 0


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
            user = await container.identity.create_admin(args.email, args.full_name, password)
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lms", description="LMS backend")
    sub = root.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve the API with granian")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--backpressure", type=int, default=None, help="max concurrent requests per worker")
    run.set_defaults(func=cmd_run)

    worker = sub.add_parser("worker", help="run the SAQ job worker (needs LMS_QUEUE_URL)")
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply pending migrations")
    upgrade.set_defaults(func=cmd_db_upgrade)

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
