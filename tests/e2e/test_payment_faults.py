"""Payment faults on real processes (`lms run` on PostgreSQL, a local Stripe-compatible server that
delivers its own signed events to the API): the API killed between the provider's confirmation and
the enrollment, then the provider's retry of that event, enrolls exactly once; the provider down
while ordering answers `503` and leaves no order behind."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import Client, admin_of, crash, lms_env, start_api, stop, wait_for
from tests.e2e.test_idempotent_retries import lock_waiters, query, tables_locked
from tests.support.databases import PostgresDatabases
from tests.support.payments import API_KEY, buyer_pays, signed
from tests.support.servers import LocalStripeServer, free_port

HOOK = "/api/v1/payments/stripe/webhook"


def _succeeded_event(stripe: LocalStripeServer, reference: str) -> dict[str, object]:
    """The provider's own `payment_intent.succeeded` event for the payment, as it keeps it."""
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=stripe.url, headers=auth) as client:
        r = client.get("/v1/events", params={"type": "payment_intent.succeeded", "limit": 100})
        assert r.status_code == 200, r.text
    (event,) = [e for e in r.json()["data"] if e["data"]["object"]["id"] == reference]
    return dict(event)


def test_the_api_killed_before_the_enrollment_commits_then_the_retried_event_enrolls_once(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    database = asyncio.run(postgres_databases.create())
    stripe = LocalStripeServer.start()
    secret = "whsec_" + secrets.token_hex(16)
    port = free_port()
    env = lms_env(
        tmp_path,
        LMS_DATABASE_URL=database,
        LMS_PAYMENTS_URL="stripe://",
        LMS_STRIPE_API_KEY=API_KEY,
        LMS_STRIPE_WEBHOOK_SECRET=secret,
        LMS_STRIPE_API_BASE=stripe.url,
    )
    api, base = start_api(env, port=port)
    try:
        # The provider delivers its events to the API itself, signed with the endpoint's secret.
        r = httpx.post(f"{stripe.url}/_config/webhooks/api", data={"url": f"{base}{HOOK}", "secret": secret})
        assert r.status_code == 200, r.text
        client = Client(base)
        admin = admin_of(client, env, "pay-admin@example.com")
        student = client.student("pay-student@example.com")
        course = client.call("POST", "/courses", admin, 201, title="Paid and killed", price="25.00")
        client.call("POST", f"/courses/{course['id']}/lessons", admin, 201, title="One", lesson_type="text")
        client.call("POST", f"/courses/{course['id']}/publish", admin, 200)
        order = client.call("POST", "/orders", student, 201, course_id=course["id"])
        (row,) = query(database, f"SELECT reference FROM orders WHERE id = '{order['id']}'")
        reference = str(row["reference"])

        # The buyer pays; the provider's event reaches the API, which dies while its transaction
        # (the processed event, the order, the enrollment) waits on the enrollments table.
        with tables_locked(database, "enrollments"):
            asyncio.run(buyer_pays(stripe.url, reference))
            wait_for(lambda: lock_waiters(database) >= 1, timeout=30, what="the event's transaction to wait")
            crash(api)
        assert query(database, "SELECT count(*) FROM payment_events")[0][0] == 0  # nothing committed
        assert query(database, f"SELECT status FROM orders WHERE id = '{order['id']}'")[0][0] == "pending"
        assert query(database, "SELECT count(*) FROM enrollments")[0][0] == 0

        # The provider retries the same event (signed anew, as Stripe does), twice for good measure.
        api, base = start_api(env, port=port)
        body = json.dumps(_succeeded_event(stripe, reference)).encode()
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(2):
                r = http.post(HOOK, content=body, headers={"Stripe-Signature": signed(secret, body, int(time.time()))})
                assert r.status_code == 200, r.text
        client = Client(base)
        shown = client.call("GET", f"/orders/{order['id']}", client.login("pay-student@example.com"), 200)
        assert shown["status"] == "paid"
        assert query(database, "SELECT count(*) FROM enrollments")[0][0] == 1
        assert query(database, "SELECT count(*) FROM outbox_events WHERE type = 'order.paid'")[0][0] == 1
        assert query(database, "SELECT count(*) FROM outbox_events WHERE type = 'enrollment.created'")[0][0] == 1

        # The provider down while ordering: 503, and no order for that course.
        other = client.call("POST", "/courses", admin, 201, title="Paid while down", price="9.00")
        client.call("POST", f"/courses/{other['id']}/lessons", admin, 201, title="One", lesson_type="text")
        client.call("POST", f"/courses/{other['id']}/publish", admin, 200)
        stripe.stop()
        student = client.login("pay-student@example.com")
        r = client.http.post("/orders", json={"course_id": other["id"]}, headers=student)
        assert r.status_code == 503, r.text
        assert query(database, f"SELECT count(*) FROM orders WHERE course_id = '{other['id']}'")[0][0] == 0
    finally:
        stop(api)
        stripe.stop()
