"""Write the dbt manifest the Dagster definitions load: `python -m orchestration.prepare`.

Runs `dbt parse` into the project's target path (DBT_TARGET_PATH or
dbt_project/target). Definitions never parse at import time, so run this after
changing the dbt project (make dev does). When a parse fails, for example while
a model is half-edited, the error is printed and the old manifest is kept; with
--retry N it tries again every few seconds, up to N times.
"""

from __future__ import annotations

import argparse
import sys
import time

from cdp.dbt import DbtError, run_dbt
from orchestration.defs.project import build_dbt_project, settings


def prepare_manifest(retries: int = 0, wait_seconds: float = 5.0, quiet: bool = False) -> None:
    """`dbt parse` into the target path; raise DbtError after the last failed attempt."""
    home = settings()
    args = ["parse", "--target-path", str(build_dbt_project().target_path)]
    for attempt in range(retries + 1):
        try:
            run_dbt(home, args, quiet=quiet)
            return
        except DbtError:
            if attempt == retries:
                raise
            time.sleep(wait_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retry", type=int, default=0, help="attempts after a failed parse")
    options = parser.parse_args(argv)
    try:
        prepare_manifest(retries=options.retry)
    except DbtError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"manifest written to {build_dbt_project().manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
