"""Accuracy benchmark: our SQL identity resolution beside Splink on the same records.

    .venv/bin/python benchmarks/identity/run_benchmark.py --customers 7000 --seed 2024

Generates a sample business (cdp_demo.sample_data), lands it, builds the dbt
project, scores our clusters against the ground truth (pairwise precision,
recall, F1), then runs Splink (a benchmark-only dependency: `pip install
splink`) on the very same staged identity records and scores it the same way.
Writes the figures to benchmarks/identity/RESULTS.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "demo")]  # the generator is in demo/cdp_demo

from cdp_demo.sample_data import generate  # noqa: E402

from cdp.identity.evaluate import (  # noqa: E402
    LinkableRecall,
    PairwiseMetrics,
    linkable_recall,
    pairwise_metrics,
    read_ground_truth,
    unlinkable_records,
)
from cdp.landing import ingest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from false_negatives import false_negative_breakdown  # noqa: E402

DBT = Path(sys.executable).parent / "dbt"
SPLINK_THRESHOLDS = [0.5, 0.9, 0.99, 0.999, 0.9999]
ID_COLUMNS = [
    "shop_customer_id",
    "loyalty_number",
    "anonymous_id",
    "shop_order_id",
    "email_subscriber_id",
    "crm_contact_id",
]
RESTITCH = ["--vars", "{cdp__identity_full_restitch: true}"]
IDENTITY_SELECTION = [
    "path:seeds/identity",
    "path:models/intermediate/identity",
    "path:models/marts/identity",
]

# Greek letters to Latin for Splink's input (Splink's docs ask for standardised
# input; ours does the same inside SQL with the identity_to_ascii macro).
GREEK = {
    "ου": "ou", "αι": "ai", "ει": "ei", "οι": "oi", "μπ": "b", "ντ": "nt", "γκ": "gk",
    "θ": "th", "χ": "ch", "ψ": "ps", "ξ": "x", "φ": "f", "α": "a", "β": "v", "γ": "g",
    "δ": "d", "ε": "e", "ζ": "z", "η": "i", "ι": "i", "κ": "k", "λ": "l", "μ": "m",
    "ν": "n", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y",
    "ω": "o", "ł": "l", "ø": "o", "æ": "ae", "ß": "ss",
}  # fmt: skip


@dataclass
class Timed:
    seconds: float
    metrics: PairwiseMetrics | None = None


def fold(text: object) -> str | None:
    """Lower-case ASCII rendering of a name or address (None stays None)."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    value = unicodedata.normalize("NFD", str(text).lower())
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Mn")
    for greek, latin in GREEK.items():
        value = value.replace(greek, latin)
    value = " ".join(value.split())
    return value or None


def dbt_build(
    work: Path, warehouse: Path, selection: list[str] | None = None, extra: list[str] | None = None
) -> float:
    env = {
        **os.environ,
        "CDP_DUCKDB_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = [
        str(DBT),
        "build",
        "--project-dir",
        str(REPO / "dbt_project"),
        "--profiles-dir",
        str(REPO),
    ]
    # identity and everything upstream; only tests whose parents are all
    # selected (other domains' tests on customers need their own models)
    args += ["--select", *(selection or ["+path:models/marts/identity"])]
    args += ["--indirect-selection", "cautious", *(extra or [])]
    started = time.monotonic()
    completed = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(completed.stdout[-5000:])
    return time.monotonic() - started


def splink_input(warehouse: Path) -> pd.DataFrame:
    """The staged identity records, standardised as Splink's docs recommend."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        records = con.execute(
            """
            select
                record_key as unique_id,
                first_name,
                last_name as surname,
                cast(birth_date as varchar) as dob,
                lower(trim(email)) as email,
                phone_e164 as phone,
                upper(replace(postal_code, ' ', '')) as postcode,
                city,
                address_line_1 as street,
                shop_customer_id,
                upper(replace(loyalty_number, ' ', '')) as loyalty_number,
                anonymous_id,
                shop_order_id,
                email_subscriber_id,
                crm_contact_id
            from intermediate.int_identity_records_unioned
            """
        ).df()
    for column in ["first_name", "surname", "city", "street"]:
        records[column] = records[column].map(fold)
    # canonical email as Splink users would prepare it: plus-tag and gmail dots removed
    local = records["email"].str.split("@").str[0].str.split("+").str[0]
    domain = records["email"].str.split("@").str[1]
    gmail = domain.isin(["gmail.com", "googlemail.com"])
    local = local.where(~gmail, local.str.replace(".", "", regex=False))
    domain = domain.where(~gmail, "gmail.com")
    records["email"] = (local + "@" + domain).where(records["email"].str.contains("@", na=False))
    # external ids stay one column each, compared by exact match (each has its
    # own m and u); they are also the deterministic pre-links (ID_COLUMNS)
    return records.astype(object).where(records.notna(), None)


@dataclass
class SplinkRun:
    seconds: float
    alone: dict[float, pd.DataFrame]
    with_prelinks: dict[float, pd.DataFrame]
    prelinks: int
    prior: float  # trained probability that two random records match
    # external id -> (m, u) of an exact match; None where Splink left it untrained
    # (random sampling can miss a rare id's exact-match level entirely)
    id_match: dict[str, tuple[float | None, float | None]]


def _clusters(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["unique_id", "cluster_id"]].rename(
        columns={"unique_id": "record_key", "cluster_id": "cluster"}
    )


def run_splink(records: pd.DataFrame) -> SplinkRun:
    """Train and predict as the Splink docs recommend; cluster at several thresholds.

    Blocking rules for prediction on email, phone, names, birth date,
    postcode and each external id; comparisons with term-frequency
    adjustments on names, email, phone and postcode and an exact match per
    external id; the probability that two random records match estimated
    from deterministic rules (email, each external id, names and birth date)
    at an assumed recall of 0.8; u by random sampling; m by EM on four
    blocking rules. A second variant adds deterministic links on the
    external ids (Splink's deterministic_link on the id blocking rules,
    probability 1) to the predictions before clustering, as one would when
    the systems share ids."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    started = time.monotonic()
    db_api = DuckDBAPI()
    id_rules = [block_on(column) for column in ID_COLUMNS]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("postcode", "surname"),
            *id_rules,
        ],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.EmailComparison("email").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("street", [0.9]),
            *[cl.ExactMatch(column) for column in ID_COLUMNS],
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(db_api.register(records), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), *id_rules, block_on("first_name", "surname", "dob")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for rule in [
        block_on("first_name", "surname"),
        block_on("email"),
        block_on("dob"),
        block_on("phone"),
    ]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=min(SPLINK_THRESHOLDS))
    model = linker.misc.save_model_to_json()
    id_match = {
        comparison["output_column_name"]: (level.get("m_probability"), level.get("u_probability"))
        for comparison in model["comparisons"]
        if comparison["output_column_name"] in ID_COLUMNS
        for level in comparison["comparison_levels"]
        if level.get("label_for_charts", "").startswith("Exact match")
    }

    deterministic = Linker(
        db_api.register(records),
        SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            blocking_rules_to_generate_predictions=id_rules,
            comparisons=[cl.ExactMatch("email")],
        ),
    )
    prelinks = deterministic.inference.deterministic_link().as_pandas_dataframe()
    prelinks = prelinks[["unique_id_l", "unique_id_r"]].assign(match_probability=1.0)
    edges = pd.concat(
        [
            prelinks,
            predictions.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability"]],
        ],
        ignore_index=True,
    )
    alone, with_prelinks = {}, {}
    for threshold in SPLINK_THRESHOLDS:
        alone[threshold] = _clusters(
            linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=threshold
            ).as_pandas_dataframe()
        )
        with_prelinks[threshold] = _clusters(
            cluster_pairwise_predictions_at_threshold(
                records[["unique_id"]],
                edges,
                db_api,
                node_id_column_name="unique_id",
                edge_id_column_name_left="unique_id_l",
                edge_id_column_name_right="unique_id_r",
                threshold_match_probability=threshold,
            ).as_pandas_dataframe()
        )
    return SplinkRun(
        time.monotonic() - started,
        alone,
        with_prelinks,
        len(prelinks),
        model["probability_two_random_records_match"],
        id_match,
    )


def machine() -> str:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    total = memory[1].split()[1] if len(memory) > 1 else "?"
    return f"{cpu}, `nproc` = {nproc}, `free -h` total memory {total}, {platform.platform()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=7000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cdp_identity_benchmark"))
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()

    if args.work.exists():
        shutil.rmtree(args.work)
    data, warehouse = args.work / "data", args.work / "warehouse.duckdb"
    print(f"generating {args.customers:,} people (seed {args.seed})", flush=True)
    generate(data, customers=args.customers, seed=args.seed, end_date=date(2026, 6, 30))
    ingest(
        input_dir=data / "landing", warehouse_path=warehouse, dbt_project_dir=REPO / "dbt_project"
    )
    print("dbt build (staging and identity)", flush=True)
    full_build = dbt_build(args.work, warehouse)
    print("dbt build (identity models only)", flush=True)
    # identity stitching is incremental from the second build on: re-stitch
    # everything, so the time and the iterations are those of a first build
    ours = Timed(dbt_build(args.work, warehouse, IDENTITY_SELECTION, RESTITCH))
    truth = read_ground_truth(data / "ground_truth" / "record_persons.csv")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        predicted = con.execute(
            "select record_key, customer_id as cluster from marts.customer_source_records"
        ).df()
        iterations = con.execute(
            "select max(iterations) from intermediate.int_identity_clusters"
        ).fetchone()[0]
        unlinkable_frame = unlinkable_records(con)
        records_frame = con.execute("select * from intermediate.int_identity_records_unioned").df()
    ours.metrics = pairwise_metrics(truth, predicted)
    ours_linkable = linkable_recall(truth, predicted, unlinkable_frame)
    print("ours:", ours.metrics.render(), flush=True)
    print(f"ours: recall over linkable pairs {ours_linkable.recall:.4f}", flush=True)
    causes, by_sources = false_negative_breakdown(
        truth, predicted, records_frame, unlinkable_frame, fold
    )

    # one definition of what the data allows (cdp.identity.evaluate): an
    # oracle links every linkable true pair and no other, so its recall is
    # the share of true pairs that are linkable
    unlinkable = ours_linkable.unlinkable_records
    ceiling = ours_linkable.true_pairs / ours.metrics.true_pairs
    print(f"ceiling: {unlinkable:,} unlinkable records, recall <= {ceiling:.4f}", flush=True)

    print("splink", flush=True)
    records = splink_input(warehouse)
    splink_run = run_splink(records)
    variants = {
        "Splink": splink_run.alone,
        "Splink + deterministic id pre-links": splink_run.with_prelinks,
    }
    splink_rows = []
    for variant, clusters in variants.items():
        metrics = {t: pairwise_metrics(truth, frame) for t, frame in clusters.items()}
        best = max(metrics, key=lambda t: metrics[t].f1)
        for threshold, scored in metrics.items():
            print(f"{variant} @ {threshold}:", scored.render(), flush=True)
            marker = " **(best F1)**" if threshold == best else ""
            splink_rows.append(
                _row(
                    f"{variant}, match probability >= {threshold}{marker}",
                    scored,
                    linkable_recall(truth, clusters[threshold], unlinkable_frame),
                    splink_run.seconds,
                )
            )

    import splink as splink_package

    def _probability(value: float | None, spec: str) -> str:
        return "untrained (default)" if value is None else format(value, spec)

    id_odds = "; ".join(
        f"{column}: m {_probability(m, '.2f')}, u {_probability(u, '.1e')}"
        for column, (m, u) in splink_run.id_match.items()
    )

    lines = [
        "# Identity resolution benchmark",
        "",
        "Generated by `benchmarks/identity/run_benchmark.py "
        f"--customers {args.customers} --seed {args.seed}`; do not edit by hand.",
        "",
        f"- data: `cdp_demo.sample_data.generate(customers={args.customers}, seed={args.seed}, "
        f"end_date=2026-06-30)`: {len(truth):,} person-bearing source records in the ground "
        f"truth ({len(records):,} reached the identity models; the rest were rejected at landing "
        "and count as unlinked), "
        f"{truth['person_id'].nunique():,} people",
        f"- machine: {machine()}",
        f"- versions: Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"Splink {splink_package.__version__}",
        "- metric: pairwise precision / recall / F1 over all pairs of ground-truth records "
        "(a record missing from a method's output is a singleton)",
        "",
        "- recall (linkable): over the true pairs whose two records both carry some "
        "identifying evidence, or hang on the same device (definition below); the all-pairs "
        "recall stays the headline",
        "",
        "| method | precision | recall | recall (linkable) | F1 | predicted pairs "
        "| correct pairs | time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        _row("cdp (dbt, SQL rules)", ours.metrics, ours_linkable, ours.seconds),
        *splink_rows,
    ]
    lines += [
        "",
        f"True pairs: {ours.metrics.true_pairs:,}. Our connected components converged in "
        f"{iterations} iterations. `dbt build` of identity and everything upstream (staging, "
        "their tests; other domains are left out): "
        f"{full_build:.0f} s; the time in the table for cdp is `dbt build` of the identity seeds, "
        "models and tests alone, re-stitching every component (var "
        "`cdp__identity_full_restitch`). Splink's time covers training (u by random "
        "sampling, four EM sessions), prediction, the deterministic links and clustering "
        "at every threshold of both variants.",
        "",
        f"**What the data allows.** {unlinkable:,} records are unlinkable (definition below): "
        "web/app devices that never identified nor completed an order, the cookie consents "
        "given on them (the generator's README: the rest stay anonymous), and records rejected "
        "at landing. An oracle that links every linkable true pair, and an unlinkable record "
        "only with the same person's records on its device, gets pairwise recall "
        f"{ceiling:.4f}: the issue's recall target of 0.98 over all pairs cannot be reached on "
        "this data by any method; these records are counted in every figure above anyway.",
        "",
        "**Splink's configuration** (`run_splink`), following its docs: standardised input "
        "(names folded to ASCII, emails canonicalised, postcodes without spaces); blocking "
        "rules for prediction on email, phone, first name and surname, surname and birth date, "
        "postcode and surname, and each external id; comparisons with term-frequency "
        "adjustments on names, email, phone and postcode, birth date, street, and an exact "
        "match on each external id (shop customer, loyalty number, device, order, email "
        "subscriber, CRM contact), each with its own m and u; the probability that two random "
        "records match estimated from deterministic rules (email, each id, names with birth "
        "date) at an assumed recall of 0.8; u by random sampling of 10 million pairs; m by EM "
        "on four blocking rules. Its F1 is read at several thresholds and the best one "
        "highlighted, so it is tuned on the test data, which favours Splink. The second "
        f"variant adds Splink's own deterministic links on the external ids "
        f"({splink_run.prelinks:,} pairs, probability 1) to its predictions before "
        "clustering, as a user whose systems share ids would. Alone, Splink misses records "
        "whose only link is one external id (a consent and its device, an order and its "
        "account): one exact id match does not lift the trained prior "
        f"({splink_run.prior:.2g}) far over the threshold ({id_odds}); the pre-links "
        "recover most of those. What remains is precision: households, where namesakes and "
        "relatives share surname, address and sometimes email, are merged through the "
        "clustering's transitivity.",
    ]
    missed = ours.metrics.true_pairs - ours.metrics.correct_pairs
    lines += [
        "",
        "**Linkable pairs.** A record is *unlinkable* when neither it nor any record of the "
        "same web/app device carries an email, a phone, a loyalty number, a shop customer or "
        "order id, a CRM contact or email subscriber id, or a full name with a birth date or "
        "an address (read from the staged records, before our blocklists; "
        "`cdp.identity.evaluate.UNLINKABLE_RECORDS_SQL`). Ground-truth records rejected at "
        "landing count as unlinkable too. A true pair is *linkable* when neither record is "
        "unlinkable, or both hang on the same device. "
        f"Here {ours_linkable.unlinkable_records:,} records are unlinkable and "
        f"{ours_linkable.true_pairs:,} of the {ours.metrics.true_pairs:,} true pairs are "
        "linkable; the oracle above scores 1.0 on them.",
        "",
        f"**Where recall is lost (cdp).** The {missed:,} true pairs we miss "
        f"({missed / ours.metrics.true_pairs:.4f} of all true pairs), by the strongest "
        "evidence the two fragments of the person share (first match in this order; "
        "`benchmarks/identity/false_negatives.py`):",
        "",
        "| cause | missed pairs | share of true pairs | most frequent fragments (source mix) |",
        "| --- | ---: | ---: | --- |",
    ]
    for cause, count in sorted(causes.items(), key=lambda item: -item[1]):
        if not count:
            continue
        top = "; ".join(f"{mix} ({n:,})" for mix, n in by_sources[cause].most_common(2))
        lines.append(
            f"| {cause} | {count:,} | {count / ours.metrics.true_pairs:.4f} | {top or '-'} |"
        )
    args.output.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output}")


def _row(name: str, metrics: PairwiseMetrics, linkable: LinkableRecall, seconds: float) -> str:
    return (
        f"| {name} | {metrics.precision:.4f} | {metrics.recall:.4f} | {linkable.recall:.4f} | "
        f"{metrics.f1:.4f} | "
        f"{metrics.predicted_pairs:,} | {metrics.correct_pairs:,} | {seconds:.0f} s |"
    )


if __name__ == "__main__":
    main()
