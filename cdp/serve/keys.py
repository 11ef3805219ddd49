"""Write keys: which source a request belongs to.

Each source has its own key. Keys come from `CDP_COLLECT_WRITE_KEYS`
(`source=key,source2=key2`) or from a YAML file named by
`CDP_COLLECT_WRITE_KEYS_FILE`:

    sources:
      - {name: website, write_key: 2c1f...}
      - {name: ios_app, write_key: 9ab0...}

Both may be given; a key listed twice, or a source without a key, is an error.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from cdp.serve.credentials import read_yaml_file

_SOURCE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class WriteKeys:
    """Write key → source name. `source_for` compares keys in constant time."""

    by_key: tuple[tuple[str, str], ...]

    def source_for(self, key: str | None) -> str | None:
        if not key:
            return None
        found = None
        for known, source in self.by_key:
            if hmac.compare_digest(known.encode(), key.encode()):
                found = source
        return found

    @property
    def sources(self) -> list[str]:
        return sorted({source for _, source in self.by_key})

    def __repr__(self) -> str:  # keys are secrets: never print them
        return f"WriteKeys(sources={self.sources})"


def _add(pairs: dict[str, str], source: str, key: str, origin: str) -> None:
    if not _SOURCE_NAME.match(source):
        raise ValueError(f"{origin}: source name {source!r} must be 1-64 letters, digits, _ . -")
    if not key:
        raise ValueError(f"{origin}: source {source!r} has an empty write key")
    if key in pairs:
        raise ValueError(
            f"{origin}: a write key is listed twice (sources {pairs[key]!r}, {source!r})"
        )
    pairs[key] = source


def load_write_keys(env_value: str | None, file_path: str | None) -> WriteKeys:
    """Read the keys; raises ValueError with a one-line reason."""
    pairs: dict[str, str] = {}
    if env_value:
        for item in env_value.split(","):
            if not item.strip():
                continue
            source, sep, key = item.strip().partition("=")
            if not sep:
                raise ValueError(
                    "CDP_COLLECT_WRITE_KEYS: expected source=key pairs separated by commas"
                )
            _add(pairs, source.strip(), key.strip(), "CDP_COLLECT_WRITE_KEYS")
    if file_path:
        path = Path(file_path)
        data = read_yaml_file(path, "CDP_COLLECT_WRITE_KEYS_FILE")
        entries = data.get("sources") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f"{path}: expected a `sources:` list of {{name, write_key}}")
        for entry in entries:
            if not isinstance(entry, dict) or not {"name", "write_key"} <= entry.keys():
                raise ValueError(f"{path}: each source needs `name` and `write_key`")
            _add(pairs, str(entry["name"]), str(entry["write_key"]), str(path))
    if not pairs:
        raise ValueError(
            "no write keys: set CDP_COLLECT_WRITE_KEYS=source=key or CDP_COLLECT_WRITE_KEYS_FILE"
        )
    return WriteKeys(tuple((key, source) for key, source in pairs.items()))
