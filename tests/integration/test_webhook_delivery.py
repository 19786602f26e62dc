"""Webhook deliveries against a real HTTP server on loopback (allowed for tests only):
signed bodies, retries with backoff on 5xx, permanent failure on 4xx, refusal at delivery."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine

from riskreg.notifications.models import WebhookDelivery
from riskreg.notifications.services.scan import notifications_scan
from riskreg.notifications.services.webhooks import (
    webhook_create,
    webhook_deliver,
    webhook_deliveries_sweep,
)
from riskreg.notifications.tasks import webhook_deliver_task
from riskreg.risks.services import register
from tests.conftest import Tenant

NOW = datetime(2026, 11, 10, 9, tzinfo=UTC)


@dataclass
class Receiver:
    """A tiny webhook receiver: answers with the queued statuses (then 200), keeps requests."""

    url: str
    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/riskreg?team=ai")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def loopback_allowed(settings: Any) -> None:
    settings.RISKREG_WEBHOOK_ALLOW_PRIVATE = True


def _delivery(tenant: Tenant, url: str) -> tuple[WebhookDelivery, str]:
    """A webhook to url, a proposed risk, and the scan that records its delivery."""
    _, secret = webhook_create(actor=tenant.actor, url=url, kinds=["risk.proposed"])
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        register.risk_create(
            actor=tenant.actor, title="Proxy bias", statement="Postcodes.", category="fairness"
        )
    with time_machine.travel(NOW, tick=False):
        notifications_scan()
    return WebhookDelivery.objects.get(), secret


@pytest.mark.usefixtures("loopback_allowed")
def test_a_delivery_carries_a_signature_that_verifies_with_hmac(
    acme: Tenant, receiver: Receiver
) -> None:
    delivery, secret = _delivery(acme, receiver.url)

    with time_machine.travel(NOW, tick=False):
        assert webhook_deliver_task(delivery.pk) == "sent"

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/riskreg?team=ai"
    signed = headers["X-Riskreg-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Riskreg-Signature"], expected)
    assert headers["X-Riskreg-Timestamp"] == str(int(NOW.timestamp()))
    assert headers["X-Riskreg-Event"] == "risk.proposed"
    assert headers["X-Riskreg-Delivery"] == str(delivery.uid)
    assert headers["Content-Type"] == "application/json"
    document = json.loads(body)
    assert body == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert document["object"]["label"] == "RSK-001"
    assert document["organisation"] == "acme"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("sent", 1, 200)


@pytest.mark.usefixtures("loopback_allowed")
def test_a_server_error_is_retried_with_backoff_and_a_later_success_marks_it_sent(
    acme: Tenant, receiver: Receiver
) -> None:
    delivery, _ = _delivery(acme, receiver.url)
    receiver.statuses = [500, 503]

    with time_machine.travel(NOW, tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "pending"
        assert webhook_deliver(delivery_id=delivery.pk) == "skipped"  # not due yet
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
    assert (delivery.attempts, delivery.response_status) == (1, 500)
    assert delivery.last_error.startswith("HTTP 500")

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == NOW + timedelta(minutes=3)  # then two minutes

    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert len(receiver.requests) == 3
    assert len({r["headers"]["X-Riskreg-Delivery"] for r in receiver.requests}) == 1


@pytest.mark.usefixtures("loopback_allowed")
def test_a_delivery_fails_for_good_after_the_last_attempt(
    acme: Tenant, receiver: Receiver, settings: Any
) -> None:
    settings.RISKREG_WEBHOOK_MAX_ATTEMPTS = 2
    delivery, _ = _delivery(acme, receiver.url)
    receiver.statuses = [429, 502]

    with time_machine.travel(NOW, tick=False):
        webhook_deliver(delivery_id=delivery.pk)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 2, 502)


@pytest.mark.usefixtures("loopback_allowed")
def test_a_client_error_fails_the_delivery_permanently(acme: Tenant, receiver: Receiver) -> None:
    delivery, _ = _delivery(acme, receiver.url)
    receiver.statuses = [400]

    with time_machine.travel(NOW, tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert webhook_deliveries_sweep() == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == ("failed", 400)
    assert len(receiver.requests) == 1


def test_a_private_address_is_refused_at_delivery_without_connecting(
    acme: Tenant, receiver: Receiver, settings: Any
) -> None:
    settings.RISKREG_WEBHOOK_ALLOW_PRIVATE = True
    delivery, _ = _delivery(acme, receiver.url)
    settings.RISKREG_WEBHOOK_ALLOW_PRIVATE = False  # as if the address changed since

    with time_machine.travel(NOW, tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert delivery.last_error.startswith("address refused")
    assert receiver.requests == []


@pytest.mark.usefixtures("loopback_allowed")
def test_a_refused_connection_is_retried(acme: Tenant, receiver: Receiver) -> None:
    closed = receiver.url.replace(receiver.url.split(":")[2].split("/")[0], "1")  # port 1
    delivery, _ = _delivery(acme, closed)

    with time_machine.travel(NOW, tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "pending"

    delivery.refresh_from_db()
    assert delivery.last_error.startswith("network error")
    assert delivery.response_status is None


@pytest.mark.usefixtures("loopback_allowed")
def test_the_sweep_requeues_due_deliveries_and_a_lost_try_after_its_lease(
    acme: Tenant, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    delivery, _ = _delivery(acme, receiver.url)
    # A worker claimed the delivery and died: the lease holds it for two minutes.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=1, next_attempt_at=NOW + timedelta(minutes=2)
    )

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        assert webhook_deliveries_sweep() == 0
    with (
        time_machine.travel(NOW + timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=False) as queued,
    ):
        assert webhook_deliveries_sweep() == 1

    assert len(queued) == 1


def test_recording_a_notification_queues_its_delivery_after_commit(
    acme: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    webhook_create(actor=acme.actor, url="https://93.184.216.34/hook")
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        register.risk_create(
            actor=acme.actor, title="Proxy bias", statement="Postcodes.", category="fairness"
        )

    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=False) as queued,
    ):
        notifications_scan()

    assert len(queued) == 1
    assert WebhookDelivery.objects.get().status == "pending"
