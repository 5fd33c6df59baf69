"""PKCE: verifiers and S256 challenges as RFC 7636 defines them."""

from __future__ import annotations

import re

import pytest
from trillian.pkce import code_challenge, new_code_verifier


def test_the_challenge_of_the_rfc_example() -> None:
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_are_long_unreserved_and_fresh() -> None:
    verifiers = {new_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert re.fullmatch(r"[A-Za-z0-9\-._~]+", verifier)
        assert "=" not in code_challenge(verifier)


@pytest.mark.parametrize("length", [42, 129])
def test_a_verifier_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="43 to 128"):
        code_challenge("a" * length)
