"""SMART App Launch 2 client: discovery, the authorization-code flow with PKCE, FHIR calls.

OAuth is Authlib's (:class:`authlib.integrations.requests_client.OAuth2Session`): it builds the
authorization URL with the S256 code challenge and exchanges the code with the verifier.
This module only adds what SMART adds: reading ``.well-known/smart-configuration``, the
``aud`` and ``launch`` parameters, the ``patient`` in the token response, and which scopes
allow writing MedicationRequests back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from benzotaper.errors import InputError

#: SMART v2 scopes (with the v1 spellings servers may still grant) benzotaper asks for.
EHR_SCOPE = (
    "launch openid fhirUser patient/Patient.r patient/MedicationRequest.rs "
    "patient/MedicationRequest.c patient/Condition.rs"
)
STANDALONE_SCOPE = EHR_SCOPE.replace("launch ", "launch/patient ")
TIMEOUT_S = 10.0


class SmartError(InputError):
    """The EHR's SMART configuration or answer cannot be used (said plainly)."""

    code = "smart_launch"


@dataclass(frozen=True)
class SmartConfig:
    iss: str
    authorization_endpoint: str
    token_endpoint: str


def check_iss(iss: str) -> str:
    parts = urlsplit(iss)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SmartError("iss must be the EHR's FHIR base URL (http or https).")
    return iss.rstrip("/")


def discover(iss: str, http: httpx.Client) -> SmartConfig:
    """Read ``{iss}/.well-known/smart-configuration``; PKCE S256 must be supported."""
    iss = check_iss(iss)
    try:
        response = http.get(f"{iss}/.well-known/smart-configuration",
                            headers={"Accept": "application/json"})  # fmt: skip
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SmartError(f"Could not read the EHR's SMART configuration: {exc}") from None
    if not isinstance(data, Mapping):
        raise SmartError("The EHR's SMART configuration is not a JSON object.")
    methods = data.get("code_challenge_methods_supported") or []
    if "S256" not in methods:
        raise SmartError("The EHR does not support PKCE with S256, which SMART 2 requires.")
    try:
        return SmartConfig(iss, str(data["authorization_endpoint"]), str(data["token_endpoint"]))
    except KeyError as exc:
        raise SmartError(f"The EHR's SMART configuration has no {exc.args[0]}.") from None


@dataclass(frozen=True)
class Authorization:
    url: str
    state: str
    code_verifier: str


def authorization(
    config: SmartConfig, client_id: str, redirect_uri: str, scope: str, launch: str | None
) -> Authorization:
    """Where to send the browser, with the state and the PKCE verifier to keep."""
    verifier = generate_token(64)
    client = OAuth2Session(
        client_id=client_id, redirect_uri=redirect_uri, scope=scope, code_challenge_method="S256"
    )
    extra = {"aud": config.iss, **({"launch": launch} if launch else {})}
    url, state = client.create_authorization_url(
        config.authorization_endpoint, code_verifier=verifier, **extra
    )
    return Authorization(url, state, verifier)


def exchange(
    token_endpoint: str,
    client_id: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> dict[str, Any]:
    """Trade the code for a token (with the verifier); the SMART ``patient`` comes with it."""
    client = OAuth2Session(client_id=client_id, redirect_uri=redirect_uri)
    try:
        token = client.fetch_token(
            token_endpoint, code=code, code_verifier=code_verifier,
            grant_type="authorization_code", timeout=TIMEOUT_S,
        )  # fmt: skip
    except Exception as exc:  # Authlib raises its OAuthError or httpx errors: say which
        raise SmartError(f"The EHR did not give an access token: {exc}") from None
    return dict(token)


def can_write_medication_requests(scope: str) -> bool:
    """Whether the granted scope lets benzotaper create MedicationRequests (v1 or v2)."""
    for item in scope.split():
        match = re.fullmatch(r"(?:patient|user|system)/(?:MedicationRequest|\*)\.([a-z*]+)", item)
        if match is None:
            continue
        permission = match.group(1)
        if permission in ("write", "*"):  # SMART v1
            return True
        if re.fullmatch("c?r?u?d?s?", permission) and "c" in permission:  # SMART v2
            return True
    return False


class Fhir:
    """The EHR's FHIR API with the launch's access token."""

    def __init__(self, iss: str, access_token: str, http: httpx.Client) -> None:
        self.base = check_iss(iss)
        self.http = http
        self.headers = {
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/fhir+json",
        }

    def get(self, query: str) -> Any:
        response = self.http.get(f"{self.base}/{query}", headers=self.headers)
        response.raise_for_status()
        return response.json()

    def create(self, resource: Mapping[str, Any]) -> Any:
        headers = {**self.headers, "Content-Type": "application/fhir+json"}
        response = self.http.post(
            f"{self.base}/{resource['resourceType']}", json=dict(resource), headers=headers
        )
        response.raise_for_status()
        return response.json() if response.content else {}
