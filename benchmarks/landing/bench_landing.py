"""Benchmark: raw landing of large single files, comparing checkouts of the repository.

    .venv/bin/python benchmarks/landing/bench_landing.py --rows 1000000 /work/main .

Writes three inputs into a temporary folder (deleted afterwards), in the shape
of `tests/test_landing.py`'s declarations:
1. CSV, 6 columns, LF line breaks, 10% of rows with a quoted value (with a comma);
2. the same CSV with CRLF line breaks;
3. JSON lines, 6 keys;
4. the CSV of 1. with one quoted value holding a line break (records are then
   framed with window functions over every line);
each with 0.1% broken rows. Then, for every repository checkout named, and
alternating between them `--repeat` times, lands each file into an empty DuckDB
file in a child process (PYTHONPATH pointing at that checkout) and records its
wall time and CPU time (user + system, from the child's rusage). Prints one
Markdown row per input and checkout with the median of each, and `uptime`
before and after: under load, read the CPU column.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES_YAML = """
version: 2
sources:
  - name: shop
    schema: raw
    tables:
      - name: orders
        meta:
          landing: {format: csv, required: [order_id, ordered_at]}
        columns:
          - {name: order_id, data_type: bigint}
          - {name: email, data_type: varchar}
          - {name: ordered_at, data_type: timestamp}
          - {name: total, data_type: "decimal(12,2)"}
          - {name: is_gift, data_type: boolean}
          - {name: note, data_type: varchar}
      - name: events
        meta:
          landing: {format: jsonl, required: [event_id, occurred_at]}
        columns:
          - {name: event_id, data_type: varchar}
          - {name: type, data_type: varchar}
          - {name: occurred_at, data_type: timestamp}
          - {name: quantity, data_type: integer}
          - {name: properties, data_type: json}
"""

LAND = """
import resource, sys, time
from pathlib import Path
from cdp.landing import ingest
started = time.perf_counter()
result = ingest(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
print(time.perf_counter() - started, result.rows_loaded, result.rows_rejected)
"""


def _csv(path: Path, rows: int, newline: str, rng: random.Random, spanning: bool = False) -> None:
    with path.open("w", newline="") as out:
        out.write("order_id,email,ordered_at,total,is_gift,note" + newline)
        for i in range(rows):
            note = f'"gift, wrapped {i}"' if rng.random() < 0.1 else f"note {i}"
            if spanning and i == rows // 2:
                note = '"a value over\ntwo lines"'
            total = "abc" if rng.random() < 0.001 else f"{i % 1000}.{i % 100:02d}"
            out.write(
                f"{i},p{i}@example.com,2024-01-{1 + i % 28:02d}T10:{i % 60:02d}:00Z,"
                f"{total},{'true' if i % 2 else 'false'},{note}{newline}"
            )


def _jsonl(path: Path, rows: int, rng: random.Random) -> None:
    with path.open("w") as out:
        for i in range(rows):
            if rng.random() < 0.001:
                out.write("{not json\n")
                continue
            record = {
                "event_id": f"e{i}",
                "type": "view",
                "occurred_at": f"2024-01-{1 + i % 28:02d}T10:00:00Z",
                "quantity": i % 7,
                "properties": {"sku": f"S{i % 500}"},
                "source": "app",
            }
            out.write(json.dumps(record) + "\n")


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _land_once(repo: Path, input_dir: Path, project: Path, work: Path) -> tuple[float, float]:
    warehouse = work / "bench.duckdb"
    warehouse.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=f"{repo}:{repo / 'demo'}", CDP_HOME=str(repo))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", LAND, str(input_dir), str(warehouse), str(project)],
        env=env,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", type=Path, help="checkouts of the repository")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="inputs whose name holds one of these")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="cdp-bench-landing-") as tmp:
        root = Path(tmp)
        project = root / "dbt_project"
        (project / "models" / "staging" / "shop").mkdir(parents=True)
        (project / "models" / "staging" / "shop" / "_shop__sources.yml").write_text(SOURCES_YAML)
        inputs = {}
        for name, write in (
            ("CSV, LF", lambda p: _csv(p, args.rows, "\n", rng)),
            ("CSV, CRLF", lambda p: _csv(p, args.rows, "\r\n", rng)),
            ("JSON lines", lambda p: _jsonl(p, args.rows, rng)),
            ("CSV, LF, one value over two lines", lambda p: _csv(p, args.rows, "\n", rng, True)),
        ):
            if args.only and not any(word in name for word in args.only):
                continue
            folder = root / "".join(ch for ch in name if ch.isalnum())
            table = "events" if name.startswith("JSON") else "orders"
            (folder / table).mkdir(parents=True)
            write(folder / table / ("part.jsonl" if table == "events" else "part.csv"))
            inputs[name] = folder
        print(f"before: {_uptime()}")
        timings: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.repeat):
            for name, folder in inputs.items():
                for repo in args.repos:
                    result = _land_once(repo.resolve(), folder, project, root)
                    timings.setdefault((name, str(repo)), []).append(result)
        print(f"after: {_uptime()}")
        print(f"\n| input ({args.rows:,} rows) | checkout | wall s (median) | CPU s (median) |")
        print("| --- | --- | ---: | ---: |")
        for (name, repo), runs in timings.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"| {name} | {repo} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
