"""Access tokens: signed with SECRET_KEY and HMAC-SHA256 only, expiring, tamper-evident."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from itsdangerous import URLSafeSerializer

from service.auth.tokens import TokenExpired, TokenInvalid, issue_token, read_token
from service.models import Role

SECRET = "unit-test-secret-key-of-enough-length"
NOW = 1_800_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_token_states_the_user_role_and_lifetime() -> None:
    token = issue_token(SECRET, 42, Role.VIEWER, 3600, now=NOW)
    claims = read_token(SECRET, token, now=NOW + 10)
    assert (claims.user_id, claims.role) == (42, Role.VIEWER)
    assert claims.expires_at - claims.issued_at == 3600


def test_a_token_is_refused_once_expired() -> None:
    token = issue_token(SECRET, 1, Role.SUPERVISOR, 60, now=NOW)
    read_token(SECRET, token, now=NOW + 59)
    with pytest.raises(TokenExpired, match="expired"):
        read_token(SECRET, token, now=NOW + 60)


def test_a_token_signed_with_another_key_is_invalid() -> None:
    token = issue_token("another-secret-key", 1, Role.SUPERVISOR, 60, now=NOW)
    with pytest.raises(TokenInvalid, match="signature"):
        read_token(SECRET, token, now=NOW)


def test_a_token_whose_payload_was_edited_is_invalid() -> None:
    token = issue_token(SECRET, 7, Role.VIEWER, 60, now=NOW)
    _, signature = token.rsplit(".", 1)
    promoted = b64(json.dumps({"sub": 7, "role": "supervisor", "iat": 0, "exp": 2**40}).encode())
    with pytest.raises(TokenInvalid):
        read_token(SECRET, f"{promoted}.{signature}", now=NOW)


@pytest.mark.parametrize("position", [0, 10, -1])
def test_a_token_with_any_character_changed_is_invalid(position: int) -> None:
    token = issue_token(SECRET, 7, Role.VIEWER, 60, now=NOW)
    changed = "A" if token[position] != "A" else "B"
    tampered = (
        token[:position] + changed + token[position + 1 :]
        if position != -1
        else token[:-1] + changed
    )
    with pytest.raises(TokenInvalid):
        read_token(SECRET, tampered, now=NOW)


def test_a_token_signed_with_another_algorithm_is_invalid() -> None:
    # Same key and salt, itsdangerous's default HMAC-SHA1 instead of the pinned SHA-256.
    sha1 = URLSafeSerializer(SECRET, salt="service.auth.access-token")
    token = sha1.dumps({"sub": 1, "role": "supervisor", "iat": int(NOW), "exp": int(NOW) + 60})
    with pytest.raises(TokenInvalid):
        read_token(SECRET, token, now=NOW)


@pytest.mark.parametrize(
    "token",
    [
        # JWT with "alg": "none" and an empty signature.
        b64(b'{"alg":"none","typ":"JWT"}') + "." + b64(b'{"sub":1,"role":"supervisor"}') + ".",
        # Our format with the signature left out or empty.
        b64(b'{"sub":1,"role":"supervisor","iat":0,"exp":9999999999}'),
        b64(b'{"sub":1,"role":"supervisor","iat":0,"exp":9999999999}') + ".",
        "",
        "not a token at all",
    ],
)
def test_an_unsigned_token_is_invalid(token: str) -> None:
    with pytest.raises(TokenInvalid):
        read_token(SECRET, token, now=NOW)


@pytest.mark.parametrize(
    "payload",
    [
        [1, "supervisor"],
        {"sub": "1", "role": "supervisor", "iat": 0, "exp": 2**40},
        {"sub": True, "role": "supervisor", "iat": 0, "exp": 2**40},
        {"sub": 1, "role": "admin", "iat": 0, "exp": 2**40},
        {"sub": 1, "role": "supervisor", "iat": 0},
    ],
)
def test_a_correctly_signed_payload_of_the_wrong_shape_is_invalid(payload: object) -> None:
    signer = URLSafeSerializer(
        SECRET, salt="service.auth.access-token", signer_kwargs={"digest_method": hashlib.sha256}
    )
    with pytest.raises(TokenInvalid):
        read_token(SECRET, signer.dumps(payload), now=NOW)
