"""Single sign-on against a real Keycloak with the shipped realm (deploy/keycloak).

The test command starts Keycloak (scripts/services/keycloak.sh) and sets
EBLING_TEST_KEYCLOAK_URL and the admin's credentials. Real tokens come from Keycloak;
forged ones are made here with keys of the test's own. Ebling runs over HTTP with
EBLING_AUTH=oidc, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import jwt
import pytest
from arcadia.client import AsyncEblingClient, ClientCredentials, EblingAuthError, EblingClient
from ebling.settings import AuthMode, Settings
from event_factories import event
from jwt_forgery import (
    SigningKeyPair,
    access_claims,
    hs256_with_public_key,
    public_pem_of_jwk,
    unsigned_token,
)
from keycloak_admin import KeycloakAdmin
from live_server import serve


@pytest.fixture
def ebling_url(settings: Settings, keycloak: KeycloakAdmin) -> Iterator[str]:
    oidc = settings.model_copy(
        update={
            "auth": AuthMode.OIDC,
            "oidc_issuer": keycloak.issuer,
            # A token that expired a second ago is refused in the test without waiting out
            # the default leeway; and key rotation is seen without the 10 s and 5 min waits.
            "oidc_leeway_seconds": 1.0,
            "oidc_jwks_refresh_seconds": 0.5,
            "oidc_jwks_max_age_seconds": 1.0,
        }
    )
    with serve(oidc) as url:
        yield url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_events(url: str, admin_headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/api/v1/audit-events", params=params, headers=admin_headers)
    response.raise_for_status()
    return list(response.json()["items"])


def test_the_shipped_realm_is_configured_as_documented(keycloak: KeycloakAdmin) -> None:
    realm = keycloak.realm()
    assert realm["bruteForceProtected"] is True
    assert (realm["accessTokenLifespan"], realm["ssoSessionIdleTimeout"]) == (300, 1800)
    assert realm["ssoSessionMaxLifespan"] == 36000
    assert (realm["revokeRefreshToken"], realm["refreshTokenMaxReuse"]) == (True, 0)
    roles = {role["name"] for role in keycloak.get("/roles")}
    assert {"viewer", "operator", "billing", "admin", "ingest"} <= roles
    groups = {group["name"]: group for group in keycloak.get("/groups")}
    assert set(groups) >= {"viewers", "operators", "billing", "admins"}

    # Two factors for every person: OTP is required in the browser flow, and set up first.
    actions = {
        action["alias"]: action for action in keycloak.get("/authentication/required-actions")
    }
    assert actions["CONFIGURE_TOTP"]["enabled"]
    assert actions["CONFIGURE_TOTP"]["defaultAction"]
    assert realm["browserFlow"] == "browser with otp"
    executions = keycloak.get("/authentication/flows/browser with otp/executions")
    otp = [e for e in executions if e.get("providerId") == "auth-otp-form"]
    assert [e["requirement"] for e in otp] == ["REQUIRED"]
    person = keycloak.create_user(f"person-{uuid.uuid4().hex[:6]}")
    assert "CONFIGURE_TOTP" in person["requiredActions"]
    keycloak.http.delete(f"/users/{person['id']}").raise_for_status()

    # Secrets come from the environment at import: none is the placeholder itself.
    for client_id in ("trillian", "arcadia-airflow", "arcadia-dagster", "arcadia-prefect"):
        secret = keycloak.client_secret(client_id)
        assert len(secret) >= 32
        assert "${" not in secret
    (trillian,) = keycloak.get("/clients", params={"clientId": "trillian"})
    assert trillian["attributes"]["pkce.code.challenge.method"] == "S256"
    assert trillian["publicClient"] is False
    assert trillian["standardFlowEnabled"] is True
    assert "http://127.0.0.1:*" in trillian["redirectUris"]


def test_a_service_account_ingests_through_arcadia(
    ebling_url: str, keycloak: KeycloakAdmin, admin_headers: dict[str, str]
) -> None:
    credentials = ClientCredentials(
        "arcadia-airflow", keycloak.client_secret("arcadia-airflow"), issuer=keycloak.issuer
    )
    with EblingClient(ebling_url, auth=credentials) as client:
        assert client.send_lineage([event("START"), event("COMPLETE")]).stored == 2
        assert client.send_lineage([event("START")]).stored == 1  # the cached token again

    async def send_async() -> int:
        async with AsyncEblingClient(ebling_url, auth=credentials) as client:
            return (await client.send_lineage([event("START")])).stored

    assert anyio.run(send_async) == 1

    me = httpx.get(
        f"{ebling_url}/api/v1/me", headers={"Authorization": credentials.authorization()}
    )
    assert me.json()["kind"] == "service_account"
    assert me.json()["client_id"] == "arcadia-airflow"
    assert me.json()["roles"] == ["ingest"]
    # A machine reads nothing.
    with EblingClient(ebling_url, auth=credentials) as client, pytest.raises(EblingAuthError):
        list(client.list_runs())

    writes = audit_events(ebling_url, admin_headers, outcome="success")
    assert len(writes) == 3
    assert {(e["client_id"], e["auth_kind"], e["route"]) for e in writes} == {
        ("arcadia-airflow", "oidc", "/api/v1/lineage")
    }


def test_wrong_client_secret_is_refused_by_keycloak(
    keycloak: KeycloakAdmin, ebling_url: str
) -> None:
    credentials = ClientCredentials("arcadia-airflow", "not-the-secret", issuer=keycloak.issuer)
    with (
        EblingClient(ebling_url, auth=credentials) as client,
        pytest.raises(EblingAuthError, match=r"identity provider refused.*arcadia-airflow"),
    ):
        client.send_lineage([event()])
    assert "not-the-secret" not in repr(credentials)


def test_a_viewer_reads_but_cannot_write(
    ebling_url: str, keycloak: KeycloakAdmin, admin_headers: dict[str, str]
) -> None:
    viewer = keycloak.create_service_client(["viewer"])
    try:
        token = keycloak.token(viewer.client_id, viewer.secret)
        assert httpx.get(f"{ebling_url}/api/v1/runs", headers=bearer(token)).status_code == 200
        refused = httpx.post(f"{ebling_url}/api/v1/lineage", json=event(), headers=bearer(token))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "lineage:write" in refused.json()["detail"]
    finally:
        keycloak.delete_client(viewer.client_id)
    (denied,) = audit_events(ebling_url, admin_headers, outcome="denied")
    assert (denied["client_id"], denied["status"], denied["method"]) == (
        viewer.client_id,
        403,
        "POST",
    )


def test_bad_tokens_are_401_and_audited(
    ebling_url: str, keycloak: KeycloakAdmin, admin_headers: dict[str, str]
) -> None:
    jwks = httpx.get(f"{keycloak.issuer}/protocol/openid-connect/certs").json()["keys"]
    real_key = next(key for key in jwks if key.get("alg") == "RS256" and key.get("use") == "sig")
    forged_claims = access_claims(issuer=keycloak.issuer, roles=["ingest", "admin"])

    short_lived = keycloak.create_service_client(
        ["ingest"], attributes={"access.token.lifespan": "1"}
    )
    elsewhere = keycloak.create_service_client(["ingest"], audience="trillian")
    try:
        expiring = keycloak.token(short_lived.client_id, short_lived.secret)
        wrong_audience = keycloak.token(elsewhere.client_id, elsewhere.secret)
    finally:
        keycloak.delete_client(short_lived.client_id)
        keycloak.delete_client(elsewhere.client_id)
    master = httpx.post(
        f"{keycloak.base_url}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": keycloak.admin_username,
            "password": keycloak.admin_password,
        },
    ).json()["access_token"]
    time.sleep(3)  # past the 1 s lifetime and the 1 s leeway

    attempts: dict[str, tuple[dict[str, str], str]] = {
        "no token": ({}, "No credentials"),
        "expired": (bearer(expiring), "expired"),
        "another key": (
            bearer(SigningKeyPair.rsa(real_key["kid"]).sign(forged_claims)),
            "signature does not verify",
        ),
        "alg none": (bearer(unsigned_token(forged_claims, kid=real_key["kid"])), "'none'"),
        "hs256 with the public key": (
            bearer(
                hs256_with_public_key(
                    forged_claims, public_pem_of_jwk(real_key), kid=real_key["kid"]
                )
            ),
            "'HS256'",
        ),
        "wrong audience": (bearer(wrong_audience), "audience"),
        "wrong issuer": (bearer(master), "does not publish"),
    }
    for name, (headers, reason) in attempts.items():
        response = httpx.post(f"{ebling_url}/api/v1/lineage", json=event(), headers=headers)
        assert response.status_code == 401, (name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert reason in response.json()["detail"], name
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer")
        assert ('error="invalid_token"' in challenge) == (name != "no token"), name

    refused = audit_events(ebling_url, admin_headers, outcome="unauthenticated")
    assert len(refused) == len(attempts)
    assert all(e["status"] == 401 and e["subject"] is None for e in refused)
    reasons = [e["reason"] for e in reversed(refused)]
    for (_, reason), recorded in zip(attempts.values(), reasons, strict=True):
        assert reason in recorded
    assert [e["auth_kind"] for e in reversed(refused)] == ["none"] + ["oidc"] * 6
    # Nothing of the refused batches was stored.
    assert audit_events(ebling_url, admin_headers, outcome="success") == []


def test_rotated_signing_keys_are_accepted_without_a_restart(
    ebling_url: str, keycloak: KeycloakAdmin
) -> None:
    secret = keycloak.client_secret("arcadia-airflow")
    before = keycloak.token("arcadia-airflow", secret)
    assert post_event(ebling_url, before) == 200
    arcadia = EblingClient(
        ebling_url, auth=ClientCredentials("arcadia-airflow", secret, issuer=keycloak.issuer)
    )
    assert arcadia.send_lineage([event()]).stored == 1  # its token, signed with the old key

    old_keys = keycloak.active_rsa_signing_keys()
    priority = max(int(key["providerPriority"]) for key in old_keys) + 100
    keycloak.add_rsa_key_provider(priority=priority)
    for key in old_keys:
        keycloak.remove_component(key["providerId"])
    time.sleep(0.6)  # the JWKS refresh interval this Ebling was given

    after = keycloak.token("arcadia-airflow", secret)
    assert kid_of(after) != kid_of(before)
    assert kid_of(after) not in {key["kid"] for key in old_keys}
    assert post_event(ebling_url, after) == 200
    assert post_event(ebling_url, keycloak.token("arcadia-airflow", secret)) == 200

    # The withdrawn key's tokens stop working once Ebling's keys are older than their
    # maximum age (1 s here, 5 minutes by default).
    time.sleep(1.1)
    assert post_event(ebling_url, before) == 401
    assert post_event(ebling_url, after) == 200
    # Arcadia's cached token is refused the same way; it fetches a new one and goes on.
    assert arcadia.send_lineage([event()]).stored == 1
    arcadia.close()


def post_event(url: str, token: str) -> int:
    return httpx.post(f"{url}/api/v1/lineage", json=event(), headers=bearer(token)).status_code


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])
