"""Access tokens: parsing (env and YAML), scope checks and the rate limiter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cdp.serve.auth import ApiError, RateLimiter, check_token, load_access_tokens
from cdp.serve.settings import parse_consent_gates


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_env_and_yaml_tokens(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yml"
    path.write_text(
        "tokens:\n  - {name: service, space: shop, groups: ['*'], token: s3cret, rate_limit: 5}\n"
    )
    tokens = load_access_tokens("web:shop:traits+segments=webtok", str(path))
    web, service = tokens.find("webtok"), tokens.find("s3cret")
    assert web is not None and web.groups == {"traits", "segments"} and web.space == "shop"
    assert service is not None and service.holds("pii") and service.rate_limit == 5
    assert tokens.find("nope") is None and tokens.find(None) is None
    assert "webtok" not in repr(tokens) and "s3cret" not in repr(tokens)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ("web:shop=tok", "expected name:space:group+group=token"),
        ("web:shop:passwords=tok", "unknown field group 'passwords'"),
        ("web:shop:traits=", "empty secret"),
        ("web:shop:traits=a,app:shop:traits=a", "listed twice"),
    ],
)
def test_bad_tokens_are_one_line_errors(env: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        load_access_tokens(env, None)


def test_bad_consent_gate() -> None:
    assert parse_consent_gates("pii=personalisation") == (("pii", "personalisation"),)
    with pytest.raises(ValueError, match="must be group=purpose"):
        parse_consent_gates("wallet=marketing")


def test_scope_and_rate_limit() -> None:
    tokens = load_access_tokens("web:shop:segments=tok", None, rate_limit=2)
    clock = Clock()
    limiter = RateLimiter(clock)
    with pytest.raises(ApiError) as unknown:
        check_token(tokens, limiter, "bad", "shop")
    assert unknown.value.status == 401
    with pytest.raises(ApiError) as other_space:
        check_token(tokens, limiter, "tok", "bank")
    assert other_space.value.status == 403
    assert check_token(tokens, limiter, "tok", "shop").holds("segments")
    assert not check_token(tokens, limiter, "tok", "shop").holds("pii")
    with pytest.raises(ApiError) as limited:  # a burst of 2 per second, both used
        check_token(tokens, limiter, "tok", "shop")
    assert limited.value.status == 429 and limited.value.headers["Retry-After"] == "1"
    clock.now = 0.5  # half a second refills one request
    assert check_token(tokens, limiter, "tok", "shop").token == "web"
