"""Benchmark: sample-data generation and raw landing at a given size.

    .venv/bin/python benchmarks/foundation/bench_generate_and_land.py --customers 100000

Measures, in a temporary folder that is deleted afterwards:
1. `cdp generate`: wall and CPU time, rows and bytes written;
2. `cdp ingest` into an empty DuckDB file: wall time, rows/s, rows rejected;
3. the same ingest again (every file skipped by content hash): wall time;
and the peak resident memory of each step (each step runs in its own process).
Prints a Markdown table row per step, to paste into RESULTS.md beside the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

GENERATE = """
import sys
from datetime import date
from pathlib import Path
from cdp_demo.sample_data import generate
result = generate(Path(sys.argv[1]), customers=int(sys.argv[2]), seed=42,
                  end_date=date(2026, 6, 30))
import resource
print(sum(result.table_rows.values()), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

INGEST = """
import sys
from pathlib import Path
from cdp.landing import ingest
result = ingest(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
import resource
print(result.rows_loaded, result.rows_rejected, result.files_skipped,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _run_step(code: str, *args: str) -> tuple[float, float, int, str]:
    """Run `code` in a fresh interpreter; return wall s, CPU s, peak RSS MiB, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # The last line is the step's answer (DuckDB may print a progress bar above
    # it); its last field is the step's own peak RSS in KiB.
    *answer, peak_kib = completed.stdout.strip().splitlines()[-1].split()
    return wall, cpu, int(peak_kib) // 1024, " ".join(answer)


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cdp-bench-") as tmp:
        work = Path(tmp)
        data = work / "data"
        warehouse = work / "cdp.duckdb"
        gen_wall, gen_cpu, gen_rss, rows = _run_step(GENERATE, str(data), str(args.customers))
        size_mb = _dir_bytes(data / "landing") / 1e6
        ing_wall, ing_cpu, ing_rss, out = _run_step(
            INGEST, str(data / "landing"), str(warehouse), str(REPO / "dbt_project")
        )
        loaded, rejected, _ = (int(x) for x in out.split())
        again_wall, _, again_rss, again = _run_step(
            INGEST, str(data / "landing"), str(warehouse), str(REPO / "dbt_project")
        )
        skipped = int(again.split()[2])

    load = os.getloadavg()[0]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average at end {load:.1f}"
    )
    print(f"customers: {args.customers:,}; rows generated: {int(rows):,}; files: {size_mb:,.0f} MB")
    print()
    print("| step | wall s | CPU s | peak RSS MiB | throughput |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(
        f"| generate | {gen_wall:.1f} | {gen_cpu:.1f} | {gen_rss} | "
        f"{int(rows) / gen_wall:,.0f} rows/s |"
    )
    print(
        f"| ingest (empty warehouse) | {ing_wall:.1f} | {ing_cpu:.1f} | {ing_rss} | "
        f"{(loaded + rejected) / ing_wall:,.0f} rows/s; {loaded:,} landed, "
        f"{rejected:,} rejected |"
    )
    print(
        f"| ingest again (all skipped) | {again_wall:.1f} | | {again_rss} | "
        f"{skipped} files skipped |"
    )
    print(
        json.dumps(
            {
                "customers": args.customers,
                "rows": int(rows),
                "generate_s": gen_wall,
                "ingest_s": ing_wall,
                "ingest_again_s": again_wall,
            }
        ),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
