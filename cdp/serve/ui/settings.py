"""The customer page's settings, from the environment (docs/ui.md).

CDP_UI_USERS           the user list inline: `name=HASH,name2=HASH2` (hashes from
                       `python -m cdp.serve.ui.passwords`; quote them: they hold `$`)
CDP_UI_USERS_FILE      or a YAML file: `users: {name: HASH, ...}`
CDP_UI_SESSION_SECRET  the key that signs session cookies (at least 16 characters);
                       unset: a random key per process (sessions end at a restart,
                       and several nodes need the same key)
CDP_UI_SESSION_HOURS   how long a sign-in lasts (default 8)
CDP_UI_SECURE_COOKIES  1 to mark cookies Secure (behind HTTPS); default 0
CDP_UI_EXPORT_WAIT     seconds the GDPR export waits for a build holding the
                       warehouse before it answers 503 (default 5)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cdp.serve.ui.passwords import HashError, parse_hash


class UiSettingsError(ValueError):
    """A setting of the customer page that cannot be used; one line naming it."""


def _number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UiSettingsError(f"{name}={raw!r} is not a number") from None
    if not value >= minimum:
        raise UiSettingsError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def _checked(users: dict[str, str], origin: str) -> dict[str, str]:
    for name, stored in users.items():
        if not name or any(c in name for c in ":,= \t"):
            raise UiSettingsError(f"{origin}: user name {name!r} is empty or holds : , = or spaces")
        try:
            parse_hash(stored)
        except HashError as exc:
            raise UiSettingsError(f"{origin}: user {name!r}: {exc}") from None
    return users


def parse_users(inline: str | None, path: str | None) -> dict[str, str]:
    """User name -> password hash, from CDP_UI_USERS and/or CDP_UI_USERS_FILE."""
    users: dict[str, str] = {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UiSettingsError(
                f"CDP_UI_USERS_FILE: cannot read {path}: {exc.strerror}"
            ) from None
        except yaml.YAMLError:
            raise UiSettingsError(f"CDP_UI_USERS_FILE: {path} is not valid YAML") from None
        entries = loaded.get("users") if isinstance(loaded, dict) else None
        if not isinstance(entries, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in entries.items()
        ):
            raise UiSettingsError(f"CDP_UI_USERS_FILE: {path} needs `users: {{name: hash}}`")
        users.update(_checked(entries, "CDP_UI_USERS_FILE"))
    for item in (inline or "").split(","):
        if not item.strip():
            continue
        name, sep, stored = item.strip().partition("=")
        if not sep:
            raise UiSettingsError("CDP_UI_USERS: each entry is name=hash")
        users.update(_checked({name.strip(): stored.strip()}, "CDP_UI_USERS"))
    return users


@dataclass(frozen=True)
class UiSettings:
    users: dict[str, str] = field(default_factory=dict)
    session_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    session_hours: float = 8.0
    secure_cookies: bool = False
    export_wait_s: float = 5.0

    @classmethod
    def from_env(cls) -> UiSettings:
        secret = os.environ.get("CDP_UI_SESSION_SECRET", "")
        if secret and len(secret) < 16:
            raise UiSettingsError("CDP_UI_SESSION_SECRET must be at least 16 characters")
        return cls(
            users=parse_users(os.environ.get("CDP_UI_USERS"), os.environ.get("CDP_UI_USERS_FILE")),
            session_secret=secret.encode() if secret else secrets.token_bytes(32),
            session_hours=_number("CDP_UI_SESSION_HOURS", 8.0, 0.01),
            secure_cookies=os.environ.get("CDP_UI_SECURE_COOKIES", "0").strip() in ("1", "true"),
            export_wait_s=_number("CDP_UI_EXPORT_WAIT", 5.0, 0.0),
        )
