"""Export of a person's data (API §15.3): requested, built into a ZIP by a job, downloaded until
it expires, then deleted."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from domain.files.model import attachment
from domain.identity.administration import USER_NOT_FOUND
from domain.identity.model import Role, User
from domain.integrations.audit import audit_entry
from domain.privacy.model import EXPORT_LIFETIME, DataExport, ExportStatus
from domain.privacy.ports import ArchiveFactory, PrivacyUnitOfWorkFactory
from domain.shared.clock import Clock, iso
from domain.shared.downloads import Served, serve
from domain.shared.errors import Conflict, Forbidden, NotFound
from domain.shared.ids import new_id
from domain.shared.ports import JobQueue, ObjectMissing, ObjectStorage, StorageUnavailable

EXPORT_PERSONAL_DATA = "export_personal_data"
PRUNE_EXPORTS = "prune_exports"
PRUNE_EVERY_SECONDS = 3600
# A pending export older than this lost its job (whose retries span about an hour).
STALE_AFTER = timedelta(hours=2)
EXPORT_NOT_FOUND = "Export not found"
EXPORT_NOT_READY = "Export is not ready"
EXPORT_EXPIRED = "Export has expired"
ONLY_ADMINS_EXPORT = "Only admins can export another user's data"
USER = "user"  # the audit log's subject type
log = logging.getLogger("lms.privacy")

README = """This archive holds what the platform keeps about you, as of {when}.

profile.json      your account (without your password or MFA secret)
<table>.json      one file per kind of record: enrollments, lesson progress, quiz attempts with
                  their answers, assignment submissions, certificates, orders, notifications,
                  sign-in sessions, linked identities, API keys (without their secrets), and the
                  audit lines about you or your actions
files/            the files you uploaded
certificates/     your certificates as PDF

Times are UTC (ISO 8601); ids are UUIDs.
"""


@dataclass(frozen=True, slots=True)
class ExportDownload:
    filename: str
    served: Served


def export_key(export: DataExport) -> str:
    return f"exports/{export.user_id}/{export.id}.zip"


@dataclass(slots=True)
class DataExports:
    uow: PrivacyUnitOfWorkFactory
    storage: ObjectStorage
    queue: JobQueue
    archives: ArchiveFactory
    clock: Clock
    url_expire_seconds: int = 900
    # A certificate's PDF, rendered and stored now if its job has not run yet (credentials).
    certificate_pdf: Callable[[UUID], Awaitable[bytes]] | None = None

    @staticmethod
    def _target(actor: User, user_id: UUID | None) -> UUID:
        if user_id is None or user_id == actor.id:
            return actor.id
        if actor.role is not Role.ADMIN:
            raise Forbidden(ONLY_ADMINS_EXPORT)
        return user_id

    async def request(self, actor: User, user_id: UUID | None = None) -> DataExport:
        """Start an export of the caller's data (or, for admins, anyone's): the job builds it."""
        target = self._target(actor, user_id)
        now = self.clock.now()
        export = DataExport(
            id=new_id(), user_id=target, requested_by=actor.id, status=ExportStatus.PENDING, created_at=now
        )
        async with self.uow() as uow:
            if await uow.users.get(target) is None:
                raise NotFound(USER_NOT_FOUND)
            await uow.exports.add(export)
            await uow.audit.add(audit_entry("data_export_requested", USER, target, actor, now, export_id=export.id))
            await uow.commit()
        await self.queue.enqueue(EXPORT_PERSONAL_DATA, {"export_id": str(export.id)})
        return export

    async def get(self, actor: User, export_id: UUID, user_id: UUID | None = None) -> DataExport:
        """An export of the caller (or, for admins on the admin route, of `user_id`): another's is not found."""
        target = self._target(actor, user_id)
        async with self.uow() as uow:
            export = await uow.exports.get(export_id)
        if export is None or export.user_id != target:
            raise NotFound(EXPORT_NOT_FOUND)
        return export

    def downloadable(self, export: DataExport) -> bool:
        return export.downloadable(self.clock.now())

    async def download(self, actor: User, export_id: UUID, user_id: UUID | None = None) -> ExportDownload:
        export = await self.get(actor, export_id, user_id)
        now = self.clock.now()
        if export.status is not ExportStatus.READY or export.storage_key is None or export.expires_at is None:
            raise Conflict(EXPORT_NOT_READY)
        if not export.downloadable(now):
            raise NotFound(EXPORT_EXPIRED)
        filename = f"personal-data-{export.created_at:%Y%m%d}-{str(export.id)[:8]}.zip"
        left = int((export.expires_at - now).total_seconds())
        expires_in = max(1, min(self.url_expire_seconds, left))
        return ExportDownload(
            filename, await serve(self.storage, export.storage_key, expires_in, missing=EXPORT_EXPIRED)
        )

    # ----- the jobs

    async def build(self, export_id: UUID) -> None:
        """The job: gather, write the ZIP to storage, mark the export ready. A run that finds it
        no longer pending does nothing; a storage outage is retried (the job fails), any other
        error marks the export failed."""
        async with self.uow() as uow:
            export = await uow.exports.get(export_id)
            if export is None or export.status is not ExportStatus.PENDING:
                return
            records = await uow.personal_data.of_person(export.user_id)
        key = export_key(export)
        try:
            archive = self.archives()
            try:
                archive.add_bytes("README.txt", README.format(when=iso(self.clock.now())).encode())
                for table, rows in records.tables.items():
                    archive.add_json(f"{table}.json", rows)
                for stored in records.objects:
                    try:
                        await archive.add_stream(stored.name, await self.storage.open(stored.key))
                    except ObjectMissing:
                        if stored.certificate_id is not None and self.certificate_pdf is not None:
                            archive.add_bytes(stored.name, await self.certificate_pdf(stored.certificate_id))
                name = f"personal-data-{export.created_at:%Y%m%d}.zip"
                await self.storage.put(key, archive.chunks(), "application/zip", disposition=attachment(name))
            finally:
                archive.close()
        except StorageUnavailable:
            raise  # the queue retries
        except Exception as exc:
            log.exception("export %s failed", export_id)
            await self._finish(export_id, ExportStatus.FAILED, error=type(exc).__name__)
            return
        await self._finish(export_id, ExportStatus.READY, key=key)

    async def _finish(
        self, export_id: UUID, status: ExportStatus, *, key: str | None = None, error: str | None = None
    ) -> None:
        now = self.clock.now()
        async with self.uow() as uow:
            export = await uow.exports.get(export_id, lock=True)
            if export is None or export.status is not ExportStatus.PENDING:
                return  # erased meanwhile, or another run finished it
            export.status = status
            export.storage_key = key
            export.error = error
            if status is ExportStatus.READY:
                export.ready_at = now
                export.expires_at = now + EXPORT_LIFETIME
            await uow.exports.save(export)
            await uow.commit()

    async def prune(self, batch: int = 100) -> int:
        """The scheduled job: expired exports' ZIPs and records are deleted, and an export still
        pending after its job's retries would have ended (its job was lost) is queued again."""
        async with self.uow() as uow:
            stale = await uow.exports.stale(self.clock.now() - STALE_AFTER, batch)
        for export in stale:
            await self.queue.enqueue(EXPORT_PERSONAL_DATA, {"export_id": str(export.id)})
        pruned = 0
        while True:
            async with self.uow() as uow:
                expired = await uow.exports.expired(self.clock.now(), batch)
            for export in expired:
                if export.storage_key:
                    await self.storage.delete(export.storage_key)
                async with self.uow() as uow:
                    await uow.exports.delete(export.id)
                    await uow.commit()
            pruned += len(expired)
            if len(expired) < batch:
                return pruned
