"""cdp/serve/credentials.py: the Basic header and the settings files that the
collector's write keys and the Profile API's tokens are read from."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from cdp.serve.auth import load_access_tokens
from cdp.serve.credentials import basic_user, read_yaml_file
from cdp.serve.keys import load_write_keys


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_user_reads_the_user_name_and_ignores_the_rest() -> None:
    assert basic_user(_basic("wk_123:")) == "wk_123"
    assert basic_user(_basic("tok:secret")) == "tok"
    assert basic_user(_basic(":only-a-password")) is None
    assert basic_user("Bearer abc") is None
    assert basic_user("Basic not-base64!") is None
    assert basic_user(None) is None


def test_an_unreadable_or_invalid_file_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yml"
    with pytest.raises(ValueError, match=r"^CDP_X: cannot read .*missing\.yml"):
        read_yaml_file(missing, "CDP_X")
    bad = tmp_path / "bad.yml"
    bad.write_text("tokens: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^CDP_X: .*bad\.yml is not valid YAML$"):
        read_yaml_file(bad, "CDP_X")


def test_keys_and_tokens_files_name_their_own_setting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("a: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^CDP_COLLECT_WRITE_KEYS_FILE: "):
        load_write_keys(None, str(bad))
    with pytest.raises(ValueError, match=r"^CDP_PROFILE_TOKENS_FILE: "):
        load_access_tokens(None, str(bad))
    good = tmp_path / "keys.yml"
    good.write_text("sources:\n  - {name: web, write_key: wk_1}\n", encoding="utf-8")
    assert load_write_keys(None, str(good)).source_for("wk_1") == "web"
