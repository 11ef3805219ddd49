"""The answer key: who each generated record really belongs to, and who those people are.

Written to `ground_truth/`, which is never loaded into the warehouse:
record_persons.csv (source_table, source_record_id, person_id) and
persons.csv (clean identity and latent behaviour of every person).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cdp_demo.sample_data.catalog import Catalog
from cdp_demo.sample_data.locales import COUNTRIES
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.records import TruthSink
from cdp_demo.sample_data.timeline import NO_TIME

RECORD_PERSONS = "record_persons.csv"
PERSONS = "persons.csv"
RECORD_COLUMNS = ("source_table", "source_record_id", "person_id")
PERSON_COLUMNS = (
    "person_id",
    "household_id",
    "first_name",
    "last_name",
    "gender",
    "email",
    "phone_e164",
    "birth_date",
    "country_code",
    "city",
    "postal_code",
    "street",
    "previous_email",
    "previous_phone_e164",
    "previous_postal_code",
    "acquired_date",
    "churn_date",
    "purchase_rate_per_year",
    "avg_basket_value_eur",
    "preferred_categories",
    "web_share",
    "email_engagement",
)


def _day(t: int) -> str:
    if t == NO_TIME:
        return ""
    return str(np.datetime64(int(t), "s").astype("datetime64[D]"))


class GroundTruthWriter:
    """Appends each chunk's truth rows and people to the two ground-truth files."""

    def __init__(self, folder: Path, catalog: Catalog) -> None:
        self.folder = folder
        self.catalog = catalog
        self.record_rows = 0
        self.person_rows = 0
        folder.mkdir(parents=True, exist_ok=True)
        for name, header in ((RECORD_PERSONS, RECORD_COLUMNS), (PERSONS, PERSON_COLUMNS)):
            (folder / name).write_text(",".join(header) + "\n", encoding="utf-8")

    def write(self, pop: Population, truth: TruthSink) -> None:
        self._append(RECORD_PERSONS, truth.rows)
        self.record_rows += len(truth.rows)
        rows = []
        cats = self.catalog.category_names
        for i in range(pop.n):
            city = COUNTRIES[pop.country[i]].cities[pop.city[i]]
            prefs = pop.preferred[i]
            rows.append(
                (
                    pop.person_id[i],
                    pop.household_id[i],
                    pop.first_name[i],
                    pop.last_name[i],
                    "female" if pop.female[i] else "male",
                    pop.email[i],
                    pop.phone[i],
                    pop.birth_date[i].isoformat(),
                    pop.country[i],
                    city.name,
                    pop.postal_code[i],
                    pop.street[i],
                    pop.previous_email[i] or "",
                    pop.previous_phone[i] or "",
                    pop.previous_postal_code[i] or "",
                    _day(int(pop.acquired_at[i])),
                    _day(int(pop.churn_at[i])),
                    f"{pop.purchase_rate[i]:.3f}",
                    f"{pop.basket_value_eur[i]:.2f}",
                    f"{cats[int(prefs[0])]}|{cats[int(prefs[1])]}",
                    f"{pop.web_share[i]:.3f}",
                    f"{pop.engagement[i]:.3f}",
                )
            )
        self._append(PERSONS, rows)
        self.person_rows += len(rows)

    def _append(self, name: str, rows: Sequence[Sequence[str]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        with (self.folder / name).open("a", encoding="utf-8", newline="") as fh:
            fh.write(buffer.getvalue())
