"""dbt names PostgreSQL can hold: a unit test's name becomes a relation's name,
and PostgreSQL refuses identifiers longer than 63 bytes (the fresh-clone run of
integ5 failed the PostgreSQL build on a 66-character unit test name)."""

from __future__ import annotations

from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
POSTGRES_MAX_IDENTIFIER = 63


def _declared_names() -> dict[str, str]:
    """Unit test and model names declared in the project's YAML: name -> file."""
    names: dict[str, str] = {}
    for path in sorted(PROJECT.glob("models/**/*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for key in ("unit_tests", "models"):
            for entry in document.get(key) or []:
                names[str(entry["name"])] = str(path.relative_to(PROJECT))
    return names


def test_the_yaml_declares_unit_tests_and_models() -> None:
    names = _declared_names()
    assert "customers" in names
    assert any(name.startswith("probabilistic_") for name in names)


def test_every_name_fits_a_postgres_identifier() -> None:
    too_long = {
        name: path
        for name, path in _declared_names().items()
        if len(name.encode()) > POSTGRES_MAX_IDENTIFIER
    }
    assert too_long == {}, f"names over {POSTGRES_MAX_IDENTIFIER} bytes: {too_long}"
