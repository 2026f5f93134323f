"""Access tokens: signed, expiring statements of who the bearer is.

Why itsdangerous and not PyJWT: Flask already installs it, so tokens cost no new dependency, and
its serializer has no algorithm field in the token at all. The HMAC-SHA256 signature is pinned
here on the server, so the JWT family of mistakes (``alg: none``, an RS256 public key accepted as
an HS256 secret) cannot happen. The frontend only stores the token and sends it back; it never
needs to read it, so a standard JWT format would buy nothing here.

The payload is signed, not encrypted: it holds the user id, role and times, nothing secret.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from service.models import Role

#: Keeps these signatures apart from any other use of SECRET_KEY.
_SALT = "service.auth.access-token"


class TokenError(Exception):
    """The token cannot be used; the message says why, safe to show to the client."""


class TokenInvalid(TokenError):
    """The token is malformed, tampered with, or signed with another key or algorithm."""


class TokenExpired(TokenError):
    """The token was valid but its lifetime has passed."""


@dataclass(frozen=True, slots=True)
class Claims:
    """What a valid token states: who, with which role, issued and expiring when (epoch s)."""

    user_id: int
    role: Role
    issued_at: int
    expires_at: int
    #: The user's ``token_version`` when it was issued; a newer one makes the token void.
    version: int = 0


@functools.lru_cache(maxsize=4)  # one key in service; building a serializer costs every request
def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(
        secret_key, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def issue_token(
    secret_key: str,
    user_id: int,
    role: Role,
    ttl_seconds: int,
    now: float | None = None,
    version: int = 0,
) -> str:
    """A token for ``user_id`` that expires ``ttl_seconds`` after ``now`` (default: the clock)."""
    issued_at = int(time.time() if now is None else now)
    payload = {
        "sub": user_id,
        "role": role.value,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "ver": version,
    }
    token: str = _serializer(secret_key).dumps(payload)
    return token


def read_token(secret_key: str, token: str, now: float | None = None) -> Claims:
    """The claims of ``token``; raise :class:`TokenInvalid` or :class:`TokenExpired`.

    The signature is checked before anything in the payload is looked at.
    """
    try:
        payload: Any = _serializer(secret_key).loads(token)
    except BadSignature:
        raise TokenInvalid("The token is invalid: its signature does not match.") from None
    claims = _claims_of(payload)
    if claims.expires_at <= (time.time() if now is None else now):
        raise TokenExpired("The token has expired; request a new one from POST /auth/token.")
    return claims


def _claims_of(payload: Any) -> Claims:
    # A correctly signed payload of the wrong shape can only come from a bug or an old format.
    if not isinstance(payload, dict):
        raise TokenInvalid("The token is invalid: its payload is not an object.")
    numbers = [payload.get(name) for name in ("sub", "iat", "exp")] + [payload.get("ver", 0)]
    ints = [n for n in numbers if isinstance(n, int) and not isinstance(n, bool)]
    if len(ints) != len(numbers):
        raise TokenInvalid("The token is invalid: its payload is incomplete.")
    role = payload.get("role")
    if role not in tuple(Role):
        raise TokenInvalid("The token is invalid: it names an unknown role.")
    user_id, issued_at, expires_at, version = ints
    return Claims(user_id, Role(role), issued_at, expires_at, version)
