"""Builds the container from settings: the only place that chooses adapters."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.archive.zip_archive import ZipArchive
from adapters.http.metrics import Metrics, Sample
from adapters.kv.memory import MemoryCache, MemoryKeyValue
from adapters.kv.redis_store import RedisCache, RedisKeyValue
from adapters.live.hub import LiveHub
from adapters.mail.console import ConsoleMailer
from adapters.mail.file import FileMailer
from adapters.mail.smtp import SmtpConfig, SmtpMailer
from adapters.oidc.relying_party import OidcProvider
from adapters.payments.stripe_provider import StripePayments
from adapters.pdf.certificates import WeasyPrintRenderer
from adapters.queue.inprocess import InProcessQueue
from adapters.queue.saq_queue import SaqQueue
from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.credential_keys import JoseCredentialSigner, SigningKeyError
from adapters.security.jwt_codec import JwtCodec
from adapters.security.passwords import Argon2Hasher
from adapters.security.totp import PyOtpTotp
from adapters.sql.analytics_reader import SqlAnalyticsReader
from adapters.sql.catalog_repositories import SqlCatalogReader
from adapters.sql.engine import create_engine, pool_figures, session_factory
from adapters.sql.files_repository import SqlFileRepository
from adapters.sql.gradebook_reader import SqlGradebookReader
from adapters.sql.identity_repositories import SqlApiKeyLookup, SqlUserLookup
from adapters.sql.integrations import SqlDeliveryStore
from adapters.sql.learning_repositories import SqlLearningReader
from adapters.sql.notification_repositories import SqlNotificationFeed, SqlRecipientReader
from adapters.sql.prepared import PreparedReads
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from adapters.sql.xapi_store import SqlActivityNames, SqlStatementStore
from adapters.storage.obstore_storage import ObstoreStorage
from adapters.webhooks.sender import HttpxWebhookSender
from adapters.worker.jobs import job_handlers
from adapters.worker.relay import RelayLoop
from adapters.xapi.lrs_client import HttpxLearningRecordStore
from domain.analytics.services import AnalyticsService
from domain.assessment.attempts import AttemptService
from domain.assessment.banks import QuestionBankService
from domain.assessment.essays import EssayService
from domain.assessment.quizzes import QuizService
from domain.assignments.assignments import AssignmentService
from domain.assignments.gradebook import GradebookService
from domain.assignments.grading_queue import GradingQueue
from domain.assignments.submissions import SubmissionService
from domain.catalog.services import CatalogService
from domain.commerce.coupons import CouponService
from domain.commerce.model import Provider
from domain.commerce.orders import OrderService
from domain.commerce.ports import PaymentProvider
from domain.credentials.badges import Issuer, OpenBadges
from domain.credentials.services import CertificateService
from domain.files.services import FileService
from domain.identity.blacklist import TokenBlacklist
from domain.identity.families import Identity
from domain.identity.model import Role
from domain.identity.parts import IdentityParts
from domain.identity.policy import IdentityPolicy
from domain.identity.ports import PasswordHasher
from domain.identity.single_sign_on import ProviderRules
from domain.identity.tokens import Tokens
from domain.integrations.ports import WebhookSender
from domain.integrations.webhooks import WebhookService
from domain.learning.roster import RosterImport
from domain.learning.services import LearningService
from domain.notifications.inbox import InboxService
from domain.notifications.live import CourseFeeds
from domain.notifications.relay import NotificationRelay
from domain.notifications.reminders import REMIND_DUE_SOON, REMIND_EVERY_SECONDS, DueSoonReminders
from domain.notifications.tickets import TicketService
from domain.privacy.erasure import Erasure
from domain.privacy.exports import PRUNE_EVERY_SECONDS, PRUNE_EXPORTS, DataExports
from domain.shared.build import build_info
from domain.shared.clock import Clock, SystemClock
from domain.shared.jobs import JobHandler, JobHandlers
from domain.shared.ports import Cache, JobQueue, KeyValueStore, Mailer, ObjectStorage
from domain.xapi.delivery import XapiDelivery
from domain.xapi.statements import StatementMaker
from lms.settings import Settings, SettingsError

log = logging.getLogger("lms")

# The jobs SAQ's cron runs (each time once, whichever worker enqueues it); the embedded default's
# scheduler runs them in `lms run` instead.
SCHEDULED = {REMIND_DUE_SOON: "* * * * *", PRUNE_EXPORTS: "17 * * * *"}


@dataclass(slots=True, kw_only=True)
class Container:
    settings: Settings
    engine: AsyncEngine
    reads: PreparedReads
    sessions: async_sessionmaker[AsyncSession]
    kv: KeyValueStore
    kv_fallback: KeyValueStore | None
    cache: Cache
    queue: JobQueue
    handlers: JobHandlers
    codec: JwtCodec
    identity: Identity
    catalog: CatalogService
    learning: LearningService
    quizzes: QuizService
    banks: QuestionBankService
    inbox: InboxService
    tickets: TicketService
    attempts: AttemptService
    essays: EssayService
    assignments: AssignmentService
    submissions: SubmissionService
    grading_queue: GradingQueue
    gradebook: GradebookService
    certificates: CertificateService
    xapi: XapiDelivery | None
    badges: OpenBadges
    exports: DataExports
    erasure: Erasure
    orders: OrderService
    roster: RosterImport
    coupons: CouponService
    files: FileService
    analytics: AnalyticsService
    storage: ObjectStorage
    webhooks: WebhookService
    relay: RelayLoop
    live: LiveHub
    course_feeds: CourseFeeds
    reminders: DueSoonReminders
    sender: WebhookSender
    metrics: Metrics

    async def start(self) -> None:
        """What an API process starts: its queue's connection, the live fan-out, and the outbox
        relay (woken by this process's commits, so live clients hear of them at once; with SAQ the
        workers relay too, and each event is claimed by one of them)."""
        if isinstance(self.queue, SaqQueue):
            await self.queue.connect()  # its workers run the scheduled jobs (SCHEDULED)
        elif isinstance(self.queue, InProcessQueue):
            self.queue.every(REMIND_DUE_SOON, REMIND_EVERY_SECONDS)
            self.queue.every(PRUNE_EXPORTS, PRUNE_EVERY_SECONDS)
        await self.live.start()
        self.relay.start()

    async def close(self) -> None:
        await self.relay.stop()
        await self.live.close()
        providers = self.identity.single_sign_on.listed()
        lrs = self.xapi.lrs if self.xapi is not None else None
        for closer in (self.queue, self.kv, self.kv_fallback, self.cache, self.sender, lrs, *providers):
            close = getattr(closer, "close", None)
            if close is not None:
                try:
                    await close()
                except Exception:  # closing must not mask the reason we are closing
                    log.warning("error while closing %s", type(closer).__name__, exc_info=True)
        await self.reads.close()
        await self.engine.dispose()

    async def ping_database(self) -> None:
        """The database, and the queue's PostgreSQL when the queue runs there (it is a database the
        deployment depends on like the other)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        if isinstance(self.queue, SaqQueue) and self.queue.on_postgres:
            await self.queue.ping()

    async def live_connections(self) -> list[Sample]:
        return [("lms_live_connections", {}, float(self.live.open_connections))]

    async def queue_depth(self) -> list[Sample]:
        depth = await self.queue.depth()
        return [("lms_queue_jobs", {"state": state}, float(n)) for state, n in depth.items()]

    async def outbox_backlog(self) -> list[Sample]:
        waiting, oldest = await self.webhooks.store.backlog()
        age = max(0.0, (self.webhooks.clock.now() - oldest).total_seconds()) if oldest is not None else 0.0
        return [("lms_outbox_backlog", {}, float(waiting)), ("lms_outbox_oldest_age_seconds", {}, age)]

    def redis_pings(self) -> list[Any] | None:
        """Ping callables of the configured Redis servers (key-value, and the queue's if separate)."""
        pings = [self.kv.ping] if self.settings.redis_url else []
        queue = self.queue
        if isinstance(queue, SaqQueue) and not queue.on_postgres and self.settings.queue_url != self.settings.redis_url:
            pings.append(queue.ping)
        return pings or None


def build_xapi(
    settings: Settings,
    *,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    queue: JobQueue,
    clock: Clock,
    retention: timedelta | None,
    metrics: Metrics,
) -> XapiDelivery | None:
    """Statements to the LRS when `LMS_XAPI_LRS_URL` is set (API §15.1)."""
    if not settings.xapi_lrs_url:
        return None
    return XapiDelivery(
        store=SqlStatementStore(sessions),
        lrs=HttpxLearningRecordStore(
            settings.xapi_lrs_url, username=settings.xapi_lrs_username, password=settings.xapi_lrs_password
        ),
        maker=StatementMaker(
            names=SqlActivityNames(engine),
            homepage=settings.xapi_homepage or settings.frontend_url,
            frontend_url=settings.frontend_url,
        ),
        queue=queue,
        clock=clock,
        retention=retention,
        meter=metrics,
    )


def build_issuer(settings: Settings) -> Issuer | None:
    """The verifiable-credential issuer: `LMS_CREDENTIAL_SIGNING_KEY`, or outside production a key
    kept in the data dir; None (credentials answer 503) in production without a key or a host."""
    previous = tuple(
        _signer("LMS_CREDENTIAL_SIGNING_KEY_PREVIOUS", pem) for pem in settings.credential_signing_key_previous
    )
    if settings.credential_signing_key:
        signer = _signer("LMS_CREDENTIAL_SIGNING_KEY", settings.credential_signing_key)
    elif settings.is_production:
        return None
    else:
        signer = JoseCredentialSigner.kept_in(settings.data_dir)
    if not settings.public_host:
        return None
    return Issuer(
        host=settings.public_host,
        name=settings.credential_issuer_name,
        signer=signer,
        url=settings.frontend_url,
        previous=previous,
    )


def _signer(variable: str, pem: str) -> JoseCredentialSigner:
    try:
        return JoseCredentialSigner(pem)
    except SigningKeyError as exc:
        raise SettingsError(f"{variable}: {exc}") from None


def build_metrics(settings: Settings, role: str) -> Metrics:
    """The process's metrics: `lms run` shares them among its workers (LMS_METRICS_DIR); an
    `lms worker` answers for itself."""
    return Metrics(share=settings.metrics_dir if role == "api" else None, build={**build_info(), "role": role})


def build_mailer(settings: Settings) -> Mailer:
    if settings.email_backend == "file":
        return FileMailer(settings.mail_dir, settings.email_from)
    if settings.email_backend == "smtp":
        assert settings.smtp_host is not None
        config = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            ssl=settings.smtp_ssl,
        )
        return SmtpMailer(config, settings.email_from)
    return ConsoleMailer(settings.email_from)


def build_payments(settings: Settings) -> tuple[PaymentProvider | None, Provider | None]:
    """Who takes money (API §14): Stripe, an admin marking orders paid, or nobody."""
    if settings.payments_url == "stripe://":
        key, secret = settings.stripe_api_key or "", settings.stripe_webhook_secret or ""  # both checked as read
        stripe = StripePayments(key, secret, settings.stripe_api_base)
        return stripe, Provider.STRIPE
    if settings.payments_url == "manual://":
        return None, Provider.MANUAL
    return None, None


def build_container(
    settings: Settings,
    *,
    hasher: PasswordHasher | None = None,
    clock: Clock | None = None,
    webhook_sender: WebhookSender | None = None,
    role: str = "api",
) -> Container:
    """`role` is `api` or `worker`: what the process's metrics say it is, and whether they are
    shared with the other processes of one `lms run`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    metrics = build_metrics(settings, role)
    engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
    sessions = session_factory(engine)
    reads = PreparedReads(engine, pool_size=settings.db_pool_size)
    metrics.sample(lambda: pool_figures(engine, reads))
    clock = clock or SystemClock()

    kv: KeyValueStore
    fallback: KeyValueStore | None = None
    cache: Cache
    if settings.redis_url:
        kv = RedisKeyValue(settings.redis_url, meter=metrics)
        cache = RedisCache(settings.redis_url, meter=metrics)
        # Outside production the blacklist survives a Redis outage in process memory (API §7.1).
        fallback = None if settings.is_production else MemoryKeyValue()
    else:
        kv = MemoryKeyValue()
        cache = MemoryCache(meter=metrics)

    mailer = build_mailer(settings)
    handlers: dict[str, JobHandler] = {}  # filled below: the webhook job needs the queue it runs on
    queue: JobQueue = (
        SaqQueue(settings.queue_url, meter=metrics) if settings.queue_url else InProcessQueue(handlers, meter=metrics)
    )

    codec = JwtCodec(settings.secret_key, previous=settings.secret_key_previous)
    tokens = Tokens(codec)  # every token the API issues: sign-ins, resets, roster invitations
    policy = IdentityPolicy(
        access_ttl=timedelta(minutes=settings.access_token_expire_minutes),
        refresh_ttl=timedelta(days=settings.refresh_token_expire_days),
        allow_public_role_registration=settings.allow_public_role_registration,
        require_email_verification=settings.require_email_verification,
        refresh_reuse_revokes_session=settings.refresh_reuse_revokes_session,
        frontend_url=settings.frontend_url,
        totp_issuer=settings.totp_issuer,
        login_max_failures=settings.login_max_failures,
        login_lockout=timedelta(seconds=settings.login_lockout_seconds),
    )
    storage = ObstoreStorage(
        settings.storage_url,
        connect_timeout=settings.storage_connect_timeout_seconds,
        timeout=settings.storage_timeout_seconds,
        public_endpoint=settings.storage_public_endpoint,
        meter=metrics,
    )
    webhook_targets = tuple(dict.fromkeys(settings.webhook_urls))
    # Relayed events (and sent statements) are kept this long; None: forever.
    retention = timedelta(days=settings.webhook_retention_days) if settings.webhook_retention_days else None
    # Every event is recorded: the inbox makes notifications of them (API §13), and webhooks, when
    # configured, deliver them.
    uow = SqlUnitOfWorkFactory(sessions, record_events=True)
    live = LiveHub(settings.redis_url, metrics)
    recipients = SqlRecipientReader(engine)  # who hears of what, and which emails each user takes
    sender = webhook_sender or HttpxWebhookSender()
    xapi = build_xapi(
        settings, sessions=sessions, engine=engine, queue=queue, clock=clock, retention=retention, metrics=metrics
    )
    webhooks = WebhookService(
        store=SqlDeliveryStore(engine, sessions, xapi=xapi is not None),
        sender=sender,
        queue=queue,
        clock=clock,
        targets=webhook_targets,
        secret=settings.webhook_secret or "",
        retention=retention,
        meter=metrics,
    )
    users = SqlUserLookup(reads)
    identity = Identity.of(
        IdentityParts(
            uow=uow,
            users=users,
            hasher=hasher or Argon2Hasher(),
            tokens=tokens,
            totp=PyOtpTotp(),
            kv=kv,
            blacklist=TokenBlacklist(kv, fallback),
            queue=queue,
            clock=clock,
            common_passwords=ZxcvbnCommonPasswords(),
            policy=policy,
            live=live,
        ),
        SqlApiKeyLookup(reads, engine),
        providers={
            oidc.name: OidcProvider(
                oidc.name,
                issuer=oidc.issuer,
                client_id=oidc.client_id,
                client_secret=oidc.client_secret,
                scopes=oidc.scopes,
                display_name=oidc.display_name or None,
            )
            for oidc in settings.oidc
        },
        rules={
            oidc.name: ProviderRules(
                allowed_domains=oidc.allowed_domains,
                default_role=Role(oidc.default_role),
                require_local_mfa=oidc.require_local_mfa,
            )
            for oidc in settings.oidc
        },
        redirect_uris=settings.oidc_redirect_uris,
    )
    learning = LearningService(
        uow=uow,
        reader=SqlLearningReader(reads),
        users=users,
        queue=queue,
        clock=clock,
        frontend_url=settings.frontend_url,
        live=live,
        learning_records=xapi is not None,
    )
    quizzes = QuizService(uow=uow, clock=clock, cache=cache, cache_ttl=float(settings.cache_ttl_seconds))
    assignments = AssignmentService(
        uow=uow, clock=clock, upload_extensions=frozenset(settings.allowed_upload_extensions)
    )
    # A lesson whose quiz or assignment is published completes by passing it.
    learning.lesson_gates = [quizzes, assignments]
    certificates = CertificateService(
        uow=uow,
        users=users,
        renderer=WeasyPrintRenderer(),
        storage=storage,
        kv=kv,
        queue=queue,
        clock=clock,
        frontend_url=settings.frontend_url,
    )
    reminders = DueSoonReminders(uow=uow, users=users, queue=queue, clock=clock, frontend_url=settings.frontend_url)
    exports = DataExports(
        uow=uow,
        storage=storage,
        queue=queue,
        archives=ZipArchive,
        clock=clock,
        url_expire_seconds=settings.file_url_expire_seconds,
        certificate_pdf=certificates.pdf_of,
    )
    erasure = Erasure(
        uow=uow,
        lockout=identity.lockout,
        storage=storage,
        queue=queue,
        clock=clock,
        end_live=identity.parts.end_live,
    )
    handlers.update(
        job_handlers(
            mailer,
            choices=recipients,
            webhooks=webhooks,
            certificates=certificates,
            reminders=reminders,
            exports=exports,
            erasure=erasure,
            xapi=xapi,
            meter=metrics,
        )
    )
    learning.completion_listener = certificates  # a completed enrollment gets its certificate at once
    catalog = CatalogService(
        uow=uow,
        reader=SqlCatalogReader(reads),
        cache=cache,
        clock=clock,
        cache_ttl=float(settings.cache_ttl_seconds),
        content=learning,
        lesson_guards=[quizzes],  # a lesson whose quiz has attempts stays
        default_currency=settings.default_currency,
    )
    payments, provider = build_payments(settings)
    container = Container(
        settings=settings,
        engine=engine,
        reads=reads,
        sessions=sessions,
        kv=kv,
        kv_fallback=fallback,
        cache=cache,
        queue=queue,
        handlers=handlers,
        codec=codec,
        identity=identity,
        catalog=catalog,
        learning=learning,
        quizzes=quizzes,
        banks=QuestionBankService(uow=uow, clock=clock),
        inbox=InboxService(uow=uow, clock=clock),
        tickets=TicketService(kv=kv),
        attempts=AttemptService(uow=uow, learning=learning, clock=clock),
        essays=EssayService(uow=uow, learning=learning, clock=clock),
        assignments=assignments,
        grading_queue=GradingQueue(uow=uow),
        gradebook=GradebookService(reader=SqlGradebookReader(engine, reads), clock=clock),
        submissions=SubmissionService(
            uow=uow,
            learning=learning,
            users=users,
            queue=queue,
            clock=clock,
            frontend_url=settings.frontend_url,
        ),
        certificates=certificates,
        exports=exports,
        erasure=erasure,
        badges=OpenBadges(
            uow=uow,
            certificates=certificates,
            users=users,
            clock=clock,
            issuer=build_issuer(settings),
            frontend_url=settings.frontend_url,
        ),
        orders=OrderService(
            uow=uow,
            users=users,
            queue=queue,
            clock=clock,
            payments=payments,
            provider=provider,
            frontend_url=settings.frontend_url,
        ),
        coupons=CouponService(uow=uow, clock=clock),
        roster=RosterImport(uow=uow, tokens=tokens, queue=queue, clock=clock, frontend_url=settings.frontend_url),
        files=FileService(
            storage=storage,
            files=SqlFileRepository(engine),
            clock=clock,
            max_mb=settings.max_upload_mb,
            allowed_extensions=frozenset(settings.allowed_upload_extensions),
            url_expire_seconds=settings.file_url_expire_seconds,
        ),
        analytics=AnalyticsService(
            reader=SqlAnalyticsReader(reads), clock=clock, cache=cache, cache_ttl=settings.analytics_cache_ttl_seconds
        ),
        storage=storage,
        webhooks=webhooks,
        xapi=xapi,
        relay=RelayLoop(
            webhooks,
            NotificationRelay(feed=SqlNotificationFeed(sessions), reader=recipients, clock=clock, live=live),
            xapi=xapi,
            # SQLite has one writer: a round right behind each commit would make the next request
            # wait for it, so a burst of commits is gathered into one round first.
            poke_delay=0.02 if settings.database_url.startswith("postgresql") else 0.5,
        ),
        live=live,
        course_feeds=CourseFeeds(recipients),
        reminders=reminders,
        sender=sender,
        metrics=metrics,
    )
    metrics.probe(container.queue_depth)
    metrics.probe(container.live_connections)
    metrics.probe(container.outbox_backlog)
    uow.on_events = container.relay.poke
    return container
