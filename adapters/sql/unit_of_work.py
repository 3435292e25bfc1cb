"""A unit of work: one session and transaction over every repository; leaving without commit rolls back."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sql.assessment_repositories import SqlAttemptRepository, SqlQuestionRepository, SqlQuizRepository
from adapters.sql.assignments_repositories import (
    SqlAssignmentRepository,
    SqlSubmissionFiles,
    SqlSubmissionRepository,
)
from adapters.sql.catalog_repositories import SqlCourseRepository, SqlLessonRepository
from adapters.sql.commerce_repositories import SqlCouponRepository, SqlOrderRepository, SqlProcessedEvents
from adapters.sql.credentials_repositories import SqlCertificateRepository
from adapters.sql.identity_repositories import (
    SqlApiKeyRepository,
    SqlConsumedTokenRepository,
    SqlLinkedIdentityRepository,
    SqlRecoveryCodeRepository,
    SqlRefreshSessionRepository,
    SqlUserRepository,
)
from adapters.sql.integrations import SqlAuditLog, SqlOutbox
from adapters.sql.learning_repositories import SqlEnrollmentRepository, SqlProgressRepository
from adapters.sql.notification_repositories import (
    SqlNotificationRepository,
    SqlPreferenceRepository,
    SqlReminderRepository,
)
from adapters.sql.personal_data import SqlPersonalData
from adapters.sql.privacy_repositories import SqlExportRepository
from adapters.sql.question_bank_repositories import SqlQuestionBankRepository


class SqlUnitOfWork:
    users: SqlUserRepository
    refresh_sessions: SqlRefreshSessionRepository
    consumed_tokens: SqlConsumedTokenRepository
    recovery_codes: SqlRecoveryCodeRepository
    api_keys: SqlApiKeyRepository
    identities: SqlLinkedIdentityRepository
    courses: SqlCourseRepository
    lessons: SqlLessonRepository
    enrollments: SqlEnrollmentRepository
    progress: SqlProgressRepository
    quizzes: SqlQuizRepository
    questions: SqlQuestionRepository
    attempts: SqlAttemptRepository
    banks: SqlQuestionBankRepository
    notifications: SqlNotificationRepository
    preferences: SqlPreferenceRepository
    reminders: SqlReminderRepository
    assignments: SqlAssignmentRepository
    submissions: SqlSubmissionRepository
    submission_files: SqlSubmissionFiles
    certificates: SqlCertificateRepository
    orders: SqlOrderRepository
    coupons: SqlCouponRepository
    payment_events: SqlProcessedEvents
    personal_data: SqlPersonalData
    exports: SqlExportRepository
    outbox: SqlOutbox
    audit: SqlAuditLog

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        record_events: bool,
        on_events: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._record_events = record_events
        self._on_events = on_events
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        self._session = session = self._sessions()
        self.users = SqlUserRepository(session)
        self.refresh_sessions = SqlRefreshSessionRepository(session)
        self.consumed_tokens = SqlConsumedTokenRepository(session)
        self.recovery_codes = SqlRecoveryCodeRepository(session)
        self.api_keys = SqlApiKeyRepository(session)
        self.identities = SqlLinkedIdentityRepository(session)
        self.courses = SqlCourseRepository(session)
        self.lessons = SqlLessonRepository(session)
        self.enrollments = SqlEnrollmentRepository(session)
        self.progress = SqlProgressRepository(session)
        self.quizzes = SqlQuizRepository(session)
        self.questions = SqlQuestionRepository(session)
        self.attempts = SqlAttemptRepository(session)
        self.banks = SqlQuestionBankRepository(session)
        self.notifications = SqlNotificationRepository(session)
        self.preferences = SqlPreferenceRepository(session)
        self.reminders = SqlReminderRepository(session)
        self.assignments = SqlAssignmentRepository(session)
        self.submissions = SqlSubmissionRepository(session)
        self.submission_files = SqlSubmissionFiles(session)
        self.certificates = SqlCertificateRepository(session)
        self.orders = SqlOrderRepository(session)
        self.coupons = SqlCouponRepository(session)
        self.payment_events = SqlProcessedEvents(session)
        self.personal_data = SqlPersonalData(session)
        self.exports = SqlExportRepository(session)
        self.outbox = SqlOutbox(session, enabled=self._record_events)
        self.audit = SqlAuditLog(session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._session is not None
        try:
            await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()
        if self.outbox.recorded and self._on_events is not None:
            self.outbox.recorded = False
            self._on_events()


class SqlUnitOfWorkFactory:
    """`record_events`: whether the outbox keeps events. `on_events` is called after a commit that
    recorded some (it wakes the process's outbox relay)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, record_events: bool = False) -> None:
        self._sessions = sessions
        self._record_events = record_events
        self.on_events: Callable[[], None] | None = None

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, record_events=self._record_events, on_events=self.on_events)
