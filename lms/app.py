"""The application factory: `create_app(settings=None, container=None) -> Litestar`."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio.to_thread
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import asgi
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.http.analytics.controller import AnalyticsController
from adapters.http.assessment.attempts_controller import AttemptsController
from adapters.http.assessment.banks_controller import QuestionBanksController
from adapters.http.assessment.essays_controller import EssaysController
from adapters.http.assessment.quizzes_controller import QuizzesController
from adapters.http.assignments.assignments_controller import AssignmentsController
from adapters.http.assignments.grading_controller import EnrollmentGradesController, GradingController
from adapters.http.assignments.submissions_controller import AssignmentSubmissionsController, SubmissionsController
from adapters.http.bodies import LmsRequest, refuse_nul_in_query
from adapters.http.catalog.courses_controller import CoursesController, public_cache_key
from adapters.http.catalog.lessons_controller import LessonsController
from adapters.http.commerce.coupons_controller import CouponsController
from adapters.http.commerce.orders_controller import OrdersController, PaymentsController
from adapters.http.credentials.badges_controller import CredentialsController, IssuerController
from adapters.http.credentials.controller import CertificatesController
from adapters.http.document import install as finish_document
from adapters.http.edge import add_edge_headers
from adapters.http.envelope import EnvelopeMiddleware
from adapters.http.files.controller import FilesController
from adapters.http.idempotency import IdempotencyMiddleware
from adapters.http.identity.api_keys_controller import ApiKeysController
from adapters.http.identity.auth_controller import AuthController
from adapters.http.identity.browser_controller import BrowserSessionController
from adapters.http.identity.cookies import CookiePolicy
from adapters.http.identity.sso_controller import IdentitiesController, SingleSignOnController
from adapters.http.identity.users_controller import UsersController
from adapters.http.integrations.controller import WebhookDeliveriesController
from adapters.http.learning.controller import EnrollmentsController
from adapters.http.learning.roster_controller import RosterController
from adapters.http.metrics import EdgeMiddleware, metrics_app
from adapters.http.notifications.controller import (
    NotificationPreferencesController,
    NotificationsController,
    WebSocketTicketController,
)
from adapters.http.notifications.live_controller import live_socket, stream_notifications
from adapters.http.openapi import (
    complete_body_schemas,
    document_idempotency,
    document_links,
    document_roster,
    document_upload,
)
from adapters.http.pagination import page_params
from adapters.http.privacy.controller import PersonalDataController
from adapters.http.problems import exception_handlers
from adapters.http.proxies import ProxyHeadersMiddleware
from adapters.http.ratelimit import RateLimitMiddleware, Rule, Rules
from adapters.http.representation import PrefetchedAnswerMiddleware
from adapters.http.routing import HeadMiddleware, answer_options_with_every_method, resolve_dependencies_in_turn
from adapters.http.security import provide_principal
from adapters.http.system import LivenessMiddleware, banner, docs, health, readiness_of, ready
from adapters.http.telemetry import TracingMiddleware
from adapters.kv.redis_store import RedisCache
from adapters.queue.saq_queue import SaqQueue
from adapters.sql import migrate
from domain.identity.model import TokenType
from domain.shared.errors import Unauthenticated, Unavailable
from lms.bootstrap import Container, build_container
from lms.logs import configure_logging, configure_telemetry
from lms.settings import RateLimit, Settings, SettingsError, load_settings
from lms.supervision import PARENT_PID, die_with_parent

log = logging.getLogger("lms")

MAX_JSON_BODY = 1024 * 1024
RATE_LIMIT_HEADERS = [
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]


async def ensure_schema(settings: Settings, engine: AsyncEngine) -> None:
    """Development and test apply pending migrations; production refuses to start with any."""
    if await migrate.is_current(engine, settings.database_url):
        return
    if settings.is_production:
        raise SettingsError("the database schema is not current: run `lms db upgrade` first")
    log.info("applying database migrations")
    await anyio.to_thread.run_sync(migrate.upgrade, settings.database_url)


def instrument(container: Container) -> None:
    """Trace database and Redis calls (only when traces are exported: a token is set)."""
    import logfire

    logfire.instrument_sqlalchemy(engine=container.engine, skip_dep_check=True)
    queue = container.queue
    if container.settings.redis_url or (isinstance(queue, SaqQueue) and not queue.on_postgres):
        logfire.instrument_redis()


def _rules(settings: Settings) -> Rules:
    def rule(name: str, limit: RateLimit) -> Rule:
        return Rule(name=name, count=limit.count, seconds=limit.seconds)

    return Rules(
        global_=rule("global", settings.rate_limit_global),
        auth=rule("auth", settings.rate_limit_auth),
        upload=rule("upload", settings.rate_limit_upload),
    )


def _openapi(settings: Settings) -> OpenAPIConfig | None:
    if not settings.docs_enabled:
        return None
    return OpenAPIConfig(
        title="LMS API",
        version="1.0.0",
        description=(
            "HTTP API of the LMS backend. Errors are RFC 9457 problem details "
            "(`application/problem+json`); lists are pages with RFC 8288 `Link` headers."
        ),
        path="/schema",
        render_plugins=[ScalarRenderPlugin(path="/"), SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                "AccessCookie": SecurityScheme(
                    type="apiKey",
                    name="lms_access",
                    security_scheme_in="cookie",
                    description="A browser session (API §10.2): unsafe requests also send `X-CSRF-Token` "
                    "equal to the `lms_csrf` cookie.",
                ),
            }
        ),
        servers=[Server(url="/")],
        use_handler_docstrings=True,
    )


def serve_app() -> Litestar:
    """The application of each worker process `lms run` starts: it dies with that `lms run`."""
    parent = os.environ.get(PARENT_PID, "")
    die_with_parent(int(parent) if parent.isdigit() else None)
    app = create_app()
    settle_heap()
    return app


def settle_heap() -> None:
    """What a worker made while starting (modules, the app and its routes: some 250,000 objects)
    lives as long as the process. Collected once and then frozen out of the cycle collector's
    reach, it is no longer walked by every full collection during traffic: measured, a full pass
    went from about 150 ms, a stall of every request in flight, to a few ms."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    settings = settings or (container.settings if container else load_settings())
    configure_logging(settings)
    tracing = configure_telemetry(settings)
    owned = container is None
    container = container or build_container(settings)
    if tracing:
        instrument(container)
    metrics = container.metrics

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await ensure_schema(settings, container.engine)
        await container.start()
        await metrics.start_sharing()
        try:
            yield
        finally:
            await metrics.stop_sharing()
            if owned:
                await container.close()

    async def bearer_claims(token: str) -> dict[str, Any] | None:
        """A Bearer access token's claims when it is signed and unexpired (revocation is the
        route's check; the claims only name who asks)."""
        try:
            claims = container.codec.decode(token)
        except Exception:
            return None
        if claims.get("typ") != TokenType.ACCESS.value or "sub" not in claims or "jti" not in claims:
            return None
        return claims

    # The hand-written middleware speaks raw ASGI dicts; Litestar's TypedDict signatures are stricter.
    limiter: Any = RateLimitMiddleware
    envelope: Any = EnvelopeMiddleware
    headers_hook: Any = add_edge_headers
    middleware: list[Any] = []
    # On Redis an anonymous catalog read counts and reads its cache entry in one round trip, and
    # a read found cached is answered before its handler runs.
    redis_cache = container.cache if isinstance(container.cache, RedisCache) else None
    counted = redis_cache.counted_get if redis_cache is not None and settings.cache_ttl_seconds > 0 else None
    prefetching = settings.rate_limit_enabled and counted is not None
    if settings.rate_limit_enabled:
        limits = {"rules": _rules(settings), "claims_of": bearer_claims, "cache_key_of": public_cache_key}
        middleware.append(DefineMiddleware(limiter, store=container.kv, counted_get=counted, meter=metrics, **limits))

    async def reauthenticate(token: str) -> tuple[int, str] | None:
        """Whether the caller of a stored answer may still act (revoked, deactivated: no)."""
        try:
            await container.identity.sign_in.authenticate(token)
        except Unauthenticated as exc:
            return 401, exc.detail
        except Unavailable as exc:
            return 503, exc.detail
        return None

    idempotency: Any = IdempotencyMiddleware
    middleware.append(
        DefineMiddleware(
            idempotency,
            store=container.kv,
            claims_of=bearer_claims,
            reauthenticate=reauthenticate,
            max_json=MAX_JSON_BODY,
            max_upload=settings.max_upload_mb * 1024 * 1024 + 1024 * 1024,  # the file and its form
        )
    )
    if settings.response_envelope:
        middleware.append(DefineMiddleware(envelope))
    if prefetching:
        answer: Any = PrefetchedAnswerMiddleware  # innermost
        middleware.append(DefineMiddleware(answer))
    if tracing:
        middleware.insert(0, DefineMiddleware(cast(Any, TracingMiddleware)))

    scrape = metrics_app(metrics, token=settings.metrics_token, private_only=settings.is_production)
    metrics_route = asgi("/metrics", is_mount=False, include_in_schema=False, copy_scope=False)(scrape)
    readiness = readiness_of(container.ping_database, container.redis_pings(), container.storage.ping)

    api = Router(
        path="/api/v1",
        route_handlers=[
            AuthController,
            BrowserSessionController,
            ApiKeysController,
            SingleSignOnController,
            IdentitiesController,
            UsersController,
            PersonalDataController,
            CoursesController,
            RosterController,
            OrdersController,
            PaymentsController,
            CouponsController,
            LessonsController,
            EnrollmentsController,
            QuizzesController,
            QuestionBanksController,
            NotificationsController,
            NotificationPreferencesController,
            WebSocketTicketController,
            stream_notifications,
            live_socket,
            AttemptsController,
            EssaysController,
            AssignmentsController,
            AssignmentSubmissionsController,
            SubmissionsController,
            GradingController,
            EnrollmentGradesController,
            CertificatesController,
            CredentialsController,
            FilesController,
            AnalyticsController,
            WebhookDeliveriesController,
        ],
    )
    origins = list(settings.cors_origins)
    policy = container.identity.parts.policy
    cookies = CookiePolicy(
        secure=bool(settings.cookie_secure),
        domain=settings.cookie_domain,
        samesite=settings.cookie_samesite,
        access_seconds=int(policy.access_ttl.total_seconds()),
        refresh_seconds=int(policy.refresh_ttl.total_seconds()),
    )
    app = Litestar(
        request_class=LmsRequest,
        route_handlers=[
            banner,
            health,
            ready,
            metrics_route,
            IssuerController,
            api,
            *([docs] if settings.docs_enabled else []),
        ],
        dependencies={
            "sign_in": Provide(lambda: container.identity.sign_in, sync_to_thread=False),
            "accounts": Provide(lambda: container.identity.accounts, sync_to_thread=False),
            "mfa": Provide(lambda: container.identity.mfa, sync_to_thread=False),
            "user_admin": Provide(lambda: container.identity.admin, sync_to_thread=False),
            "lockout": Provide(lambda: container.identity.lockout, sync_to_thread=False),
            "browser": Provide(lambda: container.identity.browser, sync_to_thread=False),
            "api_keys": Provide(lambda: container.identity.api_keys, sync_to_thread=False),
            "single_sign_on": Provide(lambda: container.identity.single_sign_on, sync_to_thread=False),
            "cookie_policy": Provide(lambda: cookies, sync_to_thread=False),
            "principal": Provide(provide_principal),
            "paging": Provide(page_params),
            "readiness": Provide(lambda: readiness, sync_to_thread=False),
        },
        exception_handlers=exception_handlers(),
        before_request=refuse_nul_in_query,
        middleware=middleware,
        before_send=[headers_hook],
        cors_config=CORSConfig(
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-CSRF-Token",
                "X-API-Key",
            ],
            expose_headers=[
                "Link",
                "ETag",
                "Location",
                "Retry-After",
                "Content-Disposition",
                "X-Request-ID",
                "Idempotency-Replayed",
                *RATE_LIMIT_HEADERS,
            ],
            # Cookie sessions (API §10.2): credentials for the listed origins only, never for `*`.
            allow_credentials="*" not in origins,
        ),
        openapi_config=_openapi(settings),
        lifespan=[lifespan],
        request_max_body_size=MAX_JSON_BODY,
        state=State({"container": container, "metrics": metrics}),
        debug=False,
        logging_config=None,  # configure_logging owns logging
    )
    answer_options_with_every_method(app)
    resolve_dependencies_in_turn(app)
    # Around routing (route middleware runs after it), innermost first: the host check, metrics
    # and access log see every request, routed or not; HEAD is answered by the GET route; probes
    # are answered before anything else; behind trusted proxies the client is found first.
    handler: Any = app.asgi_handler
    handler = EdgeMiddleware(handler, metrics, settings.trusted_hosts, body_timeout=settings.body_read_timeout_seconds)
    handler = LivenessMiddleware(HeadMiddleware(handler), metrics, settings.trusted_hosts)
    if settings.trusted_proxies:
        handler = ProxyHeadersMiddleware(handler, settings.trusted_proxies)
    app.asgi_handler = handler
    finish_document(app, _complete_document)  # on first use: most apps are never asked for it
    return app


def _complete_document(app: Litestar) -> None:
    """What Litestar's OpenAPI object lacks, added once it is built."""
    complete_body_schemas(app)
    document_upload(app, "/api/v1/files/upload")
    document_roster(app, "/api/v1/courses/{course_id}/roster")
    document_idempotency(app)
    document_links(app)
