"""Fixtures for the reverse ETL tests; helpers live in retl_support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from retl_support import KINDS, SECRETS, Harness, harness_for, people, write_source


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    write_source(path, people(30))
    return path


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in SECRETS.values():
        monkeypatch.setenv(variable, value)


@pytest.fixture(params=KINDS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with harness_for(request.param) as h:
        yield h
