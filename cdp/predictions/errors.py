"""The one error the scoring step raises."""

from __future__ import annotations


class ScoringError(RuntimeError):
    """Scoring could not run: features missing, too few rows, or the warehouse failed."""
