"""The OIDC authenticator against an issuer of the test's own (keys, JWKS, discovery).

These check each rule on its own, fast, without a provider: the JWKS is served through an
httpx mock transport. test_sso_keycloak.py checks the same against a real Keycloak.
"""

from __future__ import annotations

from typing import Any

import pytest
from ebling.auth.authenticators import AuthenticationUnavailable, InvalidCredentials
from ebling.auth.oidc import JwksCache, OidcAuthenticator, OidcConfig, roles_from_claims
from ebling.auth.principal import Role
from jwt_forgery import (
    ISSUER,
    FakeIssuer,
    SigningKeyPair,
    access_claims,
    hs256_with_public_key,
    public_pem_of_jwk,
    unsigned_token,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def authenticator(issuer: FakeIssuer, clock: FakeClock) -> OidcAuthenticator:
    config = OidcConfig(issuer=ISSUER, leeway_seconds=5, jwks_refresh_interval_seconds=10)
    keys = JwksCache(config, http=issuer.http_client(), clock=clock)
    return OidcAuthenticator(config, keys=keys)


def check(authenticator: OidcAuthenticator, token: str) -> Any:
    return authenticator.authenticate(token, session=None)  # type: ignore[arg-type]


def test_a_valid_token_gives_its_subject_client_and_roles(
    authenticator: OidcAuthenticator, issuer: FakeIssuer
) -> None:
    claims = access_claims(roles=["ingest", "offline_access"])
    principal = check(authenticator, issuer.sign(claims))
    assert principal.subject == claims["sub"]
    assert principal.client_id == "arcadia-airflow"
    assert principal.kind == "service_account"
    assert principal.roles == {Role.INGEST}


def test_a_persons_token_is_a_user(authenticator: OidcAuthenticator, issuer: FakeIssuer) -> None:
    claims = access_claims(roles=["viewer"], sid="s-1", preferred_username="ada", azp="trillian")
    principal = check(authenticator, issuer.sign(claims))
    assert (principal.kind, principal.display_name, principal.client_id) == (
        "user",
        "ada",
        "trillian",
    )


def test_roles_come_from_the_realm_and_the_audience_client() -> None:
    claims = {
        "realm_access": {"roles": ["viewer", "uma_authorization"]},
        "resource_access": {
            "ebling": {"roles": ["billing"]},
            "account": {"roles": ["admin"]},  # another client's roles grant nothing here
        },
    }
    assert roles_from_claims(claims, "ebling") == {Role.VIEWER, Role.BILLING}
    assert roles_from_claims({"realm_access": {"roles": "admin"}}, "ebling") == frozenset()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"lifetime": -60}, "expired"),
        ({"not_before_in": 120}, "not valid yet"),
        ({"audience": "account"}, "audience"),
        ({"issuer": "https://evil.test/realms/automation"}, "another issuer"),
        ({"typ": "ID"}, "not an access token"),
    ],
    ids=["expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "id-token"],
)
def test_tokens_with_bad_claims_are_refused(
    authenticator: OidcAuthenticator, issuer: FakeIssuer, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidCredentials, match=reason):
        check(authenticator, issuer.sign(access_claims(**changes)))


def test_small_clock_skew_is_tolerated(
    authenticator: OidcAuthenticator, issuer: FakeIssuer
) -> None:
    # Expired 2 s ago, within the 5 s leeway.
    assert check(authenticator, issuer.sign(access_claims(lifetime=-2))).roles == {Role.INGEST}


def test_a_missing_audience_is_refused(
    authenticator: OidcAuthenticator, issuer: FakeIssuer
) -> None:
    claims = access_claims()
    del claims["aud"]
    with pytest.raises(InvalidCredentials, match="aud"):
        check(authenticator, issuer.sign(claims))


def test_a_token_signed_by_another_key_with_a_known_kid_is_refused(
    authenticator: OidcAuthenticator,
) -> None:
    impostor = SigningKeyPair.rsa("key-1")
    with pytest.raises(InvalidCredentials, match="signature does not verify"):
        check(authenticator, impostor.sign(access_claims()))


def test_alg_none_is_refused(authenticator: OidcAuthenticator) -> None:
    with pytest.raises(InvalidCredentials, match="'none' is refused"):
        check(authenticator, unsigned_token(access_claims(), kid="key-1"))


def test_hs256_keyed_with_the_public_key_is_refused(
    authenticator: OidcAuthenticator, issuer: FakeIssuer
) -> None:
    public_pem = public_pem_of_jwk(issuer.keys[0].jwk())
    token = hs256_with_public_key(access_claims(), public_pem, kid="key-1")
    with pytest.raises(InvalidCredentials, match="'HS256' is refused"):
        check(authenticator, token)


def test_an_algorithm_that_does_not_match_the_key_is_refused(
    authenticator: OidcAuthenticator, issuer: FakeIssuer
) -> None:
    # key-1 is published for RS256; a PS256 signature from the same private key is refused.
    key = issuer.keys[0]
    token = SigningKeyPair("key-1", "PS256", key.private_key).sign(access_claims())
    with pytest.raises(InvalidCredentials, match="does not match its key"):
        check(authenticator, token)


def test_ec_keys_verify(issuer: FakeIssuer, clock: FakeClock) -> None:
    issuer.keys = [SigningKeyPair.ec("ec-1")]
    config = OidcConfig(issuer=ISSUER)
    authenticator = OidcAuthenticator(
        config, keys=JwksCache(config, http=issuer.http_client(), clock=clock)
    )
    assert check(authenticator, issuer.sign(access_claims())).roles == {Role.INGEST}


def test_symmetric_and_none_algorithms_cannot_be_configured() -> None:
    for algorithms in (("RS256", "HS256"), ("none",)):
        with pytest.raises(ValueError, match="not allowed"):
            OidcConfig(issuer=ISSUER, algorithms=algorithms)


def test_the_jwks_is_fetched_once_and_cached(
    authenticator: OidcAuthenticator, issuer: FakeIssuer
) -> None:
    for _ in range(5):
        check(authenticator, issuer.sign(access_claims()))
    assert issuer.jwks_fetches == 1


def test_a_new_key_id_fetches_the_jwks_again(
    authenticator: OidcAuthenticator, issuer: FakeIssuer, clock: FakeClock
) -> None:
    check(authenticator, issuer.sign(access_claims()))
    issuer.keys.insert(0, SigningKeyPair.rsa("key-2"))
    clock.now += 11
    assert check(authenticator, issuer.sign(access_claims())).roles == {Role.INGEST}
    assert issuer.jwks_fetches == 2


def test_unknown_key_ids_fetch_at_most_once_per_interval(
    authenticator: OidcAuthenticator, issuer: FakeIssuer, clock: FakeClock
) -> None:
    check(authenticator, issuer.sign(access_claims()))
    stranger = SigningKeyPair.rsa("made-up")
    for _ in range(20):
        with pytest.raises(InvalidCredentials, match="does not publish"):
            check(authenticator, stranger.sign(access_claims()))
    assert issuer.jwks_fetches == 1
    clock.now += 10
    with pytest.raises(InvalidCredentials, match="does not publish"):
        check(authenticator, stranger.sign(access_claims()))
    assert issuer.jwks_fetches == 2


def test_a_withdrawn_key_stops_verifying_once_the_keys_are_old(
    authenticator: OidcAuthenticator, issuer: FakeIssuer, clock: FakeClock
) -> None:
    old_token = issuer.sign(access_claims())
    check(authenticator, old_token)
    issuer.keys = [SigningKeyPair.rsa("key-2")]  # the provider withdraws key-1
    clock.now += 299
    assert check(authenticator, old_token).roles == {Role.INGEST}  # still within max age
    clock.now += 1
    with pytest.raises(InvalidCredentials, match="does not publish"):
        check(authenticator, old_token)
    assert issuer.jwks_fetches == 2


def test_old_keys_serve_while_the_provider_is_down(
    authenticator: OidcAuthenticator, issuer: FakeIssuer, clock: FakeClock
) -> None:
    token = issuer.sign(access_claims())
    check(authenticator, token)
    issuer.down = True
    clock.now += 600
    assert check(authenticator, token).roles == {Role.INGEST}


def test_an_unreachable_provider_is_no_401(
    authenticator: OidcAuthenticator, issuer: FakeIssuer
) -> None:
    issuer.down = True
    with pytest.raises(AuthenticationUnavailable):
        check(authenticator, issuer.sign(access_claims()))


def test_discovery_for_another_issuer_is_not_trusted(issuer: FakeIssuer, clock: FakeClock) -> None:
    issuer.issuer = "https://elsewhere.test/realms/automation"
    config = OidcConfig(issuer=ISSUER)
    authenticator = OidcAuthenticator(
        config, keys=JwksCache(config, http=issuer.http_client(), clock=clock)
    )
    with pytest.raises(AuthenticationUnavailable):
        check(authenticator, issuer.sign(access_claims()))


@pytest.mark.parametrize("token", ["abc", "a.b", "ebl_x_y", "a..c"])
def test_only_jwt_shapes_are_recognised(authenticator: OidcAuthenticator, token: str) -> None:
    assert not authenticator.recognises(token)


def test_garbage_in_jwt_shape_is_refused(authenticator: OidcAuthenticator) -> None:
    with pytest.raises(InvalidCredentials, match="well-formed"):
        check(authenticator, "eyJub3QtanNvbg.eyJ9.c2ln")
