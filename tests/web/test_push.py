"""Web Push reminders: subscribe through the API, then the server's real sending path
(pywebpush: aes128gcm encryption, VAPID signature) against a local receiving endpoint that
decrypts what it got, as a browser's push service and browser would."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import os
import threading
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from benzotaper.storage import Database
from benzotaper.web import clock, push
from benzotaper.web.settings import WebSettings

from .conftest import PASSWORD, Visitor

TZ = "America/New_York"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Receiver(http.server.BaseHTTPRequestHandler):
    """A push service stand-in: records each POST; answers with ``status`` (201 or 410)."""

    got: list[dict[str, Any]]
    status = 201

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.append(
            {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        )
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Handler", (Receiver,), {"got": [], "status": 201})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # a free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()  # the listening socket


def browser_keys() -> tuple[ec.EllipticCurvePrivateKey, bytes, dict[str, str]]:
    """What a browser makes for a subscription: a P-256 key pair and an auth secret."""
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return key, auth, {"p256dh": b64url(public), "auth": b64url(auth)}


@pytest.mark.both_backends
def test_due_reminder_is_encrypted_signed_and_sent_once(
    visitor: Visitor, settings: WebSettings, receiver: tuple[str, type[Receiver]]
) -> None:
    base, handler = receiver
    body = {"email": "push@example.org", "password": PASSWORD, "time_zone": TZ}
    assert visitor.api("POST", "/api/users", json=body).status_code == 201
    day = clock.today_in(TZ)
    request = {
        "regimen": [{"drug": "diazepam", "mg": 10, "time": "08:00"}],
        "person": {"age": 45, "years_on_drug": 3},
        "preferences": {"start": (day - dt.timedelta(days=3)).isoformat()},
    }
    assert visitor.api("POST", "/api/plans", json={"request": request}).status_code == 201
    key, auth, keys = browser_keys()
    sub = {"endpoint": f"{base}/push/abc", "keys": keys}
    r = visitor.api("POST", "/api/push/subscriptions", json=sub)
    assert r.status_code == 201 and r.json() == {"subscriptions": 1}
    public = visitor.client.get("/api/push/key").json()["public_key"]

    db = Database(settings.database_url)
    vapid = push.keys(db)
    assert vapid.public_key == public
    eight_oh_five = dt.datetime.combine(day, dt.time(8, 5), ZoneInfo(TZ))
    too_early = eight_oh_five - dt.timedelta(minutes=10)
    assert push.send_due(db, too_early, vapid, "mailto:test@example.org") == 0
    assert push.send_due(db, eight_oh_five, vapid, "mailto:test@example.org") == 1
    assert push.send_due(db, eight_oh_five, vapid, "mailto:test@example.org") == 0  # once
    assert len(handler.got) == 1
    got = handler.got[0]
    assert got["path"] == "/push/abc" and got["headers"]["content-encoding"] == "aes128gcm"
    assert got["headers"]["authorization"].startswith("vapid t=")
    assert f"k={public}" in got["headers"]["authorization"]
    message = json.loads(http_ece.decrypt(got["body"], private_key=key, auth_secret=auth))
    assert message["title"] == "08:00 dose" and message["url"] == "/today"
    assert "tablet" in message["body"] and "diazepam" not in message["body"].lower()

    # A push service that says the subscription is gone: it is forgotten.
    handler.status = 410
    assert push.send(db, 1, message, vapid, "mailto:test@example.org") == 0
    assert push.subscription_count(db, 1) == 0
    db.dispose()


def test_subscriptions_need_a_patient_and_usable_keys(visitor: Visitor) -> None:
    sub = {"endpoint": "https://push.example.org/x", "keys": browser_keys()[2]}
    assert visitor.api("POST", "/api/push/subscriptions", json=sub).status_code == 401
    body = {"email": "push2@example.org", "password": PASSWORD}
    assert visitor.api("POST", "/api/users", json=body).status_code == 201
    bad = {"endpoint": "ftp://x.example.org/x", "keys": browser_keys()[2]}
    assert visitor.api("POST", "/api/push/subscriptions", json=bad).status_code == 422
    assert visitor.api("POST", "/api/push/subscriptions", json=sub).status_code == 201
    r = visitor.api("POST", "/api/push/unsubscribe", json={"endpoint": sub["endpoint"]})
    assert r.json() == {"subscriptions": 0}


def test_push_reads_do_not_wait_for_a_writer(visitor: Visitor, settings: WebSettings) -> None:
    """The key, the subscription count and the due reminders are read in read-only
    transactions: a writer holding SQLite's lock does not hold them up (issue 13)."""
    import time

    from tests.locks import writer_holding_the_lock

    body = {"email": "reads@example.org", "password": PASSWORD, "time_zone": TZ}
    user_id = visitor.api("POST", "/api/users", json=body).json()["user"]["id"]
    _, _, keys = browser_keys()
    sub = {"endpoint": "https://push.example.org/x", "keys": keys}
    assert visitor.api("POST", "/api/push/subscriptions", json=sub).status_code == 201
    db = Database(settings.database_url)
    vapid = push.keys(db)  # made (written) once, before the writer holds the lock
    try:
        with writer_holding_the_lock(db):
            started = time.monotonic()
            assert push.keys(db) == vapid
            assert push.subscription_count(db, user_id) == 1
            assert push.due_reminders(db, dt.datetime.now(dt.UTC)) == []  # no plan saved
            assert time.monotonic() - started < 5  # a write transaction would wait for the lock
    finally:
        db.dispose()
