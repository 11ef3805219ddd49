"""Thresholds of the suites: defaults here, overrides in `expectations/thresholds.yml`.

The YAML path can be moved with CDP_GX_THRESHOLDS (tests point it at a scratch file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

DEFAULT_THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.yml"


@dataclass(frozen=True)
class RawLandingThresholds:
    max_growth_factor: float = 20.0


@dataclass(frozen=True)
class CustomersThresholds:
    min_email_valid_rate: float = 0.98
    min_phone_valid_rate: float = 0.98
    max_null_rate: dict[str, float] = field(
        default_factory=lambda: {
            "email": 0.5,
            "phone_e164": 0.8,
            "first_name": 0.6,
            "last_name": 0.6,
        }
    )
    max_cluster_size: int = 500
    max_changed_id_share: float = 0.2


@dataclass(frozen=True)
class SegmentThresholds:
    max_size_change: float = 0.5


@dataclass(frozen=True)
class ConsentThresholds:
    min_identified_rate: float = 0.95


@dataclass(frozen=True)
class Thresholds:
    raw_landing: RawLandingThresholds = field(default_factory=RawLandingThresholds)
    customers: CustomersThresholds = field(default_factory=CustomersThresholds)
    segments: SegmentThresholds = field(default_factory=SegmentThresholds)
    consent: ConsentThresholds = field(default_factory=ConsentThresholds)


def _merge(section: Any, overrides: Any, where: str) -> Any:
    if overrides is None:
        return section
    if not isinstance(overrides, dict):
        raise ValueError(f"{where}: expected a mapping")
    known = {f.name for f in fields(section)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return replace(section, **overrides)


def load_thresholds(path: Path | None = None) -> Thresholds:
    """Defaults overridden by the YAML file (missing file: defaults). ValueError names the key."""
    path = path or Path(os.environ.get("CDP_GX_THRESHOLDS", DEFAULT_THRESHOLDS_PATH))
    if not path.exists():
        return Thresholds()
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping of sections")
    base = Thresholds()
    unknown = sorted(set(document) - {f.name for f in fields(base)})
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(unknown)}")
    return Thresholds(
        **{
            f.name: _merge(getattr(base, f.name), document.get(f.name), f"{path}: {f.name}")
            for f in fields(base)
        }
    )
