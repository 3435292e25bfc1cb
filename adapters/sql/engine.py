"""Engine and session factory for either backend, with the settings each needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from domain.shared.errors import Unavailable

T = TypeVar("T")
UNAVAILABLE = "Database unavailable"


class DatabaseUnavailable(Unavailable):
    """The database could not be reached or dropped the connection (HTTP 503). `disconnect`: a
    pooled connection turned out dead (the pool has been emptied), so a retry gets a fresh one."""

    def __init__(self, *, disconnect: bool) -> None:
        super().__init__(UNAVAILABLE)
        self.disconnect = disconnect


def _unavailable(context: ExceptionContext) -> BaseException | None:
    """Connection failures become `DatabaseUnavailable` (SQLAlchemy has already invalidated the
    pool on a disconnect); every other error is left as it is."""
    original = context.original_exception
    if not isinstance(original, Exception):
        return None  # a cancelled task (CancelledError) or an exit must stay what it is
    if context.is_disconnect:
        return DatabaseUnavailable(disconnect=True)
    if isinstance(original, OSError) or type(original).__name__ in CONNECT_ERRORS:
        return DatabaseUnavailable(disconnect=False)
    return None


# asyncpg's refusals while the server starts, stops or is full.
CONNECT_ERRORS = frozenset(
    {"CannotConnectNowError", "ConnectionDoesNotExistError", "TooManyConnectionsError", "AdminShutdownError"}
)


def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Open a connection; a server that refuses or is not up yet is `DatabaseUnavailable` (these
    errors come from the driver's connect and skip `handle_error`)."""
    try:
        return dialect.loaded_dbapi.connect(*cargs, **cparams)
    except OSError as exc:
        raise DatabaseUnavailable(disconnect=False) from exc
    except Exception as exc:
        if type(exc).__name__ in CONNECT_ERRORS or type(getattr(exc, "__cause__", None)).__name__ in CONNECT_ERRORS:
            raise DatabaseUnavailable(disconnect=False) from exc
        raise


async def retrying_read(read: Callable[[], Awaitable[T]]) -> T:
    """Run an idempotent read; once more if its pooled connection turned out dead."""
    try:
        return await read()
    except DatabaseUnavailable as exc:
        if not exc.disconnect:
            raise
    return await read()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    # No pool_pre_ping: it costs a round trip on every checkout (measured: +70 % on a simple read).
    # Connections are recycled instead, and a connection found dead is invalidated by SQLAlchemy.
    kwargs: dict[str, Any] = {"echo": echo, "pool_recycle": 1800}
    if is_sqlite(url):
        # A busy timeout instead of "database is locked" when requests write at once.
        kwargs["connect_args"] = {"timeout": 30}
    else:
        # No overflow: SQLAlchemy closes overflow connections on every return, so under load each
        # request would open a new PostgreSQL backend (measured: more connects than requests).
        # Waiting briefly for a pooled connection is far cheaper.
        kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=30)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "handle_error", _unavailable)
    if not is_sqlite(url):
        event.listen(engine.sync_engine, "do_connect", _connect)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def pool_figures(engine: AsyncEngine, reads: Any) -> list[tuple[str, dict[str, str], float]]:
    """Connections in use and idle, and each pool's size, of the engine's pool and the prepared
    reads' (`lms_db_pool_connections`, `lms_db_pool_size`)."""
    pool: Any = engine.pool
    figures: list[tuple[str, dict[str, str], float]] = []
    if hasattr(pool, "checkedout"):
        figures += [
            ("lms_db_pool_connections", {"pool": "engine", "state": "in_use"}, float(pool.checkedout())),
            ("lms_db_pool_connections", {"pool": "engine", "state": "idle"}, float(pool.checkedin())),
            ("lms_db_pool_size", {"pool": "engine"}, float(pool.size())),
        ]
    status = reads.pool_status()
    if status is not None:
        in_use, idle, size = status
        figures += [
            ("lms_db_pool_connections", {"pool": "prepared", "state": "in_use"}, float(in_use)),
            ("lms_db_pool_connections", {"pool": "prepared", "state": "idle"}, float(idle)),
            ("lms_db_pool_size", {"pool": "prepared"}, float(size)),
        ]
    return figures


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
