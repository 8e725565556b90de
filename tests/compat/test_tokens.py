"""The platform's JWT rules, alone: HS256 only, appId = the client id, exp enforced."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.compat.errors import PlatformError
from botbill.compat.tokens import client_id_of, token_of, verify
from botbill.kit.instants import SECOND

CLIENT = "cs-5d0a8c1e-2f7b-4f57-9d1c-0b6f1c2e3a4d"
SECRET = "kX2v9Qm1Zr7Lw4Tn8Pa3Yc6Hd0Jf5Gb2Se7Uo1Ix4Rq"
NOW = 1_800_000_000 * SECOND


def signed(claims: dict[str, object], *, secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def refused(call: Callable[[], object]) -> str:
    with pytest.raises(PlatformError) as caught:
        call()
    assert caught.value.status == 401
    assert caught.value.as_json() == {"errors": [{"msg": caught.value.msg, "code": 401}]}
    return caught.value.msg


def test_the_documented_claims_pass() -> None:
    token = signed({"sub": "1234567890", "appId": CLIENT})
    assert client_id_of(token) == CLIENT
    assert verify(token, secret=SECRET, client_id=CLIENT, now=NOW)["sub"] == "1234567890"


def test_a_wrong_secret_is_refused() -> None:
    token = signed({"appId": CLIENT}, secret="another-secret-of-at-least-thirty-two-bytes")
    assert "signature" in refused(lambda: verify(token, secret=SECRET, client_id=CLIENT, now=NOW))


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_alg_none_is_refused_before_any_lookup() -> None:
    assert "HS256" in refused(lambda: client_id_of(_unsigned({"appId": CLIENT})))


def test_alg_none_is_refused_by_verify_too() -> None:
    token = _unsigned({"appId": CLIENT})
    refused(lambda: verify(token, secret=SECRET, client_id=CLIENT, now=NOW))


def test_other_algorithms_are_refused() -> None:
    token = signed({"appId": CLIENT}, algorithm="HS384")
    assert "HS256" in refused(lambda: client_id_of(token))
    refused(lambda: verify(token, secret=SECRET, client_id=CLIENT, now=NOW))


@pytest.mark.parametrize(
    "claims", [{"sub": "1"}, {"appid": CLIENT}, {"App ID": CLIENT}, {"appId": 42}, {"appId": ""}]
)
def test_the_client_id_must_be_in_appId_exactly(claims: dict[str, object]) -> None:
    assert "appId" in refused(lambda: client_id_of(signed(claims)))


def test_a_token_of_another_client_is_refused() -> None:
    token = signed({"appId": "cs-other"})
    refused(lambda: verify(token, secret=SECRET, client_id=CLIENT, now=NOW))


@pytest.mark.parametrize(
    ("exp", "ok"),
    [(NOW // SECOND + 1, True), (NOW // SECOND, False), (NOW // SECOND - 3600, False)],
    ids=["a second left", "expiring now", "an hour ago"],
)
def test_exp_is_enforced_against_now(exp: int, ok: bool) -> None:
    token = signed({"appId": CLIENT, "exp": exp})
    if ok:
        assert verify(token, secret=SECRET, client_id=CLIENT, now=NOW)["exp"] == exp
    else:
        assert "expired" in refused(lambda: verify(token, secret=SECRET, client_id=CLIENT, now=NOW))


@given(garbage=st.text(max_size=80))
def test_garbage_is_a_401_never_a_crash(garbage: str) -> None:
    with pytest.raises(PlatformError) as caught:
        client_id_of(garbage)
    assert caught.value.status == 401


def test_the_auth_header_or_a_bearer_token() -> None:
    assert token_of({"auth": " t1 "}) == "t1"
    assert token_of({"authorization": "Bearer t2"}) == "t2"
    assert token_of({"auth": "bearer t3"}) == "t3"
    assert token_of({"auth": "t1", "authorization": "Bearer t2"}) == "t1"
    assert "auth" in refused(lambda: token_of({}))
    refused(lambda: token_of({"authorization": "Basic dTpw"}))
