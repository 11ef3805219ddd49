"""A malformed match-rules file fails the build naming the rule and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.identity.conftest import DBT_PROJECT, run_dbt

RULES = Path("models/intermediate/identity/_identity__match_rules.yml")


def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(
        DBT_PROJECT, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    return copy


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "                  threshold: 0.85\n            - name: email_held_by_one_person",
            "                  threshold: high\n            - name: email_held_by_one_person",
            ["email_and_first_name", "threshold"],
        ),
        (
            "- {attribute: birth_date, comparison: exact}",
            "- {attribute: birthday, comparison: exact}",
            ["names_and_birth_date", "conditions[0].attribute", "birthday"],
        ),
        (
            "- {attribute: shop_order_id, normalizers: [digits_only], comparison: exact}",
            "- {attribute: shop_order_id, normalizers: [digits_only], "
            "comparison: jaro_winkler, threshold: 0.9}",
            ["same_shop_order_id", "conditions", "blocking"],
        ),
    ],
)
def test_malformed_rule_fails_naming_rule_and_field(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    project = project_copy(tmp_path)
    rules = project / RULES
    text = rules.read_text()
    assert old in text
    rules.write_text(text.replace(old, new, 1))
    completed = run_dbt(
        tmp_path,
        tmp_path / "empty.duckdb",
        ["compile", "--select", "int_identity_edges_matched"],
        project=project,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    for fragment in expected:
        assert fragment in output, output[-3000:]
