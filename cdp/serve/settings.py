"""The service's one settings object, read from the environment (docs/configuration.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cdp.config import Settings
from cdp.serve.auth import DEFAULT_RATE_LIMIT, FIELD_GROUPS, AccessTokens, load_access_tokens
from cdp.serve.keys import WriteKeys, load_write_keys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Segment's documented limits for its HTTP Tracking API.
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024


class SettingsError(ValueError):
    """A setting that cannot be used; the message is one line naming it."""


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class ServeSettings:
    """Everything `cdp serve` needs; `from_env()` documents each variable.

    write_keys         sources and their write keys (CDP_COLLECT_WRITE_KEYS, or the
                       YAML file CDP_COLLECT_WRITE_KEYS_FILE)
    spool_dir          the append-only spool (CDP_COLLECT_SPOOL_DIR, default <data>/spool)
    landing_dir        where full spool segments go: <data>/landing/web_events
    roll_seconds       a non-empty segment older than this rolls into landing
                       (CDP_COLLECT_ROLL_SECONDS, default 5)
    roll_bytes         a segment this large rolls at once (CDP_COLLECT_ROLL_BYTES, 16 MiB)
    max_pending_bytes  bytes waiting for the disk before requests get 429
                       (CDP_COLLECT_MAX_PENDING_BYTES, 8 MiB)
    min_free_bytes     free disk space under which requests get 503
                       (CDP_COLLECT_MIN_FREE_BYTES, 64 MiB)
    dedupe_ids         messageIds remembered for de-duplication (CDP_COLLECT_DEDUPE_IDS, 500,000)
    body_timeout       seconds a client may take to send its body before 408
                       (CDP_COLLECT_BODY_TIMEOUT, 10)
    cors_origins       origins allowed to call from a browser (CDP_COLLECT_CORS_ORIGINS,
                       comma-separated, default `*`)
    access_tokens      Profile API tokens per space and field group (CDP_PROFILE_TOKENS, or
                       the YAML file CDP_PROFILE_TOKENS_FILE; rate limit per token
                       CDP_PROFILE_RATE_LIMIT requests/s, default 100)
    consent_gates      field group -> consent purpose it needs (CDP_PROFILE_CONSENT_GATES,
                       `group=purpose,...`): withheld unless the profile has it granted
    """

    write_keys: WriteKeys
    spool_dir: Path
    landing_dir: Path
    roll_seconds: float = 5.0
    roll_bytes: int = 16 * 1024 * 1024
    max_pending_bytes: int = 8 * 1024 * 1024
    min_free_bytes: int = 64 * 1024 * 1024
    dedupe_ids: int = 500_000
    body_timeout: float = 10.0
    cors_origins: tuple[str, ...] = ("*",)
    max_event_bytes: int = MAX_EVENT_BYTES
    max_batch_bytes: int = MAX_BATCH_BYTES
    access_tokens: AccessTokens = field(default_factory=AccessTokens)
    consent_gates: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> ServeSettings:
        settings = settings or Settings.from_env()
        spool = os.environ.get("CDP_COLLECT_SPOOL_DIR")
        origins = os.environ.get("CDP_COLLECT_CORS_ORIGINS", "*")
        try:
            keys = load_write_keys(
                os.environ.get("CDP_COLLECT_WRITE_KEYS"),
                os.environ.get("CDP_COLLECT_WRITE_KEYS_FILE"),
            )
            tokens = load_access_tokens(
                os.environ.get("CDP_PROFILE_TOKENS"),
                os.environ.get("CDP_PROFILE_TOKENS_FILE"),
                _float("CDP_PROFILE_RATE_LIMIT", DEFAULT_RATE_LIMIT, minimum=0.001),
            )
            gates = parse_consent_gates(os.environ.get("CDP_PROFILE_CONSENT_GATES"))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return cls(
            access_tokens=tokens,
            consent_gates=gates,
            write_keys=keys,
            spool_dir=Path(spool).resolve() if spool else settings.data_dir / "spool",
            landing_dir=settings.landing_dir / "web_events",
            roll_seconds=_float("CDP_COLLECT_ROLL_SECONDS", 5.0, minimum=0.01),
            roll_bytes=_int("CDP_COLLECT_ROLL_BYTES", 16 * 1024 * 1024, minimum=1),
            max_pending_bytes=_int("CDP_COLLECT_MAX_PENDING_BYTES", 8 * 1024 * 1024, minimum=1),
            min_free_bytes=_int("CDP_COLLECT_MIN_FREE_BYTES", 64 * 1024 * 1024),
            dedupe_ids=_int("CDP_COLLECT_DEDUPE_IDS", 500_000),
            body_timeout=_float("CDP_COLLECT_BODY_TIMEOUT", 10.0, minimum=0.01),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        )


def parse_consent_gates(raw: str | None) -> tuple[tuple[str, str], ...]:
    """`pii=personalisation,segments=marketing` -> ((group, purpose), ...)."""
    gates: list[tuple[str, str]] = []
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        group, sep, purpose = (part.strip() for part in item.partition("="))
        if not sep or not purpose or group not in FIELD_GROUPS:
            raise ValueError(
                f"CDP_PROFILE_CONSENT_GATES: {item.strip()!r} must be group=purpose "
                f"with a group of {', '.join(FIELD_GROUPS)}"
            )
        gates.append((group, purpose))
    return tuple(gates)
