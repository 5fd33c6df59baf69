"""Every answer carries the security headers; the policy allows no inline script or style."""

from __future__ import annotations

import pytest
from signing_in import sign_in
from starlette.testclient import TestClient
from trillian.app import create_app
from trillian.settings import Settings
from trillian_testing import Stack


@pytest.mark.parametrize("path", ["/login", "/", "/static/app.css", "/no-such-page", "/healthz"])
def test_security_headers_are_on_every_answer(client: TestClient, path: str) -> None:
    headers = client.get(path, follow_redirects=False).headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script(client: TestClient, stack: Stack) -> None:
    sign_in(client, "admin", stack.admin_password)
    for path in (
        "/",
        "/workflows",
        f"/runs/{stack.seeded.failed_run_id}",
        "/reports/sensor_readings",
    ):
        html = client.get(path).text
        for chunk in html.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            # Either an external file, or data that browsers never run.
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert " style=" not in html, path
        assert " onclick=" not in html, path
        assert " hx-on" not in html, path


def test_hsts_only_over_https(stack: Stack) -> None:
    settings = Settings(ebling_url=stack.ebling_url, public_url="https://dashboard.example")
    with TestClient(create_app(settings)) as secure:
        assert "strict-transport-security" in secure.get("/login").headers
    with TestClient(create_app(Settings(ebling_url=stack.ebling_url))) as plain:
        assert "strict-transport-security" not in plain.get("/login").headers


def test_the_identity_provider_may_receive_the_sign_out_form(stack: Stack) -> None:
    settings = Settings(
        ebling_url=stack.ebling_url,
        auth="oidc",
        oidc_issuer="https://sso.example:8443/realms/automation",
        oidc_client_secret="x",
    )
    with TestClient(create_app(settings)) as client:
        policy = client.get("/healthz").headers["content-security-policy"]
    assert "form-action 'self' https://sso.example:8443" in policy


def test_answers_say_how_long_trillian_took(client: TestClient) -> None:
    timing = client.get("/login").headers["server-timing"]
    assert timing.startswith("app;dur=")
    assert float(timing.removeprefix("app;dur=")) > 0
