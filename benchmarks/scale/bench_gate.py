"""Incremental build with the gate of data tests vs with every test, same data and machine.

    .venv/bin/python benchmarks/scale/bench_scale.py --customers 100000 \\
        --steps calibrate,generate,ingest,build --workdir /tmp/gate15-bench
    .venv/bin/python benchmarks/scale/bench_gate.py --workdir /tmp/gate15-bench --rounds 2

It starts from a bench_scale.py work folder whose `build` step is done (a full build
of the generated business) and measures with the checkout's code at HEAD
(`git archive` into <workdir>/src_gate; the full build may be of an earlier commit
with the same models):

1. prepare  1 % of the event count as new event rows (bench_scale.land_new_events,
            tag `gate`), `cdp ingest`, and a copy of that warehouse (untimed): every
            run below starts from it, so each is the same incremental build.
2. rounds   per round, `cdp build` (the default: an incremental build runs the gate)
            and `cdp build --tests all`, in alternating order (gate first in odd
            rounds), each from a fresh copy. Per run: wall, CPU, peak RSS and load
            (bench_scale.measure), and from run_results.json the data tests and unit
            tests that ran and their summed node seconds.

State is kept in <workdir>/gate_state.json (a re-run continues with the next run);
the results file is rewritten after every run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import (
    BIN,
    REPO,
    _slim,
    export_head,
    land_new_events,
    machine,
    measure,
    stage_breakdown,
)

MODES = {"gate": [], "all": ["--tests", "all"]}


class GateBench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.work = Path(args.workdir).resolve()
        self.rounds = int(args.rounds)
        self.results_path = Path(args.results)
        self.share = float(args.share)
        scale_state = json.loads((self.work / "state.json").read_text())
        if "build" not in scale_state.get("done", {}):
            raise SystemExit(f"{self.work}: run bench_scale.py's steps up to `build` first")
        self.scale = scale_state
        self.state_path = self.work / "gate_state.json"
        self.state: dict[str, Any] = (
            json.loads(self.state_path.read_text()) if self.state_path.exists() else {}
        )
        self.src = self.work / "src_gate"
        self.warehouse = self.work / "warehouse" / "cdp.duckdb"
        self.start = self.work / "gate_start" / "cdp.duckdb"
        self.logs = self.work / "gate_logs"
        self.target = self.work / "gate_dbt_target"
        self.env = dict(
            os.environ,
            CDP_HOME=str(self.src),
            DBT_PROFILES_DIR=str(self.src),
            PYTHONPATH=f"{self.src}:{self.src / 'demo'}",
            CDP_TARGET="duckdb",
            CDP_DATA_DIR=str(self.work / "data"),
            CDP_DUCKDB_PATH=str(self.warehouse),
            CDP_SYNCS_PATH=str(self.work / "no-syncs.yml"),
            DBT_TARGET_PATH=str(self.target),
            DBT_LOG_PATH=str(self.work / "gate_dbt_logs"),
        )
        self.env.pop("CDP_BUILD_TESTS", None)

    def save(self) -> None:
        self.state_path.write_text(json.dumps(self.state, indent=2, default=str))
        write_results(self.state, self.scale, self.results_path)

    def snapshot(self) -> None:
        if self.src.exists() and "commit" in self.state:
            return
        self.state["commit"] = export_head(self.src)
        self.save()

    def prepare(self) -> None:
        if "prepare" in self.state:
            return
        events = int(self.scale["done"]["generate"]["events"])
        wanted = max(1, round(events * self.share))
        manifest = json.loads((self.work / "data" / "manifest.json").read_text())
        landing = self.work / "data" / "landing"
        landed = land_new_events(
            landing, wanted, int(self.scale["seed"]), "gate", str(manifest["end_date"])
        )
        ingest = _slim(measure("gate_ingest", [str(BIN / "cdp"), "ingest"], self.env, self.logs))
        self.start.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse, self.start)
        self.state["prepare"] = {"new_events": landed, "ingest": ingest}
        self.save()

    def run_one(self, label: str, mode: str) -> dict[str, Any]:
        Path(f"{self.warehouse}.wal").unlink(missing_ok=True)
        shutil.copyfile(self.start, self.warehouse)
        command = [str(BIN / "cdp"), "build", *MODES[mode]]
        uptime_before = _uptime()
        result = measure(label, command, self.env, self.logs, check=False)
        out = _slim(result)
        out["uptime_before"] = uptime_before
        out["uptime_after"] = _uptime()
        out["policy_line"] = next(
            (text for _, text in result["lines"] if "data tests:" in text), None
        )
        run_results = self.target / "run_results.json"
        manifest = self.target / "manifest.json"
        shutil.copyfile(run_results, self.logs / f"{label}_run_results.json")
        out.update(stage_breakdown(run_results, manifest))
        out.update(tests_ran(run_results))
        if result["returncode"] != 0:
            out["failure_tail"] = [text for _, text in result["lines"][-15:]]
        return out

    def run(self) -> None:
        self.snapshot()
        self.prepare()
        runs = self.state.setdefault("runs", [])
        for number in range(1, self.rounds + 1):
            order = ("gate", "all") if number % 2 else ("all", "gate")
            for mode in order:
                label = f"round{number}_{mode}"
                if any(r["label"] == label for r in runs):
                    continue
                print(f"{label}:", flush=True)
                runs.append({"label": label, "mode": mode, **self.run_one(label, mode)})
                self.state["machine"] = machine()
                self.save()
        print(f"results: {self.results_path}")


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def tests_ran(run_results_path: Path) -> dict[str, Any]:
    """The data tests and unit tests a build ran, and their summed execution seconds."""
    results = json.loads(run_results_path.read_text())["results"]
    data = [r for r in results if r["unique_id"].startswith("test.")]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    return {
        "data_tests": len(data),
        "data_test_seconds": round(sum(float(r.get("execution_time") or 0) for r in data), 2),
        "unit_tests": len(unit),
        "unit_test_seconds": round(sum(float(r.get("execution_time") or 0) for r in unit), 2),
        "not_passed": [r["unique_id"] for r in results if r["status"] not in ("success", "pass")],
    }


def write_results(state: dict[str, Any], scale: dict[str, Any], path: Path) -> None:
    runs = state.get("runs", [])
    m = state.get("machine", {})
    generate = scale["done"]["generate"]
    full = scale["done"]["build"]
    prepare = state.get("prepare", {})
    out = [
        "# Incremental build: the gate of data tests vs every test, 100,000 people",
        "",
        "Generated by `benchmarks/scale/bench_gate.py` (its docstring says every step) on",
        "the work folder of `benchmarks/scale/bench_scale.py --customers "
        f"{scale['customers']}` (seed {scale['seed']}).",
        "",
        f"Machine: {m.get('nproc', '?')} cores ({m.get('cpu', '?')}), shared with two other "
        f"helpers' builds and tests; {m.get('memory_gib', '?')} GiB, DuckDB "
        f"{m.get('duckdb', '?')}, dbt-core {m.get('dbt-core', '?')}. Code: commit "
        f"{str(state.get('commit', '?'))[:10]} (the runs); the full build before them: "
        f"commit {str(scale.get('source_commit', '?'))[:10]}, same models.",
        "",
        f"Data: {generate['events']:,} events, {generate['rows']:,} rows; full `cdp build` "
        f"{full['wall_s']:.0f} s wall at load {full['load_mean']:.1f}.",
    ]
    if prepare:
        out.append(
            f"New batch: {prepare['new_events']['total']:,} new events "
            f"({prepare['new_events']['day']}), `cdp ingest` {prepare['ingest']['wall_s']:.0f} s."
        )
    out += [
        "",
        "Every run starts from the same copy of the warehouse (the full build plus the new",
        "batch landed), so each is the same incremental build; the two kinds alternate.",
        "Load is the mean 1-minute load average during the run (2 cores: about 2 is the",
        "build alone), and `uptime` before and after.",
        "",
        "| run | tests | wall s | CPU s | peak RSS GiB | load | data tests | their node s "
        "| unit tests | their node s | not passed |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in runs:
        cpu = r["cpu_user_s"] + r["cpu_sys_s"]
        out.append(
            f"| {r['label']} | {r['mode']} | {r['wall_s']:.1f} | {cpu:.0f} | "
            f"{r['peak_rss_bytes'] / 1024**3:.2f} | {r['load_mean']:.1f} | {r['data_tests']} | "
            f"{r['data_test_seconds']:.1f} | {r['unit_tests']} | {r['unit_test_seconds']:.1f} | "
            f"{', '.join(r['not_passed']) or 'none'} |"
        )
    by_mode: dict[str, list[float]] = {}
    for r in runs:
        if r["returncode"] == 0:
            by_mode.setdefault(r["mode"], []).append(float(r["wall_s"]))
    if by_mode:
        out += ["", "| tests | runs | mean wall s |", "| --- | ---: | ---: |"]
        for mode, walls in by_mode.items():
            out.append(f"| {mode} | {len(walls)} | {sum(walls) / len(walls):.1f} |")
    out += ["", "## Load per run", ""]
    for r in runs:
        out.append(f"- {r['label']}: before `{r['uptime_before']}`; after `{r['uptime_after']}`")
    out += ["", "## Node seconds per stage", ""]
    stages = sorted({s for r in runs for s in r.get("stages", {})})
    out.append("| stage | " + " | ".join(r["label"] for r in runs) + " |")
    out.append("| --- |" + " ---: |" * len(runs))
    for stage in stages:
        cells = []
        for r in runs:
            entry = r.get("stages", {}).get(stage)
            cells.append(f"{entry['seconds']:.1f} ({entry['nodes']})" if entry else "")
        out.append(f"| {stage} | " + " | ".join(cells) + " |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, help="a bench_scale.py work folder")
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (gate, all)")
    parser.add_argument("--share", type=float, default=0.01, help="new events, share of all")
    parser.add_argument(
        "--results",
        default=str(REPO / "benchmarks" / "scale" / "RESULTS-gate-100k.md"),
        help="results file to (re)write",
    )
    GateBench(parser.parse_args(argv)).run()


if __name__ == "__main__":
    main()
