"""Sessions in signed cookies (stdlib HMAC-SHA256; itsdangerous is not installed).

A session cookie is `<payload>.<signature>`: the payload is URL-safe base64 of
a small JSON object (who signed in, how, when it expires, the session's CSRF
token), the signature HMAC-SHA256 over the payload with the server's secret.
Nothing in it is secret (no password, no token); it only cannot be forged or
prolonged without the secret. A changed secret signs everyone out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SESSION_COOKIE = "cdp_ui_session"
SIGN_IN_COOKIE = "cdp_ui_sign_in"  # the sign-in form's CSRF nonce (double submit)


@dataclass(frozen=True)
class Session:
    user: str  # the user name, or the token's name for a token sign-in
    method: str  # "password" or "token"
    expires_at: float  # unix seconds
    csrf: str  # the token every form POST must carry


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks cookie values with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def sign(self, data: dict[str, object]) -> str:
        payload = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._mac(payload)}"

    def unsign(self, value: str | None) -> dict[str, object] | None:
        """The signed object, or None when missing, malformed or not signed by us."""
        if not value or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def new_session(self, user: str, method: str, lifetime_s: float) -> tuple[Session, str]:
        session = Session(user, method, time.time() + lifetime_s, secrets.token_urlsafe(24))
        cookie = self.sign(
            {
                "u": session.user,
                "m": session.method,
                "exp": session.expires_at,
                "csrf": session.csrf,
            }
        )
        return session, cookie

    def session(self, cookie: str | None) -> Session | None:
        """The session the cookie holds, if it is ours and not expired."""
        data = self.unsign(cookie)
        if data is None:
            return None
        user, method, expires, csrf = (
            data.get("u"),
            data.get("m"),
            data.get("exp"),
            data.get("csrf"),
        )
        if not (isinstance(user, str) and isinstance(method, str) and isinstance(csrf, str)):
            return None
        if not isinstance(expires, int | float) or expires <= time.time():
            return None
        return Session(user, method, float(expires), csrf)


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time check of a submitted CSRF token."""
    return bool(given) and hmac.compare_digest(str(given), expected)
