"""What a Spark catalog holds, from one process: `python -m tests.engines.spark_probe
OUT [--truncate-landed] NEEDLE...` (CDP_SPARK_DIR names the catalog).

Writes to OUT as JSON: `counts` and `privacy_counts`, the rows of every raw
and privacy table; `log`, the rows of `privacy.erasure_log` (values as
text); and `hits`, `schema.table.column: needle` wherever a column of any
table of any database holds a needle
(case-insensitive; strings and complex types, cast to text). With
--truncate-landed, first empties `raw._landed_files`, so that the next `cdp
ingest` lands every file again. For tests/engines/test_privacy_spark.py: each
process is a JVM start (10-15 s), so one probe answers all of it.

`OUT --relocate OLD NEW` instead moves a copied catalog: Spark's embedded Derby
metastore keeps every database's and table's location as an absolute path, so
a copy of CDP_SPARK_DIR made at NEW still reads and writes OLD's files. The
metastore's location columns (DBS, SDS, and the `path` Spark keeps among a data
source table's SERDE_PARAMS) are rewritten from OLD to NEW over JDBC, in a JVM
without a Spark session; OUT gets `relocated`, the rows changed.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

TEXT_TYPES = ("string", "varchar", "char", "array", "map", "struct")


def main(argv: list[str]) -> None:
    from cdp.landing.engines.spark import SparkConfig
    from cdp.predictions.spark_store import stop_session

    out, *rest = argv
    if rest[:1] == ["--relocate"]:
        moved = relocate(rest[1], rest[2])
        Path(out).write_text(json.dumps({"relocated": moved}), encoding="utf-8")
        return
    truncate = "--truncate-landed" in rest
    needles = [n.lower() for n in rest if n != "--truncate-landed"]
    spark = SparkConfig.from_env().session()
    try:
        if truncate:
            spark.sql("truncate table raw._landed_files")
        counts: dict[str, int] = {}
        privacy_counts: dict[str, int] = {}
        hits: list[str] = []
        log: list[dict[str, str | None]] = []
        if spark.catalog.tableExists("privacy.erasure_log"):
            log = [
                {k: None if v is None else str(v) for k, v in row.asDict().items()}
                for row in spark.sql("select * from privacy.erasure_log").collect()
            ]
        for database in sorted(d.name for d in spark.catalog.listDatabases()):
            for table in sorted(t.name for t in spark.catalog.listTables(database)):
                relation = f"`{database}`.`{table}`"
                frame = spark.table(relation)
                if database == "raw":
                    counts[table] = frame.count()
                if database == "privacy":
                    privacy_counts[table] = frame.count()
                columns = [
                    f.name
                    for f in frame.schema.fields
                    if f.dataType.simpleString().startswith(TEXT_TYPES)
                ]
                pairs = [(c, n) for c in columns for n in needles]
                if not pairs:
                    continue
                tests = ", ".join(
                    f"count_if(instr(lower(cast(`{c}` as string)), '{n}') > 0)" for c, n in pairs
                )
                (row,) = spark.sql(f"select {tests} from {relation}").collect()
                hits += [
                    f"{database}.{table}.{c}: {n}"
                    for (c, n), count in zip(pairs, row, strict=True)
                    if count
                ]
    finally:
        stop_session(spark)
    Path(out).write_text(
        json.dumps({"counts": counts, "privacy_counts": privacy_counts, "hits": hits, "log": log}),
        encoding="utf-8",
    )


# (table, column, extra condition) of the Derby metastore's locations
LOCATIONS = (
    ("DBS", "DB_LOCATION_URI", ""),
    ("SDS", "LOCATION", ""),
    ("SERDE_PARAMS", "PARAM_VALUE", " and PARAM_KEY = 'path'"),
)


def relocate(old: str, new: str) -> int:
    """Rewrite the metastore of the catalog copied to `new` from `old`'s paths."""
    from pyspark.java_gateway import launch_gateway

    gateway = launch_gateway()
    try:
        jvm = gateway.jvm
        jvm.java.lang.System.setProperty("derby.system.home", new)  # derby.log there
        jvm.java.lang.Class.forName("org.apache.derby.jdbc.EmbeddedDriver")
        con = jvm.java.sql.DriverManager.getConnection(f"jdbc:derby:{new}/metastore_db")
        moved = 0
        try:
            statement = con.createStatement()
            for prefix in (f"file:{old}/", f"{old}/"):
                new_prefix = prefix.replace(old, new, 1)
                for table, column, extra in LOCATIONS:
                    moved += statement.executeUpdate(
                        f"update {table} set {column} = '{new_prefix}' || "
                        f"substr({column}, {len(prefix) + 1}) "
                        f"where {column} like '{prefix}%'{extra}"
                    )
        finally:
            con.close()
        # Derby reports a clean shutdown (its files closed) as an SQLException
        with contextlib.suppress(Exception):
            jvm.java.sql.DriverManager.getConnection("jdbc:derby:;shutdown=true")
        return moved
    finally:
        gateway.shutdown()
        process = getattr(gateway, "proc", None)
        if process is not None:
            process.stdin.close()
            process.wait(timeout=60)


if __name__ == "__main__":
    main(sys.argv[1:])
