"""Fetching what prefetch lacks from the EHR's FHIR server (CDS Hooks ``fhirServer``).

Only with the access token the EHR handed over (``fhirAuthorization``), only over http(s),
with a short time-out (CDS clients wait a few hundred ms), and at most a few pages per search.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from benzotaper.errors import InputError

TIMEOUT_S = 2.0
MAX_PAGES = 5


def fetcher(request: Mapping[str, Any], client: httpx.Client | None = None) -> Any:
    """A function fetching one prefetch query (``Patient/123``) from the request's FHIR server,
    or None when the request gives no server and token."""
    server = request.get("fhirServer")
    auth = request.get("fhirAuthorization")
    if not isinstance(server, str) or not isinstance(auth, Mapping):
        return None
    if urlsplit(server).scheme not in ("http", "https"):
        raise InputError("fhirServer must be an http(s) URL.")
    token = auth.get("access_token")
    if not isinstance(token, str) or not token:
        raise InputError("fhirAuthorization.access_token is required to use fhirServer.")
    headers = {
        "Authorization": f"{auth.get('token_type') or 'Bearer'} {token}",
        "Accept": "application/fhir+json",
    }
    base = server.rstrip("/") + "/"
    http = client or httpx.Client(timeout=TIMEOUT_S)

    def fetch(query: str) -> Any:
        url: str | None = urljoin(base, query)
        first: dict[str, Any] | None = None
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = http.get(url, headers=headers)
            if response.status_code == 404:
                return None
            response.raise_for_status()
            page = response.json()
            if first is None:
                first = page
            elif page.get("entry"):
                first.setdefault("entry", []).extend(page["entry"])
            links = page.get("link", []) if page.get("resourceType") == "Bundle" else []
            url = next((x.get("url") for x in links if x.get("relation") == "next"), None)
        return first

    return fetch
