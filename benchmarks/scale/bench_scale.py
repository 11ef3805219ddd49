"""Benchmark at scale: generate, land, full build, incremental build, file-to-sync latency, floor.

    .venv/bin/python benchmarks/scale/bench_scale.py --customers 1000000 --events 10000000
    .venv/bin/python benchmarks/scale/bench_scale.py --customers 10000 --events 100000 \\
        --results /tmp/scale-bench/RESULTS-10k.md

Every step runs the real command (`cdp generate`, `cdp ingest`, `cdp build`, `cdp sync`)
in its own process; this script samples the summed RSS of that process and all its
descendants every 0.2 s (from /proc) and takes CPU time from the children's rusage.
Steps, in order:

1. calibrate   two small generations (5,000 people) fit events per person against the
               generator's --activity; the activity giving --events for --customers is used.
2. generate    `cdp generate --customers N --activity A`.
3. ingest      `cdp ingest` into an empty warehouse; then the raw-only warehouse is copied
               for the floor (not timed).
4. build       `cdp build` (dbt build phase 1, scoring, dbt build phase 3). Per-stage
               breakdown from dbt's run_results.json (model and test execution times grouped
               into staging / identity / marts / predictions / segments / tests) and the
               phase boundaries from the command's own progress lines.
5. floor       the same model SQL without dbt: `dbt compile` against the raw-only copy (so
               incremental models compile to their full-refresh SELECT), then every model's
               compiled SELECT run with the duckdb Python API in dependency order as
               CREATE TABLE AS (CREATE VIEW AS for dbt views) under the build's DuckDB
               memory_limit (CDP_DUCKDB_MEMORY_LIMIT, default 6GiB); seeds and the scoring's
               predictions tables are copied in first, untimed. No tests, no scoring.
6. incremental 1 % of the event count as new event rows (copies of random web and email
               events of the last month with new ids, re-timed to the last day, in new
               files), `cdp ingest`, then `cdp build` again (incremental models only read
               the new rows, whatever is incremental in the checkout at the time).
7. e2e         the latency from a file landing to its segment change arriving at a
               destination: a baseline `cdp sync` of segment_cart_abandoners_7d to a webhook
               contract server in this process, then a one-event file (a customer who is not
               in the segment adds a product to the cart on the last day) is written and
               `cdp ingest`, `cdp build`, `cdp sync` run; the server must hold the customer.

State is kept in <workdir>/state.json: a re-run skips finished steps (--redo STEP to
repeat one) and rewrites the results file from everything measured so far.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STEPS = (
    "calibrate",
    "generate",
    "ingest",
    "build",
    "floor_before",
    "floor",
    "incremental",
    "e2e",
)
# What counts as an event: one row of a table recording something a person did or
# that happened to them at a point in time. Order and receipt lines are items of an
# order or receipt, not events; they are reported separately.
EVENT_TABLES = (
    "web_events",
    "email_events",
    "consent_events",
    "shop_orders",
    "store_transactions",
    "support_tickets",
)
NEW_EVENT_TABLES = ("web_events", "email_events")
SAMPLE_SECONDS = 0.2
CALIBRATION_PEOPLE = 5_000
CALIBRATION_ACTIVITIES = (0.1, 0.3)
E2E_SEGMENT = "segment_cart_abandoners_7d"
WEBHOOK_SECRET_ENV = "CDP_BENCH_WEBHOOK_SECRET"
GIB = 1024**3


# --- measuring one process tree ---------------------------------------------------------


def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree[ppid].append(int(entry))
    return tree


def tree_rss(root: int) -> int:
    """Summed resident memory (bytes) of a process and all its descendants."""
    tree = _children_of()
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(
    label: str, command: Sequence[str], env: dict[str, str], log_dir: Path, check: bool = True
) -> dict[str, Any]:
    """Run a command, sampling its tree's RSS; return wall, CPU, peak RSS, load and output."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{label}.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    lines: list[tuple[float, str]] = []
    process = subprocess.Popen(
        list(command),
        env=env,
        cwd=env.get("CDP_HOME", str(REPO)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )

    def read() -> None:
        assert process.stdout is not None
        with log_path.open("w", encoding="utf-8") as log:
            for line in process.stdout:
                at = time.perf_counter() - started
                lines.append((at, line.rstrip("\n")))
                log.write(f"[{at:8.1f}s] {line}")
                log.flush()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    peak, loads = 0, []
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        loads.append(os.getloadavg()[0])
        time.sleep(SAMPLE_SECONDS)
    reader.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "label": label,
        "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(command)),
        "returncode": process.returncode,
        "wall_s": round(wall, 2),
        "cpu_user_s": round(after.ru_utime - before.ru_utime, 2),
        "cpu_sys_s": round(after.ru_stime - before.ru_stime, 2),
        "peak_rss_bytes": peak,
        "max_single_process_rss_bytes": after.ru_maxrss * 1024,
        "load_start": round(load_start, 2),
        "load_mean": round(sum(loads) / len(loads), 2) if loads else round(load_start, 2),
        "load_end": round(os.getloadavg()[0], 2),
        "log": str(log_path),
        "lines": lines,
    }
    tail = "\n".join(text for _, text in lines[-30:])
    print(
        f"  {label}: {wall:.1f} s wall, {result['cpu_user_s'] + result['cpu_sys_s']:.1f} s CPU, "
        f"peak {peak / GIB:.2f} GiB, load {result['load_mean']}, rc {process.returncode}",
        flush=True,
    )
    if check and process.returncode != 0:
        raise RuntimeError(f"{label} failed (exit {process.returncode}); see {log_path}:\n{tail}")
    return result


def _slim(result: dict[str, Any]) -> dict[str, Any]:
    """The measurement without its captured output (kept in the log file)."""
    return {k: v for k, v in result.items() if k != "lines"}


# --- the benchmark ----------------------------------------------------------------------


def export_head(src: Path) -> str:
    """The checkout's HEAD commit, exported (git archive) into a fresh `src`; its id."""
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", commit], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    return commit


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.workdir).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.state_path = self.work / "state.json"
        self.state: dict[str, Any] = (
            json.loads(self.state_path.read_text()) if self.state_path.exists() else {}
        )
        if self.state.get("customers", args.customers) != args.customers:
            raise SystemExit(f"{self.work} holds a run for {self.state['customers']:,} people")
        self.state["customers"] = args.customers
        self.state["events_target"] = args.events
        self.state["seed"] = args.seed
        self.state["workdir"] = str(self.work)
        if args.extrapolate_from:
            self.state["extrapolate_from"] = args.extrapolate_from
        self.warehouse = self.work / "warehouse" / "cdp.duckdb"
        self.floor_warehouse = self.work / "floor" / "cdp.duckdb"
        # The warehouse right after the first ingest: raw tables only. The full build and
        # the floor both start from a copy of it.
        self.raw_warehouse = self.work / "raw" / "cdp.duckdb"
        done = self.state.get("done", {})
        if "ingest" in done and not self.raw_warehouse.exists() and "floor" not in done:
            self.raw_warehouse.parent.mkdir(parents=True, exist_ok=True)
            self.floor_warehouse.rename(self.raw_warehouse)  # made by an earlier version
        self.logs = self.work / "logs"
        self.src = self.work / "src"
        self.env = dict(os.environ)
        self.env.update(
            CDP_HOME=str(self.src),
            DBT_PROFILES_DIR=str(self.src),
            PYTHONPATH=os.pathsep.join([str(self.src), str(self.src / "demo")]),
            CDP_TARGET="duckdb",
            CDP_DATA_DIR=str(self.work / "data"),
            CDP_DUCKDB_PATH=str(self.warehouse),
            CDP_SYNCS_PATH=str(self.work / "syncs.yml"),
            DBT_TARGET_PATH=str(self.work / "dbt_target"),
            DBT_LOG_PATH=str(self.work / "dbt_logs"),
        )
        self.env[WEBHOOK_SECRET_ENV] = "bench-secret"

    def snapshot(self) -> None:
        """Every step runs the code of one commit: the checkout is shared with people
        editing models, and the floor must compile exactly what the build ran."""
        if self.src.exists() and "source_commit" in self.state:
            return
        commit = export_head(self.src)
        self.state["source_commit"] = commit
        self.save()
        print(f"code: commit {commit[:10]} in {self.src}")

    def save(self) -> None:
        """Write state.json, keeping steps another run of this script finished meanwhile
        (each finished step is also kept in step_<name>.json)."""
        done = self.state.setdefault("done", {})
        for path in sorted(self.work.glob("step_*.json")):
            name = path.stem[len("step_") :]
            done.setdefault(name, json.loads(path.read_text()))
        self.state_path.write_text(json.dumps(self.state, indent=2, default=str))

    def run(self) -> None:
        if self.args.report_only:
            self.save()
            write_results(self.state, Path(self.args.results))
            print(f"results: {self.args.results}")
            return
        steps = self.args.steps.split(",") if self.args.steps else list(STEPS)
        for step in steps:
            if step not in STEPS:
                raise SystemExit(f"unknown step {step}; steps: {', '.join(STEPS)}")
        if "snapshot" in self.args.redo:
            self.state.pop("source_commit", None)
        self.snapshot()
        for step in STEPS:
            if step not in steps:
                continue
            if step in self.state.get("done", {}) and step not in self.args.redo:
                print(f"{step}: done before, skipped (--redo {step} repeats it)")
                continue
            print(f"{step}:", flush=True)
            result = getattr(self, f"step_{step}")()
            self.state.setdefault("done", {})[step] = result
            (self.work / f"step_{step}.json").write_text(json.dumps(result, default=str))
            self.state["machine"] = machine()
            self.save()
            write_results(self.state, Path(self.args.results))
        write_results(self.state, Path(self.args.results))
        print(f"results: {self.args.results}")

    # 1
    def step_calibrate(self) -> dict[str, Any]:
        sys.path[:0] = [str(self.src), str(self.src / "demo")]
        from cdp_demo.sample_data import generate

        people = min(CALIBRATION_PEOPLE, self.args.customers)
        per_person = []
        for activity in CALIBRATION_ACTIVITIES:
            out = self.work / "calibrate" / f"a{activity}"
            result = generate(out, customers=people, seed=self.args.seed, activity=activity)
            events = sum(result.table_rows[t] for t in EVENT_TABLES)
            per_person.append(events / people)
            shutil.rmtree(out)
        (a1, a2), (e1, e2) = CALIBRATION_ACTIVITIES, per_person
        slope = (e2 - e1) / (a2 - a1)
        fixed = e1 - slope * a1
        wanted = self.args.events / self.args.customers
        activity = round(min(10.0, max(0.01, (wanted - fixed) / slope)), 3)
        print(f"  events per person = {fixed:.2f} + {slope:.2f} x activity; activity {activity}")
        return {
            "people": people,
            "fixed_per_person": round(fixed, 3),
            "per_activity_per_person": round(slope, 3),
            "activity": activity,
        }

    # 2
    def step_generate(self) -> dict[str, Any]:
        activity = self.state["done"]["calibrate"]["activity"]
        command = [
            str(BIN / "cdp"),
            "generate",
            "--customers",
            str(self.args.customers),
            "--seed",
            str(self.args.seed),
            "--activity",
            str(activity),
        ]
        result = _slim(measure("generate", command, self.env, self.logs))
        manifest = json.loads((self.work / "data" / "manifest.json").read_text())
        tables = manifest["tables"]
        landing = self.work / "data" / "landing"
        result.update(
            activity=activity,
            tables=tables,
            events=sum(tables[t] for t in EVENT_TABLES),
            rows=sum(tables.values()),
            files=len(manifest["files"]),
            bytes=sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()),
        )
        print(f"  {result['events']:,} events, {result['rows']:,} rows in {result['files']} files")
        return result

    # 3
    def step_ingest(self) -> dict[str, Any]:
        for path in (self.warehouse, self.raw_warehouse):
            if path.exists():
                path.unlink()
            Path(f"{path}.wal").unlink(missing_ok=True)
        result = measure("ingest", [str(BIN / "cdp"), "ingest"], self.env, self.logs)
        out = _slim(result)
        out["summary"] = [text for _, text in result["lines"][-6:]]
        self.raw_warehouse.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse, self.raw_warehouse)
        out["warehouse_bytes"] = self.warehouse.stat().st_size
        return out

    # 4
    def _build(self, label: str) -> dict[str, Any]:
        result = measure(label, [str(BIN / "cdp"), "build"], self.env, self.logs, check=False)
        out = _slim(result)
        marks = {"phase 2/3": None, "phase 3/3": None}
        for at, text in result["lines"]:
            for mark in marks:
                if mark in text and marks[mark] is None:
                    marks[mark] = at
        p2, p3 = marks["phase 2/3"], marks["phase 3/3"]
        if p2 is not None and p3 is not None:
            out["phases_s"] = {
                "dbt build before scoring": round(p2, 2),
                "scoring": round(p3 - p2, 2),
                "dbt build after scoring": round(result["wall_s"] - p3, 2),
            }
        run_results = self.work / "dbt_target" / "run_results.json"
        manifest = self.work / "dbt_target" / "manifest.json"
        if run_results.exists() and manifest.exists():
            shutil.copyfile(run_results, self.logs / f"{label}_run_results.json")
            out.update(stage_breakdown(run_results, manifest))
        out["warehouse_bytes"] = self.warehouse.stat().st_size
        if result["returncode"] != 0:
            out["failure_tail"] = [text for _, text in result["lines"][-15:]]
        return out

    def step_build(self) -> dict[str, Any]:
        self._restore(self.warehouse)
        return self._build("build")

    def _restore(self, path: Path) -> None:
        """Start from the raw-only warehouse (untimed copy)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
        shutil.copyfile(self.raw_warehouse, path)

    # 5
    def step_floor(self) -> dict[str, Any]:
        return self._floor("all")

    def step_floor_before(self) -> dict[str, Any]:
        return self._floor("before")

    def _floor(self, part: str) -> dict[str, Any]:
        folder = "floor" if part == "all" else "floor_before"
        database = self.work / folder / "cdp.duckdb"
        self._restore(database)
        env = dict(self.env)
        env["CDP_DUCKDB_PATH"] = str(database)
        env["DBT_TARGET_PATH"] = str(self.work / f"{folder}_target")
        env["DBT_LOG_PATH"] = str(self.work / f"{folder}_logs")
        compile_cmd = [
            str(BIN / "dbt"),
            "compile",
            "--project-dir",
            str(self.src / "dbt_project"),
            "--profiles-dir",
            str(self.src),
        ]
        compiled = _slim(measure(f"{folder}_compile", compile_cmd, env, self.logs))
        worker = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--floor-worker",
            str(self.work),
            "--floor-part",
            part,
        ]
        if self.args.seeds_from:
            worker += ["--seeds-from", self.args.seeds_from]
        result = measure(folder, worker, env, self.logs)
        out = _slim(result)
        out.update(json.loads((self.work / f"{folder}_report.json").read_text()))
        out["compile"] = compiled
        return out

    # 6
    def step_incremental(self) -> dict[str, Any]:
        events = self.state["done"]["generate"]["events"]
        wanted = max(1, round(events * self.args.incremental_share))
        landing = self.work / "data" / "landing"
        landed = land_new_events(landing, wanted, self.args.seed, "inc", self.end_date())
        ingest = _slim(
            measure("incremental_ingest", [str(BIN / "cdp"), "ingest"], self.env, self.logs)
        )
        build = self._build("incremental_build")
        return {"new_events": landed, "ingest": ingest, "build": build}

    # 7
    def step_e2e(self) -> dict[str, Any]:
        sys.path[:0] = [str(self.src), str(self.src / "demo")]
        import duckdb
        from cdp_demo.contract_servers import WebhookContractServer

        os.environ[WEBHOOK_SECRET_ENV] = self.env[WEBHOOK_SECRET_ENV]
        with WebhookContractServer(self.env[WEBHOOK_SECRET_ENV], max_batch_size=1000) as server:
            (self.work / "syncs.yml").write_text(sync_yaml(server.endpoint))
            sync_cmd = [str(BIN / "cdp"), "sync"]
            baseline = _slim(measure("e2e_baseline_sync", sync_cmd, self.env, self.logs))
            baseline_members = len(server.members)
            con = duckdb.connect(str(self.warehouse), read_only=True)
            try:
                pick = pick_customer(con)
            finally:
                con.close()
            if pick is None:
                raise RuntimeError("no customer with a shop account outside the segment")
            customer_id, shop_customer_id = pick
            print(f"  customer {customer_id} (shop account {shop_customer_id}) joins {E2E_SEGMENT}")
            assert customer_id not in server.members
            started = time.perf_counter()
            landed_at = write_cart_event(
                self.work / "data" / "landing", shop_customer_id, self.end_date()
            )
            ingest = _slim(measure("e2e_ingest", [str(BIN / "cdp"), "ingest"], self.env, self.logs))
            build = self._build("e2e_build")
            sync = _slim(measure("e2e_sync", sync_cmd, self.env, self.logs))
            latency = time.perf_counter() - started
            arrived = customer_id in server.members
            print(f"  {latency:.1f} s from the file landing to the member at the server: {arrived}")
            if not arrived:
                raise RuntimeError(f"customer {customer_id} did not arrive at the webhook")
        return {
            "latency_s": round(latency, 2),
            "file": landed_at,
            "customer_id": customer_id,
            "baseline_sync": baseline,
            "baseline_members": baseline_members,
            "members_after": len(server.members),
            "ingest": ingest,
            "build": build,
            "sync": sync,
        }

    def end_date(self) -> str:
        manifest = json.loads((self.work / "data" / "manifest.json").read_text())
        return str(manifest["end_date"])


# --- helpers for the steps --------------------------------------------------------------


def group_of(path: str, resource_type: str) -> str:
    """The stage a dbt node belongs to, from its type and file path."""
    if resource_type == "test":
        return "tests"
    if resource_type == "seed":
        return "seeds"
    if resource_type == "unit_test":
        return "unit tests"
    if path.startswith("models/staging/"):
        return "staging"
    if "/identity/" in path:
        return "identity"
    if "/predictions/" in path:
        return "predictions"
    if path.startswith(("models/marts/segments/", "models/marts/audiences/")):
        return "segments"
    if path.startswith("models/"):
        return "marts"
    return resource_type


def stage_breakdown(run_results_path: Path, manifest_path: Path) -> dict[str, Any]:
    """Summed node execution time per stage, node counts, failures and the slowest models."""
    results = json.loads(run_results_path.read_text())["results"]
    nodes = json.loads(manifest_path.read_text())["nodes"]
    stages: dict[str, dict[str, float]] = {}
    slow: list[tuple[float, str]] = []
    failed: list[str] = []
    for r in results:
        node = nodes.get(r["unique_id"], {})
        resource_type = node.get("resource_type", r["unique_id"].split(".")[0])
        group = group_of(node.get("original_file_path", ""), resource_type)
        entry = stages.setdefault(group, {"nodes": 0, "seconds": 0.0})
        entry["nodes"] += 1
        entry["seconds"] = round(entry["seconds"] + float(r.get("execution_time") or 0), 2)
        if r.get("status") in ("error", "fail"):
            failed.append(f"{r['unique_id']}: {r.get('status')} {r.get('message') or ''}"[:300])
        if resource_type == "model":
            slow.append((float(r.get("execution_time") or 0), r["unique_id"].split(".")[-1]))
    slow.sort(reverse=True)
    return {
        "stages": stages,
        "slowest_models": [(name, round(sec, 2)) for sec, name in slow[:8]],
        "failed_nodes": failed,
    }


def land_new_events(
    landing: Path, wanted: int, seed: int, tag: str, last_day: str
) -> dict[str, Any]:
    """Write `wanted` new event rows as new files: copies of random events of the last
    month (web JSON lines, email CSV) with new ids, moved to the last day, same time of day."""
    import csv

    rng = random.Random(f"{seed}:{tag}")
    pools: dict[str, tuple[Path, list[str]]] = {}
    for table in NEW_EVENT_TABLES:
        files = sorted((landing / table).glob(f"{table}__20*"))
        last = files[-1]
        with last.open(encoding="utf-8", newline="") as f:
            pools[table] = (last, f.read().splitlines())
    header = pools["email_events"][1][0]
    sizes = {
        "web_events": len(pools["web_events"][1]),
        "email_events": len(pools["email_events"][1]) - 1,
    }
    total = sum(sizes.values())
    counts = {t: round(wanted * sizes[t] / total) for t in NEW_EVENT_TABLES}
    counts["web_events"] = wanted - counts["email_events"]
    written: dict[str, Any] = {}

    # the generator writes a few deliberately malformed lines: copy only valid events
    web_rows = [row for row in map(_json_object, pools["web_events"][1]) if row is not None]
    web_path = landing / "web_events" / f"web_events__{tag}-{last_day}.jsonl"
    with web_path.open("w", encoding="utf-8") as out:
        for template in rng.choices(web_rows, k=counts["web_events"]):
            row = dict(template)
            row["message_id"] = _uuid(rng)
            row["timestamp"] = last_day + row["timestamp"][10:]
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    written["web_events"] = {"file": str(web_path), "rows": counts["web_events"]}

    email_path = landing / "email_events" / f"email_events__{tag}-{last_day}.csv"
    columns = header.split(",")
    body = [
        row
        for row in csv.reader(pools["email_events"][1][1:])
        if len(row) == len(columns) and len(row[columns.index("occurred_at")]) >= 10
    ]
    with email_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for values in rng.choices(body, k=counts["email_events"]):
            record = dict(zip(columns, values, strict=True))
            record["event_id"] = f"{rng.getrandbits(96):024x}"
            record["occurred_at"] = last_day + record["occurred_at"][10:]
            writer.writerow([record[c] for c in columns])
    written["email_events"] = {"file": str(email_path), "rows": counts["email_events"]}
    written["total"] = counts["web_events"] + counts["email_events"]
    written["day"] = last_day
    print(f"  landed {written['total']:,} new events on {last_day}")
    return written


def _json_object(line: str) -> dict[str, Any] | None:
    """The event of a JSON line, or None for a malformed line or one without a timestamp."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(row, dict) or not isinstance(row.get("timestamp"), str):
        return None
    return row


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def pick_customer(con: Any) -> tuple[str, str] | None:
    """A customer with a shop account who is not in the e2e segment (lowest id: stable)."""
    row = con.execute(
        f"""
        select cast(r.customer_id as varchar), r.source_record_id
        from marts.customer_source_records as r
        inner join marts.customers as c on c.customer_id = r.customer_id
        where r.source_name = 'shop_customers'
          and r.customer_id not in (select customer_id from marts.{E2E_SEGMENT})
        order by r.customer_id, r.source_record_id
        limit 1
        """
    ).fetchone()
    return (row[0], row[1]) if row else None


def write_cart_event(landing: Path, shop_customer_id: str, day: str) -> str:
    """One web session event: the logged-in shop customer adds a product to the cart."""
    path = landing / "web_events" / f"web_events__e2e-{day}.jsonl"
    url = "https://www.lumenandoak.example/p/SKU-100001"
    row = {
        "message_id": "e2e00000-0000-4000-8000-000000000001",
        "type": "track",
        "event": "Product Added",
        "anonymous_id": "e2e00000-0000-4000-8000-00000000a001",
        "user_id": shop_customer_id,
        "session_id": "e2e0000000000000001",
        "timestamp": f"{day}T20:15:00",
        "properties": {"product_id": "SKU-100001", "price": 19.99, "quantity": 1, "url": url},
        "traits": None,
        "context": {"device_type": "web", "page_url": url, "user_agent": "bench"},
    }
    path.write_text(json.dumps(row, separators=(",", ":")) + "\n", encoding="utf-8")
    return str(path)


def sync_yaml(endpoint: str) -> str:
    return f"""syncs:
  - name: bench_cart_abandoners
    description: The benchmark's file-to-destination latency probe.
    source: marts.{E2E_SEGMENT}
    primary_key: customer_id
    mode: audience
    destination:
      type: webhook
      url: {endpoint}
      signing_secret_env: {WEBHOOK_SECRET_ENV}
      batch_size: 1000
    fields:
      email: email
      first_name: first_name
"""


# --- the floor: compiled SQL straight into DuckDB ---------------------------------------


def floor_worker(work: Path, part: str = "all", seeds_from: str | None = None) -> None:
    """Run the models' compiled SQL in dependency order; write floor_report.json.

    part "before" runs only the models that do not read the scoring's predictions source
    (what `cdp build` runs in phase 1), taking the seeds from `seeds_from` (seeds are the
    same static CSVs at every scale), so it can run while the build still holds the
    warehouse; "all" runs every model with seeds and predictions from the built warehouse.
    """
    import duckdb

    folder = "floor" if part == "all" else "floor_before"
    manifest = json.loads((work / f"{folder}_target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    models = {
        uid: n
        for uid, n in nodes.items()
        if n["resource_type"] == "model" and n["config"]["materialized"] != "ephemeral"
    }
    if part == "before":
        models = _before_scoring(models, manifest["sources"])
    order = _topological(models)
    # the memory limit the dbt build runs under (profiles.yml), so both have the same memory
    memory_limit = os.environ.get("CDP_DUCKDB_MEMORY_LIMIT", "6GiB")
    con = duckdb.connect(str(work / folder / "cdp.duckdb"), config={"memory_limit": memory_limit})
    donor = seeds_from or str(work / "warehouse" / "cdp.duckdb")
    con.execute(f"attach '{donor}' as built (read_only)")
    catalog = con.execute("select current_database()").fetchone()[0]
    copied = 0
    copy_started = time.perf_counter()
    for n in nodes.values():
        if n["resource_type"] == "seed":
            copied += _copy_table(con, catalog, n["schema"], n["alias"] or n["name"])
    if part == "all":
        for s in manifest["sources"].values():
            if s["source_name"] == "predictions":
                copied += _copy_table(con, catalog, s["schema"], s["identifier"])
    con.execute("detach built")
    copy_s = time.perf_counter() - copy_started
    timings: list[tuple[str, float]] = []
    started = time.perf_counter()
    for uid in order:
        n = models[uid]
        sql = n["compiled_code"]
        relation = n["relation_name"]
        con.execute(f"create schema if not exists {catalog}.{n['schema']}")
        materialized = n["config"]["materialized"]
        t0 = time.perf_counter()
        if materialized == "connected_components":
            _connected_components(con, n, catalog)
        else:
            kind = "view" if materialized == "view" else "table"
            con.execute(f"create or replace {kind} {relation} as (\n{sql}\n)")
        timings.append((n["name"], time.perf_counter() - t0))
    sql_s = time.perf_counter() - started
    con.close()
    by_group: dict[str, float] = defaultdict(float)
    for uid, (_, sec) in zip(order, timings, strict=True):
        by_group[group_of(models[uid]["original_file_path"], "model")] += sec
    report = {
        "sql_s": round(sql_s, 2),
        "models": len(order),
        "copied_tables": copied,
        "copy_s": round(copy_s, 2),
        "stages_s": {k: round(v, 2) for k, v in sorted(by_group.items())},
        "slowest_models": [(n, round(s, 2)) for n, s in sorted(timings, key=lambda x: -x[1])[:8]],
    }
    report["part"] = part
    (work / f"{folder}_report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


def _connected_components(con: Any, node: dict[str, Any], catalog: str) -> None:
    """The connected_components materialization's algorithm (macros/identity) as plain
    statements: symmetric edges, integer ids in node order, initial labels, then
    min-label propagation with hooking and one pointer jump per statement until no label
    changes, and the ids mapped back to nodes."""
    edges_sql = node["compiled_code"]
    config = node["config"]
    node_column = config.get("node_column", "node")
    component_column = config.get("component_column", "component")
    base = f'{catalog}."{node["schema"]}"."{node["alias"] or node["name"]}'
    edges, labels, nxt = f'{base}__cc_edges"', f'{base}__cc_labels"', f'{base}__cc_next"'
    node_ids, id_edges = f'{base}__cc_node_ids"', f'{base}__cc_id_edges"'
    con.execute(
        f"""create or replace table {edges} as
        select node_a, node_b from ({edges_sql}) as e
        where node_a is not null and node_b is not null
        union
        select node_b, node_a from ({edges_sql}) as e
        where node_a is not null and node_b is not null"""
    )
    con.execute(
        f"""create or replace table {node_ids} as
        select node, row_number() over (order by node) as id
        from (select distinct node_a as node from {edges}) as nodes"""
    )
    con.execute(
        f"""create or replace table {id_edges} as
        select a.id as node_a, b.id as node_b from {edges} as e
        inner join {node_ids} as a on e.node_a = a.node
        inner join {node_ids} as b on e.node_b = b.node"""
    )
    con.execute(
        f"""create or replace table {labels} as
        select node_a as node, min(least(node_a, node_b)) as label
        from {id_edges} group by node_a"""
    )
    iterations = 0
    while True:
        iterations += 1
        con.execute(
            f"""create or replace table {nxt} as
            with neighbour as (
                select e.node_a as node, min(l.label) as label
                from {id_edges} as e inner join {labels} as l on e.node_b = l.node
                group by e.node_a
            ),
            propagated as (
                select
                    l.node, l.label as old_label,
                    least(l.label, coalesce(n.label, l.label)) as label
                from {labels} as l left join neighbour as n on l.node = n.node
            ),
            hooks as (
                select old_label as node, min(label) as label
                from propagated group by old_label
            ),
            hooked as (
                select p.node, least(p.label, coalesce(h.label, p.label)) as label
                from propagated as p left join hooks as h on p.node = h.node
            )
            select h.node, least(h.label, parent.label) as label
            from hooked as h inner join hooked as parent on h.label = parent.node"""
        )
        changed = con.execute(
            f"select count(*) from {nxt} as a inner join {labels} as b "
            "on a.node = b.node where a.label <> b.label"
        ).fetchone()[0]
        con.execute(f"drop table {labels}")
        con.execute(f'alter table {nxt} rename to "{node["alias"] or node["name"]}__cc_labels"')
        if changed == 0 or iterations >= 100:
            break
    con.execute(
        f"""create or replace table {node["relation_name"]} as
        select n.node as {node_column}, c.node as {component_column},
            {iterations} as iterations
        from {labels} as l
        inner join {node_ids} as n on l.node = n.id
        inner join {node_ids} as c on l.label = c.id"""
    )
    for table in (edges, labels, node_ids, id_edges):
        con.execute(f"drop table {table}")


def _before_scoring(models: dict[str, Any], sources: dict[str, Any]) -> dict[str, Any]:
    """The models that neither read the predictions source nor depend on one that does."""
    tainted = {uid for uid, s in sources.items() if s["source_name"] == "predictions"}
    changed = True
    while changed:
        changed = False
        for uid, n in models.items():
            if uid not in tainted and tainted & set(n["depends_on"]["nodes"]):
                tainted.add(uid)
                changed = True
    return {uid: n for uid, n in models.items() if uid not in tainted}


def _copy_table(con: Any, catalog: str, schema: str, name: str) -> int:
    con.execute(f'create schema if not exists {catalog}."{schema}"')
    con.execute(
        f'create or replace table {catalog}."{schema}"."{name}" as '
        f'select * from built."{schema}"."{name}"'
    )
    return 1


def _topological(models: dict[str, Any]) -> list[str]:
    done: set[str] = set()
    order: list[str] = []

    def visit(uid: str) -> None:
        if uid in done:
            return
        done.add(uid)
        for dep in models[uid]["depends_on"]["nodes"]:
            if dep in models:
                visit(dep)
        order.append(uid)

    for uid in sorted(models):
        visit(uid)
    return order


# --- machine and results file -----------------------------------------------------------


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "?"


def machine() -> dict[str, Any]:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_kib = int(f.readline().split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024**2, 1),
        "python": platform.python_version(),
        "duckdb": _version("duckdb"),
        "dbt-core": _version("dbt-core"),
        "dbt-duckdb": _version("dbt-duckdb"),
        "kernel": platform.release(),
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _gib(n: float) -> str:
    return f"{n / GIB:.2f}"


def _cpu_s(r: dict[str, Any]) -> float:
    return float(r["cpu_user_s"] + r["cpu_sys_s"])


def _cpu(r: dict[str, Any]) -> str:
    return f"{_cpu_s(r):.0f}"


def _row(name: str, r: dict[str, Any], note: str = "") -> str:
    return (
        f"| {name} | {r['wall_s']:.1f} | {_cpu(r)} | {_gib(r['peak_rss_bytes'])} | "
        f"{r['load_mean']:.1f} | {note} |"
    )


def _target(ok: bool) -> str:
    return "met" if ok else "**short**"


def unfinished_build(log: Path) -> dict[str, Any] | None:
    """What a build still running (or stopped) had done, from its log: elapsed seconds,
    models created with their times, tests passed, the nodes started but not finished."""
    import re

    if not log.exists():
        return None
    created: list[tuple[str, float]] = []
    started: dict[str, str] = {}
    passed = 0
    elapsed = 0.0
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        at = re.match(r"\[\s*([0-9.]+)s\]", line)
        if at:
            elapsed = float(at.group(1))
        clean = re.sub(r"\x1b\[[0-9;]*m", "", line)
        node = re.search(r"(\d+) of \d+ (START|OK created|\w+)\b.*? ([\w.]+) \.*\s*\[", clean)
        if not node:
            continue
        number, what, name = node.groups()
        if what != "START" and what != "OK created" and what != "PASS":
            started.pop(number, None)  # a seed loaded, a test warned or failed, ...
            continue
        if what == "START":
            started[number] = name.split(".")[-1]
        elif what == "OK created":
            seconds = re.search(r"in ([0-9.]+)s\]", clean)
            created.append((name.split(".")[-1], float(seconds.group(1)) if seconds else 0.0))
            started.pop(number, None)
        else:
            passed += 1
            started.pop(number, None)
    running = _running_cpu(str(log.parent.parent / "src" / "dbt_project"), "build") is not None
    if running:  # still running: the time since it started, not just to its last line
        elapsed = time.time() - (log.stat().st_mtime - elapsed)
    return {
        "elapsed_s": elapsed,
        "created": created,
        "tests_passed": passed,
        "running": sorted(set(started.values())),
    }


def _extrapolation(partial: dict[str, Any], small_run_results: Path, customers: int) -> str:
    """An estimate (labelled as one) of the unfinished build: the models and tests still to
    come, at the times a smaller run measured, times the slowdown the finished models show
    between the two runs."""
    small = {
        r["unique_id"].split(".")[-1]
        if r["unique_id"].startswith("model.")
        else r["unique_id"]: float(r.get("execution_time") or 0)
        for r in json.loads(small_run_results.read_text())["results"]
    }
    done = dict(partial["created"])
    shared = [n for n in done if small.get(n, 0) > 0]
    big_sum, small_sum = sum(done[n] for n in shared), sum(small[n] for n in shared)
    factor = big_sum / small_sum if small_sum else float("nan")
    remaining_small = sum(
        sec for name, sec in small.items() if name not in done and not name.startswith("unit_test.")
    )
    unit_tests = sum(sec for name, sec in small.items() if name.startswith("unit_test."))
    estimate = remaining_small * factor + unit_tests
    return (
        f"**Extrapolation (an estimate, not a measurement):** the {len(shared)} models "
        f"finished so far took {big_sum:.0f} s at this scale against {small_sum:.0f} s in the "
        f"smaller run (`{small_run_results}`), {factor:.0f} × as long. The smaller run's "
        f"remaining models and data tests summed {remaining_small:.0f} s; at the same factor, "
        f"plus {unit_tests:.0f} s of unit tests (fixed inputs), that is about "
        f"{estimate / 60:.0f} min more node time (2 dbt threads) for this build, "
        f"on top of {partial['elapsed_s'] / 60:.0f} min so far, on this loaded machine."
    )


def _running_rss(*needles: str) -> int:
    """Summed resident memory (bytes) of running processes whose command line holds every needle."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if all(n in cmdline for n in needles) and "--floor" not in cmdline:
                total += _own_rss(int(entry))
        except (OSError, ValueError):
            continue
    return total


def _own_rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _running_cpu(*needles: str) -> float | None:
    """CPU seconds (user + system) of running processes whose command line holds every needle."""
    total, found = 0.0, False
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if all(n in cmdline for n in needles) and "--floor" not in cmdline:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
                found = True
        except (OSError, ValueError, IndexError):
            continue
    return total if found else None


def write_results(state: dict[str, Any], path: Path) -> None:
    done = state.get("done", {})
    m = dict(state.get("machine") or machine())
    if state.get("source_commit"):
        m["commit"] = state["source_commit"][:10]
    out: list[str] = []
    add = out.append
    add(f"# Scale benchmark: {state['customers']:,} people, ~{state['events_target']:,} events")
    add("")
    add("Generated by `benchmarks/scale/bench_scale.py` (see its docstring for every step);")
    add(f"seed {state['seed']}. Each step is a separate process (the real `cdp` command);")
    add("peak RSS is the sum over the process and all its descendants, sampled every 0.2 s;")
    add("CPU is user + system time of the process tree. The machine may be shared with")
    add("other jobs: the load column (mean 1-minute load average during the step, 2 cores;")
    add("about 2 is the step alone on both cores) says how contended each wall time was.")
    add("")
    add(
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}, DuckDB {m['duckdb']}, dbt-core {m['dbt-core']}, "
        f"dbt-duckdb {m['dbt-duckdb']}; commit {m['commit']}; {m['date']}."
    )
    add("")
    gen, ing, build = done.get("generate"), done.get("ingest"), done.get("build")
    if build and "stages" not in build and "phases_s" not in build:
        build = None  # dbt stopped before building anything (e.g. a parse error); redone
    floor, inc, e2e = done.get("floor"), done.get("incremental"), done.get("e2e")
    fl = floor or done.get("floor_before")
    if gen:
        add("## Data")
        add("")
        add(
            f"`cdp generate --customers {state['customers']} --activity {gen['activity']}`: "
            f"{gen['events']:,} events, {gen['rows']:,} rows in all, {gen['files']} files, "
            f"{gen['bytes'] / GIB:.2f} GiB on disk. An *event* is one row of "
            + ", ".join(f"`{t}`" for t in EVENT_TABLES)
            + " (order and receipt lines are not counted)."
        )
        add("")
        add("| table | rows |")
        add("| --- | ---: |")
        for table, rows in gen["tables"].items():
            add(f"| {table}{' (event)' if table in EVENT_TABLES else ''} | {rows:,} |")
        add("")
    add("## Targets")
    add("")
    add("| target | measured | |")
    add("| --- | --- | --- |")
    if build:
        add(
            f"| full build ≤ 3 min | {build['wall_s'] / 60:.1f} min wall ({_cpu(build)} s CPU) "
            f"| {_target(build['wall_s'] <= 180)} |"
        )
    fb = done.get("floor_before")
    partial = (
        None if build else unfinished_build(Path(state.get("workdir", "")) / "logs" / "build.log")
    )
    running_rss = 0
    if partial:
        running_rss = _running_rss(f"{state.get('workdir')}/src/dbt_project")
        add(
            f"| full build ≤ 3 min | not finished after {partial['elapsed_s'] / 60:.0f} min "
            f"wall | **short** |"
        )
    if build and floor:
        add(
            f"| full build ≤ 5 × DuckDB floor | {build['wall_s'] / floor['sql_s']:.1f} × in wall "
            f"time (floor {floor['sql_s']:.0f} s); "
            f"{_cpu_s(build) / _cpu_s(floor):.1f} × in CPU time "
            f"| {_target(build['wall_s'] <= 5 * floor['sql_s'])} (wall) |"
        )
    elif build and fb and "phases_s" in build:
        phase1 = build["phases_s"]["dbt build before scoring"]
        add(
            f"| full build ≤ 5 × DuckDB floor | phase 1 of the build / floor of the same "
            f"{fb['models']} models: {phase1 / fb['sql_s']:.1f} × in wall time (floor "
            f"{fb['sql_s']:.0f} s, run beside the build); the models after scoring have no "
            f"floor figure yet | {_target(phase1 <= 5 * fb['sql_s'])} (phase 1) |"
        )
    if inc:
        b = inc["build"]
        add(
            f"| incremental build after 1 % new events ≤ 20 s | {b['wall_s']:.0f} s "
            f"| {_target(b['wall_s'] <= 20)} |"
        )
    peaks = [r["peak_rss_bytes"] for r in (gen, ing, build) if r]
    if inc:
        peaks.append(inc["build"]["peak_rss_bytes"])
    if partial:
        peaks.append(running_rss)
    if peaks:
        note = " (so far; the build is unfinished)" if partial else ""
        verdict = _target(max(peaks) <= 8 * GIB)
        if partial and max(peaks) <= 8 * GIB:
            verdict = "under so far"
        add(f"| peak memory ≤ 8 GiB | {_gib(max(peaks))} GiB{note} | {verdict} |")
    if e2e:
        add(f"| (no target) file landing → segment change synced | {e2e['latency_s']:.0f} s | |")
    add("")
    add("## Steps")
    add("")
    add("| step | wall s | CPU s | peak RSS GiB | load | notes |")
    add("| --- | ---: | ---: | ---: | ---: | --- |")
    if gen:
        add(_row("generate", gen, f"{gen['rows'] / gen['wall_s']:,.0f} rows/s"))
    if ing:
        add(_row("ingest (empty warehouse)", ing, f"{gen['rows'] / ing['wall_s']:,.0f} rows/s"))
    if build:
        note = "" if build["returncode"] == 0 else f"exit {build['returncode']}"
        add(_row("full `cdp build`", build, note))
        for phase, sec in build.get("phases_s", {}).items():
            add(f"| &nbsp;&nbsp;{phase} | {sec:.1f} | | | | |")
    for f, name in ((fb, "DuckDB floor, models before scoring"), (floor, "DuckDB floor")):
        if f:
            add(
                _row(
                    f"{name} (compiled SQL, no dbt)",
                    f,
                    f"{f['models']} models in {f['sql_s']:.1f} s; "
                    f"`dbt compile` {f['compile']['wall_s']:.0f} s not counted",
                )
            )
    if inc:
        add(_row("ingest of the new events", inc["ingest"], f"{inc['new_events']['total']:,} rows"))
        note = "" if inc["build"]["returncode"] == 0 else f"exit {inc['build']['returncode']}"
        add(_row("incremental `cdp build`", inc["build"], note))
        for phase, sec in inc["build"].get("phases_s", {}).items():
            add(f"| &nbsp;&nbsp;{phase} | {sec:.1f} | | | | |")
    if e2e:
        add(_row("e2e: ingest of one file", e2e["ingest"]))
        add(_row("e2e: `cdp build`", e2e["build"]))
        add(_row("e2e: `cdp sync`", e2e["sync"]))
    add("")
    partial = (
        None if build else unfinished_build(Path(state.get("workdir", "")) / "logs" / "build.log")
    )
    if partial and partial["created"]:
        add("## Full build: not finished when this file was written")
        add("")
        add(
            f"`cdp build` had run for {partial['elapsed_s'] / 60:.0f} min wall (see the load "
            f"above) and created {len(partial['created'])} models, passing "
            f"{partial['tests_passed']} tests; still running: "
            + ", ".join(f"`{n}`" for n in partial["running"])
            + "."
        )
        add("")
        cpu = _running_cpu(f"{state.get('workdir')}/src/dbt_project", "build")
        rss = _running_rss(f"{state.get('workdir')}/src/dbt_project")
        if cpu is not None:
            add(
                f"CPU time of the running `dbt build` process so far: {cpu:.0f} s "
                f"({cpu / max(partial['elapsed_s'], 1):.2f} cores on average of 2; the rest of "
                f"the machine went to the other sessions). Its resident memory when this file "
                f"was written: {rss / GIB:.2f} GiB."
            )
            add("")
        add("Models created so far, with dbt's time for each:")
        add("")
        add("| model | seconds |")
        add("| --- | ---: |")
        for name, sec in partial["created"]:
            add(f"| {name} | {sec:.1f} |")
        add("")
        small = state.get("extrapolate_from")
        if small and Path(small).exists():
            add(_extrapolation(partial, Path(small), state["customers"]))
            add("")
    for title, b in (("Full build", build), ("Incremental build", inc and inc["build"])):
        if not b or "stages" not in b:
            continue
        add(f"## {title}: where the time goes")
        add("")
        add("Summed dbt node execution times per stage (2 threads, so stages overlap and")
        add("the sum can exceed the wall time; dbt's own start-up and parsing are in the")
        add("phase wall times above, not here).")
        add("")
        add(
            "| stage | nodes | node seconds |"
            + (" floor seconds |" if title == "Full build" and fl else "")
        )
        add("| --- | ---: | ---: |" + (" ---: |" if title == "Full build" and fl else ""))
        for stage, entry in sorted(b["stages"].items(), key=lambda kv: -kv[1]["seconds"]):
            extra = ""
            if title == "Full build" and fl:
                extra = (
                    f" {fl['stages_s'].get(stage, 0):.1f} |" if stage in fl["stages_s"] else " |"
                )
            add(f"| {stage} | {entry['nodes']} | {entry['seconds']:.1f} |{extra}")
        if "phases_s" in b:
            add(
                f"| scoring (Python, phase 2) | | {b['phases_s']['scoring']:.1f} |"
                + (" |" if title == "Full build" and fl else "")
            )
        add("")
        add(
            "Slowest models: " + ", ".join(f"`{n}` {s:.1f} s" for n, s in b["slowest_models"]) + "."
        )
        if b.get("failed_nodes"):
            add("")
            add("Failed nodes: " + "; ".join(f"`{f}`" for f in b["failed_nodes"][:10]))
        add("")
    if fl:
        add("## The floor")
        add("")
        scope = (
            "all"
            if fl is floor
            else "the models `cdp build` runs before the scoring (phase 1), with seeds taken "
            "from a smaller run's warehouse (they are the same static files), beside the "
            "still-running build; the"
        )
        add(
            f"`dbt compile` against a copy of the warehouse holding only the landed raw tables "
            f"(so incremental models compile to their full SELECT), then {scope} "
            f"{fl['models']} models' compiled SQL executed with the duckdb Python API, one "
            f"statement each, in dependency order (tables as CREATE TABLE AS, dbt views as "
            f"CREATE VIEW AS, the connected-components materialization as its loop of "
            f"statements). Seeds{' and the scoring output' if fl is floor else ''} "
            f"({fl['copied_tables']} tables) were copied in first, untimed. No tests, no "
            f"scoring, no dbt. Floor: {fl['sql_s']:.1f} s wall, {_cpu(fl)} s CPU."
        )
        add("")
        add(
            "Slowest floor statements: "
            + ", ".join(f"`{n}` {sec:.1f} s" for n, sec in fl["slowest_models"])
            + "."
        )
        add("")
    if inc:
        n = inc["new_events"]
        add("## Incremental")
        add("")
        add(
            f"{n['total']:,} new event rows (1 % of the events): copies of randomly chosen "
            f"web and email events of the last month, with new ids, moved to {n['day']} (same "
            f"time of day), written as two new files and landed with `cdp ingest`; then "
            f"`cdp build` as a user would run it. Which models are incremental is whatever the "
            f"checkout held at commit {m['commit']} (see docs/incremental.md)."
        )
        add("")
    if e2e:
        add("## File landing → segment change synced")
        add("")
        add(
            f"A baseline `cdp sync` sent `{E2E_SEGMENT}` ({e2e['baseline_members']:,} members) "
            f"to the webhook contract server in the benchmark process. Then one JSON-lines file "
            f"with one event (customer {e2e['customer_id']}, logged in with their shop account, "
            f"adds a product to the cart on the last day) was written into the landing folder, "
            f"and `cdp ingest`, `cdp build`, `cdp sync` ran one after the other. "
            f"**{e2e['latency_s']:.1f} s** from writing the file to the server holding the "
            f"customer ({e2e['members_after']:,} members after). No scheduler polling delay is "
            f"included: the commands start as soon as the previous one ends."
        )
        add("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="people to generate")
    parser.add_argument(
        "--events", type=int, default=None, help="events wanted in all [default: 10 per person]"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", default=None, help="[default: /tmp/scale-bench/<customers>]")
    parser.add_argument(
        "--results",
        default=str(REPO / "benchmarks" / "scale" / "RESULTS.md"),
        help="results file to (re)write",
    )
    parser.add_argument("--steps", default=None, help=f"comma list of {', '.join(STEPS)}")
    parser.add_argument("--redo", action="append", default=[], help="repeat a finished step")
    parser.add_argument("--incremental-share", type=float, default=0.01)
    parser.add_argument(
        "--extrapolate-from",
        default=None,
        help="run_results.json of a smaller finished build, to estimate an unfinished one",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the results file from state.json"
    )
    parser.add_argument("--floor-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--floor-part", default="all", help=argparse.SUPPRESS)
    parser.add_argument(
        "--seeds-from",
        default=None,
        help="floor_before: a built warehouse (any scale) to copy the seed tables from",
    )
    args = parser.parse_args(argv)
    if args.floor_worker:
        floor_worker(Path(args.floor_worker), args.floor_part, args.seeds_from)
        return
    if args.events is None:
        args.events = 10 * args.customers
    if args.workdir is None:
        args.workdir = f"/tmp/scale-bench/{args.customers}"
    Bench(args).run()


if __name__ == "__main__":
    main()
