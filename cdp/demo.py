"""The product's one door to the demo distribution (`cdp_demo`, in demo/).

Only the demo commands reach it, inside the command: `cdp generate` and `cdp run`
(the sample-data generator), `--demo-destinations` and `cdp demo-destinations`
(the demo's contract servers and secrets). No module imports `cdp_demo` at load.
"""

from __future__ import annotations

import importlib.util

INSTALL = "pip install -e ./demo"


def missing_demo(what: str) -> str | None:
    """The one-line error when the demo distribution is not installed, else None."""
    if importlib.util.find_spec("cdp_demo") is not None:
        return None
    return (
        f"{what} needs the demo package cdp-demo, which is not installed: "
        f"run `{INSTALL}` in the repository (make install does)"
    )
