"""The job handlers, keyed by the job names the domain queues."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.credentials.services import RENDER_CERTIFICATE, CertificateService
from domain.integrations.webhooks import DELIVER_WEBHOOK, WebhookService
from domain.notifications.reminders import REMIND_DUE_SOON, DueSoonReminders
from domain.privacy.erasure import DELETE_STORED_OBJECTS, Erasure
from domain.privacy.exports import EXPORT_PERSONAL_DATA, PRUNE_EXPORTS, DataExports
from domain.shared.jobs import SEND_EMAIL, JobHandlers, email_from_payload, email_switch
from domain.shared.ports import EmailChoices, Mailer
from domain.shared.telemetry import Meter
from domain.xapi.delivery import SEND_STATEMENTS, XapiDelivery


def job_handlers(
    mailer: Mailer,
    *,
    choices: EmailChoices,
    webhooks: WebhookService,
    certificates: CertificateService,
    reminders: DueSoonReminders,
    exports: DataExports,
    erasure: Erasure,
    xapi: XapiDelivery | None,
    meter: Meter,
) -> JobHandlers:
    sent = meter.counter("lms_emails", outcome="sent")
    failed = meter.counter("lms_emails", outcome="failed")

    async def send_email(payload: dict[str, Any]) -> None:
        switch = email_switch(payload)
        if switch is not None and not await choices.wants_email(*switch):
            return  # switched off (API §13): nothing to send
        try:
            await mailer.send(email_from_payload(payload))
        except Exception:
            failed.inc()  # this attempt; the queue retries it
            raise
        sent.inc()

    async def deliver_webhook(payload: dict[str, Any]) -> None:
        await webhooks.deliver(UUID(payload["delivery_id"]), UUID(payload["claim_id"]))

    async def render_certificate(payload: dict[str, Any]) -> None:
        await certificates.render_stored(UUID(payload["enrollment_id"]))

    async def remind_due_soon(payload: dict[str, Any]) -> None:
        await reminders.remind_once()

    async def export_personal_data(payload: dict[str, Any]) -> None:
        await exports.build(UUID(payload["export_id"]))

    async def prune_exports(payload: dict[str, Any]) -> None:
        await exports.prune()

    async def delete_stored_objects(payload: dict[str, Any]) -> None:
        await erasure.delete_stored([str(key) for key in payload["keys"]])

    async def send_xapi_statements(payload: dict[str, Any]) -> None:
        if xapi is not None:  # a job queued while an LRS was configured, run after it no longer is
            await xapi.send(UUID(payload["claim_id"]))

    return {
        SEND_STATEMENTS: send_xapi_statements,
        SEND_EMAIL: send_email,
        EXPORT_PERSONAL_DATA: export_personal_data,
        PRUNE_EXPORTS: prune_exports,
        DELETE_STORED_OBJECTS: delete_stored_objects,
        DELIVER_WEBHOOK: deliver_webhook,
        RENDER_CERTIFICATE: render_certificate,
        REMIND_DUE_SOON: remind_due_soon,
    }
