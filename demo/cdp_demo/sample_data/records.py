"""Collecting rows per table: entity versions into snapshot exports, events into months.

Entity tables keep one row per record version. An export carries, for every
record changed since the previous export, its latest version at the cut-off;
the initial export carries the state of every record created by then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cdp_demo.sample_data.tables import Table
from cdp_demo.sample_data.timeline import Timeline
from cdp_demo.sample_data.writers import Batch


@dataclass
class VersionSink:
    """Versions of entity records, added row by row.

    `record` groups versions of the same record; `at` is when the version was
    made (its updated_at).
    """

    table: Table
    rows: dict[str, list[Any]] = field(init=False)
    record: list[int] = field(default_factory=list)
    at: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = {name: [] for name in self.table.column_names}

    def add(self, record: int, at: int, values: dict[str, Any]) -> None:
        for name, column in self.rows.items():
            column.append(values.get(name))
        self.record.append(record)
        self.at.append(at)

    def __len__(self) -> int:
        return len(self.record)

    def to_batch(self, timeline: Timeline) -> Batch:
        """The versions each export carries, with the export's part name per row."""
        at = np.array(self.at, dtype=np.int64)
        record = np.array(self.record, dtype=np.int64)
        export = timeline.export_index(at)
        order = np.lexsort((at, export, record))
        last = np.r_[
            (record[order][1:] != record[order][:-1]) | (export[order][1:] != export[order][:-1]),
            True,
        ]
        keep = order[last & (export[order] < len(timeline.exports))]
        names = np.array([e.part for e in timeline.exports])
        columns = {name: [values[i] for i in keep.tolist()] for name, values in self.rows.items()}
        return Batch(self.table, columns, names[export[keep]], at[keep])


@dataclass
class EventSink:
    """Event rows, added row by row, filed by the month of their time."""

    table: Table
    rows: dict[str, list[Any]] = field(init=False)
    at: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = {name: [] for name in self.table.column_names}

    def add(self, at: int, values: dict[str, Any]) -> None:
        for name, column in self.rows.items():
            column.append(values.get(name))
        self.at.append(at)

    def to_batch(self, timeline: Timeline) -> Batch:
        at = np.array(self.at, dtype=np.int64)
        keep = np.flatnonzero(at <= timeline.end_s)
        columns = {name: [values[i] for i in keep.tolist()] for name, values in self.rows.items()}
        return Batch(self.table, columns, timeline.month_part(at[keep]), at[keep])


def monthly_batch(
    table: Table, timeline: Timeline, at: np.ndarray, columns: dict[str, Any]
) -> Batch:
    """A batch of vectorised event columns filed by month of `at`; later events dropped."""
    keep = np.flatnonzero(np.asarray(at) <= timeline.end_s)
    picked = {
        name: values[keep] if isinstance(values, np.ndarray) else [values[i] for i in keep]
        for name, values in columns.items()
    }
    return Batch(table, picked, timeline.month_part(at[keep]), at[keep])


@dataclass
class TruthSink:
    """(source_table, source_record_id, person_id) rows for ground_truth/record_persons.csv."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, table: str, record_id: object, person_id: str) -> None:
        self.rows.append((table, str(record_id), person_id))
