"""A test EHR made from well-kept parts: Flask, Authlib's OAuth 2 authorization server (with
PKCE, RFC 7636) and resource protector, and a FHIR R4 endpoint serving a fixed patient.

It plays the clinic's system end to end: a chart page that calls benzotaper's CDS Hooks
service and shows its cards, SMART App Launch (EHR launch with a ``launch`` id, or standalone)
with an approval page, and a FHIR API that records the MedicationRequests posted back.
Nothing here is benzotaper code: only what an EHR would do, kept small.
"""

from __future__ import annotations

import html
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from tests.ehr.samples import PATIENT_ID, bundle, lorazepam_request, patient

READ_SCOPES = "launch launch/patient openid fhirUser patient/Patient.r patient/MedicationRequest.rs patient/Condition.rs"  # noqa: E501
WRITE_SCOPE = "patient/MedicationRequest.c"


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    redirect_uris: list[str]
    scope: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in self.scope.split())

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # a public client (PKCE instead of a secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    patient: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token:
    access_token: str
    scope: str
    patient: str
    issued: float = field(default_factory=time.time)

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() > self.issued + 3600

    def is_revoked(self) -> bool:
        return False


@dataclass
class State:
    """What the EHR holds: clients, codes, tokens, launches, and the orders posted to it."""

    base: str = ""
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    launches: dict[str, str] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)
    cds_cards: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)


def _grant(state: State) -> type[grants.AuthorizationCodeGrant]:
    class Grant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["none"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = req.payload.data
            if data.get("aud") != f"{state.base}/fhir":
                raise InvalidRequestError("aud must be this EHR's FHIR base URL")
            launch = data.get("launch")
            if launch is not None and launch not in state.launches:
                raise InvalidRequestError("unknown launch")
            state.codes[code] = Code(
                code, req.client.client_id, req.payload.redirect_uri, req.scope or "",
                state.launches.get(launch or "", PATIENT_ID),
                data.get("code_challenge"), data.get("code_challenge_method"),
            )  # fmt: skip

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = state.codes.get(code)
            return found if found and found.client_id == client.client_id else None

        def delete_authorization_code(self, code: Code) -> None:
            state.codes.pop(code.code, None)

        def authenticate_user(self, code: Code) -> dict[str, str]:
            return {"patient": code.patient}

    return Grant


def _keep(state: State, token: dict[str, Any]) -> None:
    state.tokens[token["access_token"]] = Token(
        token["access_token"], token.get("scope", ""), token["patient"]
    )


def _keep(state: State, token: dict[str, Any]) -> None:
    state.tokens[token["access_token"]] = Token(
        token["access_token"], token.get("scope", ""), token["patient"]
    )


def create_ehr(state: State, benzotaper: str) -> Flask:
    app = Flask("test-ehr")
    server = AuthorizationServer(
        app,
        query_client=lambda cid: state.clients.get(cid),
        save_token=lambda token, req: _keep(state, token),
    )

    def generate(
        grant_type: str, client: Client, user: Any = None, scope: Any = None, **_: Any
    ) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "access_token": secrets.token_urlsafe(24),
            "expires_in": 3600,
            "scope": scope or "",
            "patient": user["patient"],
        }

    server.register_token_generator("default", generate)
    server.register_grant(_grant(state), [CodeChallenge(required=True)])

    class Validator(BearerTokenValidator):  # type: ignore[misc]
        def authenticate_token(self, token_string: str) -> Token | None:
            return state.tokens.get(token_string)

    protect = ResourceProtector()
    protect.register_token_validator(Validator())
    _smart_routes(app, state, server)
    _fhir_routes(app, state, protect)
    _chart_routes(app, state, benzotaper)
    return app


def _smart_routes(app: Flask, state: State, server: AuthorizationServer) -> None:
    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration() -> Any:
        return jsonify({
            "authorization_endpoint": f"{state.base}/authorize",
            "token_endpoint": f"{state.base}/token",
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": (READ_SCOPES + " " + WRITE_SCOPE).split(),
            "capabilities": ["launch-ehr", "launch-standalone", "client-public",
                             "context-ehr-patient", "context-standalone-patient",
                             "permission-patient", "permission-v2"],
        })  # fmt: skip

    @app.get("/authorize")
    def authorize_page() -> Any:
        try:
            server.get_consent_grant(end_user={"patient": PATIENT_ID})
            launch = request.args.get("launch")
            if launch is not None and launch not in state.launches:
                raise InvalidRequestError("unknown launch")
        except Exception as exc:  # the page says what was wrong, as an EHR would
            return f"<p id='error'>{html.escape(str(exc))}</p>", 400
        query = html.escape(request.query_string.decode())
        return (f"<h1>Test EHR</h1><p>benzotaper asks for: {html.escape(request.args['scope'])}"
                f"</p><form method='post' action='/authorize?{query}'>"
                "<button id='approve' type='submit'>Approve</button></form>")  # fmt: skip

    @app.post("/authorize")
    def authorize() -> Any:
        grant = server.get_consent_grant(end_user={"patient": PATIENT_ID})
        return server.create_authorization_response(grant_user={"patient": PATIENT_ID}, grant=grant)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()


def _fhir_routes(app: Flask, state: State, protect: ResourceProtector) -> None:
    @app.get(f"/fhir/Patient/{PATIENT_ID}")
    @protect("patient/Patient.r")
    def read_patient() -> Any:
        return jsonify(state.resources["patient"])

    @app.get("/fhir/MedicationRequest")
    @protect("patient/MedicationRequest.rs")
    def search_requests() -> Any:
        active = [r for r in state.resources["medications"] if r.get("status") == "active"]
        return jsonify(bundle(*active))

    @app.get("/fhir/Condition")
    @protect("patient/Condition.rs")
    def search_conditions() -> Any:
        return jsonify(bundle(*state.resources.get("conditions", [])))

    @app.post("/fhir/MedicationRequest")
    @protect(WRITE_SCOPE)
    def create_request() -> Any:
        resource = dict(request.get_json(force=True))
        resource["id"] = f"draft-{len(state.created) + 1}"
        state.created.append(resource)
        return jsonify(resource), 201


def _chart_routes(app: Flask, state: State, benzotaper: str) -> None:
    @app.get("/chart")
    def chart() -> Any:
        """The chart opens: call benzotaper's patient-view service with prefetch, show cards."""
        body = {
            "hook": "patient-view", "hookInstance": secrets.token_hex(8),
            "context": {"userId": "Practitioner/dr-1", "patientId": PATIENT_ID},
            "prefetch": {"patient": state.resources["patient"],
                         "medications": bundle(*state.resources["medications"]),
                         "conditions": bundle()},
        }  # fmt: skip
        answer = requests.post(f"{benzotaper}/cds-services/benzotaper-patient-view", json=body,
                               timeout=180).json()  # fmt: skip
        state.cds_cards = answer["cards"]
        launch = secrets.token_hex(8)
        state.launches[launch] = PATIENT_ID
        items = []
        for card in state.cds_cards:
            link = next(x for x in card["links"] if x["type"] == "smart")
            url = f"{link['url']}?{urlencode({'iss': state.base + '/fhir', 'launch': launch})}"
            actions = card["suggestions"][0]["actions"] if card.get("suggestions") else []
            items.append(
                f"<li class='card {card['indicator']}'><strong>{html.escape(card['summary'])}"
                f"</strong> <span class='drafts'>{len(actions)} draft orders attached</span> "
                f"<a class='launch' href='{html.escape(url)}'>{html.escape(link['label'])}</a></li>"
            )
        return f"<h1>Chart: Pat Example, 72</h1><ul id='cards'>{''.join(items)}</ul>"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a WSGI app on a free loopback port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def fixed_patient() -> dict[str, Any]:
    return {"patient": patient(72), "medications": [lorazepam_request()], "conditions": []}
