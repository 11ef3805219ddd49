"""Reading credentials: the user name of an HTTP Basic header, and the YAML
files that write keys (collector), access tokens (Profile API) and users
(customer page) are configured in. Every error is one line naming the setting.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import yaml


def basic_user(header: str | None) -> str | None:
    """The user name of an HTTP Basic `Authorization` header (a key or token)."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def read_yaml_file(path: str | Path, setting: str) -> Any:
    """The parsed YAML file that `setting` names; ValueError with one line if unreadable."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{setting}: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise ValueError(f"{setting}: {path} is not valid YAML") from None
