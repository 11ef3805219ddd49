"""The product distribution ships no demo or test code (issue #20's "pip install ."):
the packages pyproject.toml's find rule selects hold no contract server, fault
hook or sample-data generator; those live in demo/ (cdp-demo) and tests/."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

REPO = Path(__file__).resolve().parent.parent


def product_packages() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    return find_packages(where=str(REPO), include=find["include"], exclude=find.get("exclude", ()))


def test_the_product_packages_hold_no_demo_or_test_code() -> None:
    packages = product_packages()
    assert {"cdp", "reverse_etl", "orchestration", "expectations"} <= set(packages)
    modules = [
        path.relative_to(REPO).as_posix()
        for package in packages
        for path in (REPO / package.replace(".", "/")).glob("*.py")
    ]
    assert modules, packages
    demo_or_test = [
        module
        for module in modules
        if any(word in module for word in ("contract_server", "_server.py", "faults", "testing"))
        or "sample_data" in module
    ]
    assert demo_or_test == []
    assert not any(package.startswith(("cdp_demo", "tests", "demo")) for package in packages)
