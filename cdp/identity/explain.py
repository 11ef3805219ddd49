"""`cdp identity explain <customer_id or email>`: the records behind a customer and their links."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cdp.warehouse import Warehouse


class CustomerNotFound(LookupError):
    """No customer matches the id or email asked for."""


@dataclass
class Evidence:
    """Why the Fellegi-Sunter model linked two records: the prior, each
    comparison's level and partial weight, and their sum."""

    match_weight: float
    prior_match_weight: float | None
    comparisons: list[tuple[str, str, float]]  # (attribute, level, partial weight)

    def render(self) -> str:
        prior = ""
        if self.prior_match_weight is not None:
            prior = f" = prior {self.prior_match_weight:+.2f}"
        parts = ", ".join(
            f"{name} {level} {weight:+.2f}" for name, level, weight in self.comparisons
        )
        return f"match weight {self.match_weight:.2f}{prior}; {parts}"


@dataclass
class Explanation:
    """A customer's golden profile, its records and the links between them."""

    customer_id: str
    profile: dict[str, object]
    records: pd.DataFrame
    edges: pd.DataFrame
    history: pd.DataFrame
    evidence: dict[tuple[str, str], Evidence] = field(default_factory=dict)
    # Fellegi-Sunter matches of this customer's records that the conflict
    # guard kept from being edges: left_record_key, right_record_key,
    # match_weight, conflicting_guards
    kept_apart: pd.DataFrame = field(default_factory=pd.DataFrame)

    def render(self) -> str:
        lines = [f"customer {self.customer_id}"]
        for key, value in self.profile.items():
            if key != "customer_id" and value is not None:
                lines.append(f"  {key:<24}{value}")
        lines += ["", f"{len(self.records)} source records"]
        for row in self.records.itertuples(index=False):
            lines.append(
                f"  {row.source_name}:{row.source_record_id}  "
                f"{row.first_name or ''} {row.last_name or ''}  "
                f"{row.email or ''}  {row.phone_e164 or ''}"
            )
        lines += ["", f"{len(self.edges)} links"]
        if self.edges.empty:
            lines.append("  none (a single record)")
        for row in self.edges.itertuples(index=False):
            lines.append(
                f"  {row.left_record_key}  <->  {row.right_record_key}   "
                f"rule {row.rule_order}: {row.rule_name} (score {row.score:.3f})"
            )
            found = self.evidence.get((row.left_record_key, row.right_record_key))
            if found is not None:
                lines.append(f"      {found.render()}")
        if not self.kept_apart.empty:
            lines += ["", f"{len(self.kept_apart)} matches kept apart by the conflict guard"]
            for row in self.kept_apart.itertuples(index=False):
                lines.append(
                    f"  {row.left_record_key}  <->  {row.right_record_key}   "
                    f"match weight {row.match_weight:.2f}; the strong clusters hold "
                    f"different: {row.conflicting_guards}"
                )
        if not self.history.empty:
            lines += ["", "id history"]
            for row in self.history.itertuples(index=False):
                related = f" ({row.related_customer_id})" if row.related_customer_id else ""
                lines.append(f"  {row.occurred_at}  {row.event_type}{related}")
        return "\n".join(lines)


def resolve_customer_id(connection: Warehouse, target: str) -> str:
    """The customer id itself, or the customer holding the email / identifier `target`."""
    found = connection.one(
        "select customer_id from marts.customers where customer_id = ?", [target]
    )
    if found:
        return str(found[0])
    by_identifier = connection.rows(
        "select customer_id, count(*) from marts.customer_identifiers "
        "where identifier_value = lower(trim(?)) or identifier_value = trim(?) "
        "group by customer_id order by count(*) desc, customer_id",
        [target, target],
    )
    if not by_identifier:
        raise CustomerNotFound(f"no customer has id or identifier '{target}'")
    return str(by_identifier[0][0])


def explain(connection: Warehouse, target: str) -> Explanation:
    """Explain the customer with id `target`, or holding the email/identifier `target`."""
    customer_id = resolve_customer_id(connection, target)
    names, found = connection.fetch(
        "select * from marts.customers where customer_id = ?", [customer_id]
    )
    if not found:  # resolve_customer_id found it, so only a concurrent rebuild gets here
        raise CustomerNotFound(f"customer {customer_id} disappeared from marts.customers")
    profile = dict(zip(names, found[0], strict=True))
    records = connection.df(
        "select r.source_name, r.source_record_id, r.first_name, r.last_name, "
        "r.email, r.phone_e164 "
        "from marts.customer_source_records as c "
        "join intermediate.int_identity_records_prepared as r on r.record_key = c.record_key "
        "where c.customer_id = ? order by r.source_name, r.source_record_id",
        [customer_id],
    )
    records = records.astype(object).where(records.notna(), None)
    edges = connection.df(
        "select left_record_key, right_record_key, rule_name, rule_order, score "
        "from marts.identity_edges where customer_id = ? "
        "order by rule_order, left_record_key, right_record_key",
        [customer_id],
    )
    history = connection.df(
        "select occurred_at, event_type, related_customer_id from marts.customer_id_history "
        "where customer_id = ? or related_customer_id = ? order by occurred_at",
        [customer_id, customer_id],
    )
    history = history.astype(object).where(history.notna(), None)
    evidence = probabilistic_evidence(connection, customer_id)
    kept_apart = connection.df(
        "select p.left_record_key, p.right_record_key, p.match_weight, p.conflicting_guards "
        "from intermediate.int_identity_pairs_probabilistic as p "
        "where p.is_match and not p.is_edge and exists ("
        "select 1 from marts.customer_source_records as c where c.customer_id = ? "
        "and c.record_key in (p.left_record_key, p.right_record_key)) "
        "order by p.match_weight desc, p.left_record_key, p.right_record_key",
        [customer_id],
    )
    return Explanation(customer_id, profile, records, edges, history, evidence, kept_apart)


def probabilistic_evidence(
    connection: Warehouse, customer_id: str
) -> dict[tuple[str, str], Evidence]:
    """The weights behind each of the customer's `probabilistic` edges, from
    intermediate.int_identity_pairs_probabilistic (its <attribute>_level and
    <attribute>_weight columns are the configured comparisons)."""
    pairs = connection.df(
        "select p.* from intermediate.int_identity_pairs_probabilistic as p "
        "join marts.identity_edges as e on e.left_record_key = p.left_record_key "
        "and e.right_record_key = p.right_record_key "
        "where e.customer_id = ? and e.rule_name = 'probabilistic'",
        [customer_id],
    )
    if pairs.empty:
        return {}
    prior_row = connection.one("select prior_match_weight from intermediate.int_identity_fs_prior")
    prior = float(prior_row[0]) if prior_row and prior_row[0] is not None else None
    attributes = [c[: -len("_level")] for c in pairs.columns if c.endswith("_level")]
    found = {}
    for row in pairs.to_dict("records"):
        comparisons = [
            (name, str(row[f"{name}_level"]), float(row[f"{name}_weight"]))
            for name in attributes
            if f"{name}_weight" in row
        ]
        key = (str(row["left_record_key"]), str(row["right_record_key"]))
        found[key] = Evidence(float(row["match_weight"]), prior, comparisons)
    return found
