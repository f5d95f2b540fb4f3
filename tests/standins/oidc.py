"""A tiny OpenID Connect provider for the Signalen stand-in: RS256 access tokens.

Signalen's private API takes `Authorization: Bearer <JWT>` issued by the municipality's
OIDC provider (often Keycloak). Signalen checks the signature against the provider's
keys (RS256 when a JWKS endpoint is set), the issuer and the trusted audiences, and then
finds the active user whose username is the token's `email` claim
(app/signals/auth/backend.py, app/signals/admin/oidc/backends.py, app/signals/settings.py
OIDC_OP_JWKS_ENDPOINT / OIDC_OP_ISSUER / OIDC_TRUSTED_AUDIENCES in Amsterdam/signals).
A partner system gets its token with the client-credentials grant at the provider's
token endpoint (RFC 6749 §4.4).

Hand-written with `cryptography` (already a dependency); PyJWT would replace `sign` and
`verify`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{body}.{_b64(signature)}"


class InvalidToken(Exception):
    pass


def verify(
    public: rsa.RSAPublicKey, token: str, *, issuer: str, audience: str, now: float
) -> dict[str, Any]:
    """The claims of a valid token; InvalidToken otherwise."""
    try:
        header_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(_unb64(header_b64))
        claims = json.loads(_unb64(body_b64))
        signature = _unb64(sig_b64)
    except ValueError as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise InvalidToken("unexpected algorithm")  # never "none" or HS256 with the public key
    try:
        public.verify(
            signature, f"{header_b64}.{body_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as exc:
        raise InvalidToken("bad signature") from exc
    if not isinstance(claims, dict):
        raise InvalidToken("no claims")
    if claims.get("iss") != issuer:
        raise InvalidToken("wrong issuer")
    aud = claims.get("aud")
    if audience not in (aud if isinstance(aud, list) else [aud]):
        raise InvalidToken("wrong audience")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now:
        raise InvalidToken("expired")
    return claims
