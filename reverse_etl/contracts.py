"""The dbt contracts of the relations syncs read, from dbt's manifest.json.

A sync's `source` and the privacy gate's relations (consent, suppression) are
`schema.table` names; in this project they are dbt models with enforced
contracts (`config.contract.enforced` and every column's `data_type`). When
the manifest is at hand, `contract_problems` says which columns a sync reads
that the contract does not promise, so a typo or a dropped column is a config
error when `syncs.yml` is loaded instead of a failed run. The checks and the
choice of error against warning are documented in reverse_etl/README.md
("Checked against the dbt contracts").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reverse_etl.config import SyncDefinition


@dataclass(frozen=True)
class ModelContract:
    """What the manifest says of one dbt model: its relation and declared columns."""

    model: str
    relation: str  # schema.alias, lower case
    enforced: bool
    columns: frozenset[str]  # declared column names, lower case


@dataclass(frozen=True)
class DbtContracts:
    """The models of one manifest by relation (`schema.table`, lower case)."""

    origin: str
    models: Mapping[str, ModelContract]

    def get(self, relation: str) -> ModelContract | None:
        return self.models.get(relation.lower())


def contracts_from_manifest(manifest: Mapping[str, Any], origin: str) -> DbtContracts:
    models: dict[str, ModelContract] = {}
    for node in (manifest.get("nodes") or {}).values():
        if node.get("resource_type") != "model":
            continue
        relation = f"{node['schema']}.{node.get('alias') or node['name']}".lower()
        contract = (node.get("config") or {}).get("contract") or {}
        models[relation] = ModelContract(
            model=node["name"],
            relation=relation,
            enforced=bool(contract.get("enforced")),
            columns=frozenset(name.lower() for name in node.get("columns") or {}),
        )
    return DbtContracts(origin=origin, models=models)


def read_contracts(manifest: Mapping[str, Any] | Path | None) -> DbtContracts | None:
    """The contracts of a manifest (a loaded mapping or a manifest.json path);
    None when there is none (no path, or the file was not written yet)."""
    if manifest is None:
        return None
    if isinstance(manifest, Path):
        if not manifest.is_file():
            return None
        with manifest.open(encoding="utf-8") as handle:
            return contracts_from_manifest(json.load(handle), str(manifest))
    return contracts_from_manifest(manifest, "the dbt manifest")


def _missing(contract: ModelContract, wanted: list[tuple[str, str]]) -> list[str]:
    """`field.path: column 'c' is not in the contract of model m (relation)` lines."""
    return [
        f"{where}: column '{column}' is not in the contract of model {contract.model} "
        f"({contract.relation})"
        for where, column in wanted
        if column.lower() not in contract.columns
    ]


def contract_problems(sync: SyncDefinition, contracts: DbtContracts) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one sync, each a `field.path: problem` line.

    Errors: a column the sync reads (mapped fields, primary_key, customer_key)
    missing from the source model's enforced contract; a source or privacy
    relation that is a dbt model without an enforced contract; the consent
    purpose's column or a customer_key missing from the consent or suppression
    model's contract. Warning: a source that is no dbt model at all (a table
    managed elsewhere): its columns cannot be checked here.
    """
    errors: list[str] = []
    warnings: list[str] = []
    source = contracts.get(sync.source)
    if source is None:
        warnings.append(
            f"source: {sync.source} is not a model in {contracts.origin}; "
            "its columns are not checked against a contract"
        )
    elif not source.enforced:
        errors.append(
            f"source: model {source.model} ({source.relation}) has no enforced contract; "
            "declare config.contract {enforced: true} and every column's data_type"
        )
    else:
        wanted = [(f"fields.{name}.source", m.source) for name, m in sync.fields.items()]
        wanted.append(("primary_key", sync.primary_key))
        if sync.customer_key is not None:
            wanted.append(("customer_key", sync.customer_key))
        errors.extend(_missing(source, wanted))

    privacy = sync.privacy
    gated: list[tuple[str, str, list[tuple[str, str]]]] = []
    if sync.consent_purpose is not None:
        consent = privacy.consent
        purpose = consent.purposes[sync.consent_purpose]
        gated.append(
            (
                "privacy.consent",
                consent.relation,
                [
                    ("privacy.consent.customer_key", consent.customer_key),
                    (f"privacy.consent.purposes.{sync.consent_purpose}.column", purpose.column),
                ],
            )
        )
    if privacy.suppression is not None:
        suppression = privacy.suppression
        gated.append(
            (
                "privacy.suppression",
                suppression.relation,
                [("privacy.suppression.customer_key", suppression.customer_key)]
                + (
                    [("privacy.suppression.reason_column", suppression.reason_column)]
                    if suppression.reason_column is not None
                    else []
                ),
            )
        )
    for where, relation, wanted in gated:
        model = contracts.get(relation)
        if model is None:
            warnings.append(
                f"{where}.relation: {relation} is not a model in {contracts.origin}; "
                "its columns are not checked against a contract"
            )
        elif not model.enforced:
            errors.append(
                f"{where}.relation: model {model.model} ({model.relation}) has no enforced "
                "contract; declare config.contract {enforced: true} and every column's data_type"
            )
        else:
            errors.extend(_missing(model, wanted))
    return errors, warnings
