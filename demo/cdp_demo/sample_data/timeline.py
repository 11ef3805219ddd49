"""The generated time window, when things happen within it, and export dates.

Times are int64 seconds since 1970-01-01 UTC. The event window is three years
ending on `end_date` (inclusive). Activity follows a calendar: weekends, the
run-up to Christmas and business growth get more of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

DAY = 86_400
HOUR = 3_600
WINDOW_DAYS = 3 * 365 + 1
INITIAL_EXPORT_DAYS_BEFORE_END = 60
DELTA_EXPORT_DAYS_BEFORE_END = (30, 0)

_MONTH_FACTOR = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 0.95, 0.92, 0.95, 1.0, 1.05, 1.35, 1.6])
_WEEKDAY_FACTOR = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.05])  # Monday first
_GROWTH = 0.45  # activity at the end of the window relative to its start, minus one

HOUR_PROFILES: dict[str, np.ndarray] = {
    "web": np.array(
        [3, 2, 1, 1, 1, 1, 2, 4, 5, 6, 6, 7, 8, 7, 6, 6, 7, 8, 9, 10, 11, 10, 8, 5], dtype=float
    ),
    "store": np.array(
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 6, 8, 10, 9, 8, 8, 9, 10, 9, 6, 3, 1, 0, 0], dtype=float
    ),
    "office": np.array(
        [0, 0, 0, 0, 0, 0, 1, 2, 6, 9, 10, 10, 8, 9, 10, 9, 8, 6, 3, 2, 1, 1, 0, 0], dtype=float
    ),
    "email": np.array(
        [1, 1, 0, 0, 0, 1, 3, 6, 8, 8, 7, 6, 7, 6, 5, 5, 5, 6, 7, 8, 8, 6, 4, 2], dtype=float
    ),
}


def _epoch_seconds(d: date) -> int:
    return int((d - date(1970, 1, 1)).days) * DAY


@dataclass(frozen=True)
class Export:
    """One snapshot export of the entity tables: file part name and cut-off time."""

    part: str
    cutoff: int


@dataclass(frozen=True)
class Timeline:
    """The window of generated history and the calendar of activity within it."""

    end_date: date
    start_s: int
    end_s: int
    days: int
    cum_weight: np.ndarray
    exports: tuple[Export, ...]

    @classmethod
    def build(cls, end_date: date) -> Timeline:
        start = end_date - timedelta(days=WINDOW_DAYS - 1)
        day_dates = np.arange(
            np.datetime64(start.isoformat()), np.datetime64(end_date.isoformat()) + 1
        )
        months = day_dates.astype("datetime64[M]").astype(int) % 12
        weekday = (day_dates.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
        growth = 1.0 + _GROWTH * np.linspace(0.0, 1.0, len(day_dates))
        weight = _MONTH_FACTOR[months] * _WEEKDAY_FACTOR[weekday] * growth
        cum = np.concatenate([[0.0], np.cumsum(weight)])
        initial = end_date - timedelta(days=INITIAL_EXPORT_DAYS_BEFORE_END)
        exports = [Export("initial", _epoch_seconds(initial) + DAY - 1)]
        for days_before in DELTA_EXPORT_DAYS_BEFORE_END:
            d = end_date - timedelta(days=days_before)
            exports.append(Export(f"delta-{d.isoformat()}", _epoch_seconds(d) + DAY - 1))
        return cls(
            end_date=end_date,
            start_s=_epoch_seconds(start),
            end_s=_epoch_seconds(end_date) + DAY - 1,
            days=len(day_dates),
            cum_weight=cum,
            exports=tuple(exports),
        )

    def sample(
        self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, profile: str = "web"
    ) -> np.ndarray:
        """One time per pair in [lo, hi), following the calendar and an hour-of-day profile.

        Bounds outside the window are clipped to it; empty intervals return `lo`.
        """
        lo = np.clip(np.asarray(lo, dtype=np.int64), self.start_s, self.end_s)
        hi = np.clip(np.asarray(hi, dtype=np.int64), self.start_s, self.end_s + 1)
        hi = np.maximum(hi, lo + 1)
        grid = np.arange(self.days + 1, dtype=float)
        c_lo = np.interp((lo - self.start_s) / DAY, grid, self.cum_weight)
        c_hi = np.interp((hi - self.start_s) / DAY, grid, self.cum_weight)
        u = c_lo + rng.random(len(lo)) * (c_hi - c_lo)
        day = np.floor(np.interp(u, self.cum_weight, grid)).astype(np.int64)
        t = self.start_s + day * DAY + time_of_day(rng, len(lo), profile)
        return np.clip(t, lo, hi - 1)

    def month_part(self, t: np.ndarray) -> np.ndarray:
        """The monthly file part ("2026-05") of each time."""
        return t.astype("datetime64[s]").astype("datetime64[M]").astype(str)

    def export_index(self, t: np.ndarray) -> np.ndarray:
        """Which export first carries a change made at each time; len(exports) if none does."""
        cutoffs = np.array([e.cutoff for e in self.exports], dtype=np.int64)
        return np.searchsorted(cutoffs, t, side="left")


def time_of_day(rng: np.random.Generator, n: int, profile: str) -> np.ndarray:
    """Seconds after midnight drawn from an hour-of-day profile."""
    weights = HOUR_PROFILES[profile]
    hours = rng.choice(24, size=n, p=weights / weights.sum())
    return hours * HOUR + rng.integers(0, HOUR, size=n)


def to_datetime64(t: np.ndarray) -> np.ndarray:
    """Seconds (0 or negative sentinel = missing) as datetime64[s] with NaT for missing."""
    out = np.asarray(t, dtype=np.int64).astype("datetime64[s]")
    out[np.asarray(t) == NO_TIME] = np.datetime64("NaT")
    return out


NO_TIME = np.iinfo(np.int64).min
