"""CSRF, login rate limiting, security headers, cookies."""

from __future__ import annotations

from .conftest import PASSWORD, Visitor


def test_security_headers_on_pages_and_api(visitor: Visitor) -> None:
    for path in ("/", "/api/catalogue", "/static/app.css", "/nope"):
        h = visitor.client.get(path).headers
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        assert h["x-frame-options"] == "DENY"


def test_no_inline_script_or_style_in_pages(visitor: Visitor) -> None:
    visitor.signup("inline@example.org")
    for path in ("/", "/convert", "/drugs", "/drugs/diazepam", "/account", "/login", "/register"):
        html = visitor.client.get(path).text
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert "onclick=" not in html and "hx-on" not in html
        for src in ("/static/htmx.min.js", "/static/app.js"):
            assert f'<script src="{src}" defer></script>' in html


def test_forms_need_csrf(visitor: Visitor) -> None:
    r = visitor.client.post("/convert", data={"drug": "diazepam", "dose": "5 mg"})
    assert r.status_code == 403
    r = visitor.client.post(
        "/convert", data={"drug": "diazepam", "dose": "5 mg", "csrf_token": "forged"}
    )
    assert r.status_code == 403
    assert visitor.form("/convert", {"drug": "diazepam", "dose": "5 mg"}).status_code == 200


def test_api_needs_csrf_header(visitor: Visitor) -> None:
    body = {"drug": "diazepam", "dose": "5 mg"}
    assert visitor.client.post("/api/convert", json=body).status_code == 403
    r = visitor.client.post("/api/convert", json=body, headers={"X-CSRF-Token": "nope"})
    assert r.status_code == 403
    assert visitor.api("POST", "/api/convert", json=body).status_code == 200


def test_csrf_token_is_bound_to_the_session(make_visitor) -> None:  # type: ignore[no-untyped-def]
    a, b = make_visitor(), make_visitor()
    a.signup("csrf-a@example.org")
    b.signup("csrf-b@example.org")
    a_token = a.csrf
    assert a_token != b.csrf
    r = b.client.post("/api/shares", headers={"X-CSRF-Token": a_token})
    assert r.status_code == 403
    assert b.api("POST", "/api/shares").status_code == 201


def test_csrf_token_rotates_on_login(visitor: Visitor) -> None:
    before = visitor.csrf
    visitor.signup("rotate@example.org")
    assert visitor.csrf != before


def test_login_throttle_is_stored_in_the_database(make_visitor, settings, throttle_clock) -> None:  # type: ignore[no-untyped-def]
    """settings.login_max_failures is 3 in these tests; a second app instance sees the count."""
    make_visitor().signup("rl@example.org")
    attacker = make_visitor()
    for _ in range(3):
        r = attacker.api("POST", "/api/session", json={"email": "rl@example.org", "password": "x"})
        assert r.status_code == 422
    r = attacker.api("POST", "/api/session", json={"email": "rl@example.org", "password": "x"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # A new browser (no device cookie) waits too, from any app instance (worker).
    from fastapi.testclient import TestClient

    from benzotaper.web import create_app

    with TestClient(create_app(settings)) as other:
        b = Visitor(other)
        r = b.api("POST", "/api/session", json={"email": "rl@example.org", "password": PASSWORD})
        assert r.status_code == 429
        # Another account is not affected.
        make_visitor().signup("other@example.org")
        r = b.api("POST", "/api/session", json={"email": "other@example.org", "password": PASSWORD})
        assert r.status_code == 200


def test_login_page_throttle_shows_message(make_visitor, throttle_clock) -> None:  # type: ignore[no-untyped-def]
    make_visitor().signup("rlp@example.org")
    b = make_visitor()
    for _ in range(3):
        b.form("/login", {"email": "rlp@example.org", "password": "wrong"})
    r = b.form("/login", {"email": "rlp@example.org", "password": PASSWORD})
    assert r.status_code == 429 and "Too many login attempts" in r.text
    assert int(r.headers["retry-after"]) > 0
    assert 'value="rlp@example.org"' in r.text


def test_secure_cookie_setting(database_url: str) -> None:
    from fastapi.testclient import TestClient

    from benzotaper.web import WebSettings, create_app

    app = create_app(WebSettings(database_url=database_url, secure_cookies=True))
    with TestClient(app) as client:
        r = client.get("/")
        assert "Secure" in r.headers["set-cookie"]
        assert "max-age" in r.headers["strict-transport-security"]
