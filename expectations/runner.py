"""Run a suite over a pandas DataFrame in an ephemeral GX context; summarise the result.

    outcome = validate(frame, build_customers_suite(thresholds), asset_name="customers")
    outcome.success, outcome.critical_failures, outcome.metadata()

Validation results and data docs are written under the data docs folder
(CDP_GX_DOCS_DIR, default `expectations/gx/uncommitted/`, git-ignored); set
CDP_GX_DOCS_DIR to an empty string to keep everything in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.checkpoint.actions import ValidationAction
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.metadata_types import FailureSeverity

DEFAULT_DOCS_ROOT = Path(__file__).resolve().parent / "gx" / "uncommitted"


def docs_root() -> Path | None:
    """Where validation results and data docs go; None keeps them in memory."""
    value = os.environ.get("CDP_GX_DOCS_DIR")
    if value is None:
        return DEFAULT_DOCS_ROOT
    return Path(value) if value.strip() else None


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result in plain terms."""

    expectation: str
    column: str | None
    severity: str  # critical | warning | info
    success: bool
    observed: Any = None
    error: str | None = None  # the expectation could not be evaluated (e.g. missing column)

    def describe(self) -> str:
        where = f"{self.column}: " if self.column else ""
        if self.error:
            return f"{where}{self.expectation} could not run: {self.error}"
        return f"{where}{self.expectation} failed (observed {self.observed})"


@dataclass(frozen=True)
class SuiteOutcome:
    suite_name: str
    asset_name: str
    row_count: int
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    data_docs: str | None = None

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.failures if e.severity == FailureSeverity.CRITICAL.value]

    @property
    def success(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        if self.success:
            return f"{self.suite_name}: {len(self.expectations)} expectation(s) passed"
        lines = [f"{self.suite_name}: {len(self.failures)} of {len(self.expectations)} failed"]
        lines += [f"  [{f.severity}] {f.describe()}" for f in self.failures]
        return "\n".join(lines)

    def metadata(self) -> dict[str, Any]:
        """Plain values for an asset check's metadata (Dagster wraps them)."""
        data: dict[str, Any] = {
            "suite": self.suite_name,
            "rows_validated": self.row_count,
            "expectations_evaluated": len(self.expectations),
            "expectations_failed": len(self.failures),
            "critical_failures": len(self.critical_failures),
        }
        if self.failures:
            data["failed"] = "\n".join(f"[{f.severity}] {f.describe()}" for f in self.failures)
        if self.data_docs:
            data["data_docs"] = self.data_docs
        return data


def _context(root: Path | None) -> Any:
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
    )
    config.data_docs_sites = {}
    if root is not None:
        config.stores["validation_results_store"] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(root / "validations"),
            },
        }
        config.data_docs_sites = {
            "local_site": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(root / "data_docs"),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
    return gx.get_context(project_config=config)


def _exception_message(info: Any) -> str | None:
    """GX reports an evaluation error flat or keyed by metric; find the first message."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error")
    for value in info.values():
        message = _exception_message(value)
        if message:
            return message
    return None


def _observed(result: dict[str, Any]) -> Any:
    if "observed_value" in result:
        return result["observed_value"]
    if "unexpected_percent" in result and result["unexpected_percent"] is not None:
        sample = result.get("partial_unexpected_list") or []
        percent = round(float(result["unexpected_percent"]), 2)
        return f"{percent}% unexpected, e.g. {sample[:3]}"
    return None


def summarise(
    result: ExpectationSuiteValidationResult, suite_name: str, asset_name: str, rows: int
) -> list[ExpectationOutcome]:
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        if config is None:
            continue
        severity = getattr(config, "severity", FailureSeverity.CRITICAL)
        error = _exception_message(item.exception_info)
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=config.kwargs.get("column"),
                severity=FailureSeverity(severity).value,
                success=bool(item.success) and error is None,
                observed=_observed(item.result or {}),
                error=error,
            )
        )
    return outcomes


def validate(frame: pd.DataFrame, suite: gx.ExpectationSuite, asset_name: str) -> SuiteOutcome:
    """Validate `frame` with `suite`; write results and data docs when a docs root is set."""
    root = docs_root()
    context = _context(root)
    source = context.data_sources.add_pandas("warehouse")
    batch = source.add_dataframe_asset(asset_name).add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite.name}__{asset_name}", data=batch, suite=suite)
    )
    actions: list[ValidationAction] = (
        [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if root else []
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite.name}__{asset_name}",
            validation_definitions=[definition],
            actions=actions,
            result_format="SUMMARY",
        )
    )
    run = checkpoint.run(batch_parameters={"dataframe": frame})
    (result,) = run.run_results.values()
    docs = str(root / "data_docs" / "index.html") if root else None
    return SuiteOutcome(
        suite_name=suite.name,
        asset_name=asset_name,
        row_count=len(frame),
        expectations=summarise(result, suite.name, asset_name, len(frame)),
        data_docs=docs,
    )
