"""DuckDB SQL for landing: names, reading files into lines and records, writing rows.

Pure functions that return SQL text; `staging` and `loader` (this package) run
them. A text file is read by DuckDB's own CSV reader into a temporary table of
physical lines; CSV records are framed and split from those lines. Casting and
reject reasons are in `casting`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdp.landing.registry import DataType

LINES = "_cdp_lines"
MULTILINE = "_cdp_multiline_records"
RECORDS = "_cdp_records"  # a view: over LINES, or over MULTILINE
STAGED = "_cdp_staged"
SCAN_ERRORS = "_cdp_scan_errors"
SCAN_INFO = "_cdp_scans"
CRLF_RUNS = "_cdp_crlf_runs"
TEMP_VIEWS = (RECORDS,)
TEMP_TABLES = (LINES, MULTILINE, STAGED, SCAN_ERRORS, SCAN_INFO, CRLF_RUNS)
# Up to this many runs of CRLF line breaks are numbered in the scan itself;
# more (a file alternating CRLF and other breaks) are joined from a table.
INLINE_RUNS = 32

# A four-byte delimiter that text files do not contain, so that read_csv returns
# each physical line whole (see scan_lines for what happens if one does).
_NO_DELIMITER = "\x1f\x1e\x1d\x1c"
MAX_LINE_BYTES = 64 * 1024 * 1024
SPACE = "[ \t\r]"  # what counts as space around a value and on a blank line

# One CSV field (RFC 4180: comma-separated, '"' doubled inside a quoted value).
_CSV_FIELD = r'"(?:[^"]|"")*"|[^,"]*'
_CSV_RECORD = f"(?:{_CSV_FIELD})(?:,(?:{_CSV_FIELD}))*"
_FIELD_SEPARATOR = "\x1f"  # stands for a comma between fields while splitting


def ident(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted string literal."""
    return "'" + text.replace("'", "''") + "'"


def file_path(path: str) -> str:
    """A file path as a string literal DuckDB's readers take literally, not as a glob.

    Readers expand `*`, `?` and `[...]`, so `orders[1].csv` would read
    `orders1.csv`; each of those characters is wrapped in a one-character class.
    """
    return literal("".join(f"[{ch}]" if ch in "*?[" else ch for ch in path))


def column_type(data_type: DataType) -> str:
    """The DuckDB type of a portable type (timestamps are naive UTC)."""
    if data_type.name == "decimal":
        return f"DECIMAL({data_type.precision},{data_type.scale})"
    return data_type.name.upper()


def blank(expr: str) -> str:
    """True when a line or value is null, empty or only spaces, tabs and CRs.

    (A regular expression: DuckDB's trim() is several times slower.)
    """
    return f"regexp_full_match(coalesce({expr}, ''), '{SPACE}*')"


# --- reading text files ---------------------------------------------------------


def scan_lines(path: str, crlf_runs: Sequence[tuple[int, int]] = ()) -> str:
    """Physical lines of a text file as (line_no, line); a blank line is null or spaces.

    read_csv with no quote character and a delimiter that never occurs splits on
    line breaks only and drops a UTF-8 BOM. Told that lines end in LF, it takes
    every CR and every LF byte as a break (its own detection of CRLF loses the
    text after a lone CR), so a CRLF pair yields an empty phantom line between
    its two bytes: `crlf_runs` (FileStats.crlf_runs, found while hashing) says
    where, and those lines are dropped and the others numbered as the file's
    lines: LF, CRLF and lone CR breaks, mixed as they come, count one each.

    Not being strict, the reader would cut a line at the delimiter without a word,
    so the caller checks the bytes and lines read against the file
    (`line_bytes`). Lines it cannot read (invalid UTF-8, longer than
    MAX_LINE_BYTES) go to SCAN_ERRORS instead of stopping the scan; the caller
    fails the file then.
    """
    read = f"""
        read_csv(
            {file_path(path)},
            columns = {{'line': 'VARCHAR'}},
            header = false,
            auto_detect = false,
            delim = {literal(_NO_DELIMITER)},
            quote = '',
            escape = '',
            new_line = '\\n',
            strict_mode = false,
            max_line_size = {MAX_LINE_BYTES},
            store_rejects = true,
            rejects_table = {literal(SCAN_ERRORS)},
            rejects_scan = {literal(SCAN_INFO)}
        ) with ordinality"""
    if not crlf_runs:
        return f"create temp table {LINES} as select ordinality as line_no, line from {read}"
    if len(crlf_runs) > INLINE_RUNS:
        return _scan_lines_joined(read)
    before = 0
    shifted, phantom = [], []
    for first, count in crlf_runs:
        shifted.append(
            f"when ordinality >= {first} then "
            f"{before} + least({count}, (ordinality - {first} + 1) // 2)"
        )
        phantom.append(
            f"when ordinality >= {first} then "
            f"(ordinality - {first}) % 2 = 0 and (ordinality - {first}) // 2 < {count}"
        )
        before += count
    return f"""
        create temp table {LINES} as
        select ordinality - (case {" ".join(reversed(shifted))} else 0 end) as line_no, line
        from {read}
        where not (case {" ".join(reversed(phantom))} else false end)
    """


def _scan_lines_joined(read: str) -> str:
    """scan_lines for a file with many CRLF runs: they are joined from CRLF_RUNS."""
    return f"""
        create temp table {LINES} as
        with runs as (
            select first, count,
                   coalesce(sum(count) over (
                       order by first rows between unbounded preceding and 1 preceding
                   ), 0) as before
            from {CRLF_RUNS}
        ),
        numbered as (
            select r.ordinality, r.line, b.first, b.count, b.before
            from {read} as r asof left join runs as b on r.ordinality >= b.first
        )
        select ordinality - coalesce(before + least(count, (ordinality - first + 1) // 2), 0)
                   as line_no,
               line
        from numbered
        where not coalesce((ordinality - first) % 2 = 0 and (ordinality - first) // 2 < count,
                           false)
        order by ordinality
    """


def crlf_runs_table() -> str:
    """The table of CRLF runs `_scan_lines_joined` reads, from two list parameters."""
    return f"""
        create temp table {CRLF_RUNS} as
        select unnest($1::BIGINT[]) as first, unnest($2::BIGINT[]) as count
    """


def first_scan_error() -> str:
    return f"""
        select line, error_type::varchar, error_message
        from {SCAN_ERRORS} order by line limit 1
    """


def line_bytes() -> str:
    """Lines and bytes of line content read, to compare with FileStats."""
    return f"select count(*), coalesce(sum(strlen(line)), 0) from {LINES}"


# Framing CSV records from lines (RFC 4180, read leniently so that one stray
# quote cannot swallow the lines after it): a quote opens a quoted value only at
# the start of a field; inside, "" is a quote and a lone " closes the value. A
# quote anywhere else (`ab"c`, or text after a closing quote) is malformed but
# opens nothing. The grammar has one parse per line, so a full match tells
# where a line ends: inside or outside quotes, from either state it starts in.
_QUOTED_TEXT = r'(?:[^"]|"")*'
_FRAME_FIELD = rf'(?:"{_QUOTED_TEXT}"(?:[^",][^,]*)?|[^",][^,]*|)'
_OPEN_VALUE = rf'"{_QUOTED_TEXT}'
# A line started outside quotes ends inside them.
_OUT_TO_IN = rf"(?:{_FRAME_FIELD},)*{_OPEN_VALUE}"
# A line started inside quotes ends inside them.
_IN_TO_IN = rf'{_QUOTED_TEXT}(?:"(?:[^",][^,]*)?(?:,{_FRAME_FIELD})*,{_OPEN_VALUE})?'


def _opens_quotes(expr: str) -> str:
    """True when a line that starts outside quotes ends inside them."""
    return f"(contains({expr}, '\"') and regexp_full_match({expr}, {literal(_OUT_TO_IN)}))"


def has_open_quote_line() -> str:
    """Whether any line leaves a quoted value open, i.e. a quoted value may span lines."""
    return f"select coalesce(bool_or({_opens_quotes('line')}), false) from {LINES}"


def csv_records(multiline: bool) -> list[str]:
    """Statements that define the view RECORDS: (line_no, record, unterminated, cut_back).

    Blank lines are not records. Without a line that leaves quotes open every
    other line is a record. Otherwise a line continues the record before it
    while that record is inside quotes. Each line is a function from the state
    it starts in to the state it ends in (stay, flip, or end outside / inside
    whatever the start), so the state at each line's start comes from window
    functions: the last line before it whose end does not depend on its start,
    and the flips since. The statements take two parameters, lines that are
    records on their own whatever the state (see `staging._frame_csv_records`):
    those that opened a record the file ended inside of, and those that opened
    a malformed record spanning lines. A record still inside quotes at the end
    of the file, or a line of the first kind that leaves quotes open, is
    `unterminated`; a line of the second kind that does is `cut_back`.
    """
    if not multiline:
        return [
            f"""create temp view {RECORDS} as
                select line_no, line as record, false as unterminated, false as cut_back
                from {LINES} where not ({blank("line")})"""
        ]
    before = "order by line_no rows between unbounded preceding and 1 preceding"
    grouped = f"""
        create temp table {MULTILINE} as
        with lines as (
            select line_no, coalesce(line, '') as line,
                   list_contains($1::BIGINT[], line_no) as open_at_end,
                   list_contains($2::BIGINT[], line_no) as cut
            from {LINES}
        ),
        alone as (
            select line_no, line, open_at_end, cut, open_at_end or cut as alone from lines
        ),
        moves as (
            select line_no, line, alone, open_at_end, cut, {_opens_quotes("line")} as opens,
                   case when alone then false
                        when contains(line, '"') then {_opens_quotes("line")} end as from_out,
                   case when alone then false
                        when contains(line, '"')
                        then regexp_full_match(line, {literal(_IN_TO_IN)})
                        else true end as from_in
            from alone
        ),
        kinds as (
            select *, coalesce(from_out, false) as out_end,
                   from_out is not distinct from from_in as fixed,
                   coalesce(from_out and not from_in, false) as flips
            from moves
        ),
        segments as (
            select *,
                   coalesce(sum(fixed::integer) over ({before}), 0) as segment,
                   coalesce(last_value(case when fixed then out_end end ignore nulls)
                            over ({before}), false) as segment_start
            from kinds
        ),
        states as (
            select *,
                   segment_start <> (coalesce(sum(flips::integer) over (
                       partition by segment {before}
                   ), 0) % 2 = 1) as inside_at_start
            from segments
        ),
        numbered as (
            select *,
                   case when inside_at_start then from_in else out_end end as inside_at_end,
                   sum(case when inside_at_start and not alone then 0 else 1 end) over (
                       order by line_no rows unbounded preceding
                   ) as record_id
            from states
        ),
        grouped as (
            select min(line_no) as line_no,
                   string_agg(line, chr(10) order by line_no) as record,
                   arg_max(coalesce(inside_at_end, false), line_no)
                       and not bool_or(alone) as ends_inside,
                   bool_or(open_at_end and opens) as open_alone,
                   bool_or(cut and opens) as cut_back,
                   count(*) as lines
            from numbered group by record_id
        )
        select line_no, record, ends_inside, ends_inside or open_alone as unterminated,
               cut_back, lines
        from grouped
        order by line_no
    """
    view = f"""create temp view {RECORDS} as
        select line_no, record, unterminated, cut_back from {MULTILINE}
        where unterminated or not ({blank("record")})"""
    return [grouped, view]


def open_records() -> str:
    """The first lines of records still inside quotes at their end, and whether each is
    the file's last record (before a line cut back, a record can end inside too)."""
    return f"""
        select line_no, line_no = (select max(line_no) from {MULTILINE}) as last
        from {MULTILINE} where ends_inside
        order by line_no
    """


def malformed_multiline_starts(width: int, after_line: int) -> str:
    """The first lines of records after `after_line` that span lines and do not split
    into `width` fields: a quote that opened them was not meant as one."""
    return f"""
        with spanning as (
            select line_no, {csv_fields("record")} as fields
            from {MULTILINE} where lines > 1 and line_no > {after_line}
        )
        select line_no from spanning
        where fields is null or len(fields) <> {width}
        order by line_no
    """


def csv_fields(record: str) -> str:
    """The unquoted fields of a CSV record, or null when its quoting is malformed.

    A record without quotes is split on commas. A well-formed quoted one is split
    on '"' (padded with commas so that the pieces alternate: outside quotes,
    inside quotes, ...): commas outside quotes become a separator, an empty piece
    outside quotes is a doubled quote, then the pieces are joined and split on
    the separator. That is twice as fast as regexp_extract_all, kept for records
    that contain the separator character itself.
    """
    sep = _FIELD_SEPARATOR
    pieces = f"string_split(',' || {record} || ',', '\"')"
    fast = f"""string_split(array_to_string(list_transform({pieces}, lambda piece, i:
                case when i % 2 = 0 then piece when piece = '' then '"'
                     else replace(piece, ',', '{sep}') end), ''), '{sep}')[2:-2]"""
    slow = f"""list_transform(
            regexp_extract_all({record} || ',', {literal(f"({_CSV_FIELD}),")}, 1),
            lambda f: case when starts_with(f, '"') then replace(f[2:-2], '""', '"') else f end
        )"""
    return f"""case
        when not contains({record}, '"') then string_split({record}, ',')
        when not regexp_full_match({record}, {literal(_CSV_RECORD)}) then null
        when not contains({record}, '{sep}') then {fast}
        else {slow}
    end"""


def csv_header() -> str:
    return f"""
        select line_no, {csv_fields("record")} as fields, unterminated
        from {RECORDS} order by line_no limit 1
    """


# json_valid() also takes what JSON (RFC 8259) does not: trailing commas before
# '}' or ']', and NaN, Infinity or inf as numbers. A valid line that could hold one
# (the cheap first test) is checked again with its strings blanked out.
_LENIENT_HINT = r"(?i),[ \t\r\n]*[\]}]|nan|inf"
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_LENIENT_FOUND = r",[ \t\r\n]*[\]}]|[A-DF-Za-df-z]"  # after true/false/null are gone


def strict_json_valid(expr: str) -> str:
    """True when the text is valid JSON by RFC 8259, not only by DuckDB's lenient parser."""
    blanked = f"regexp_replace({expr}, {literal(_JSON_STRING)}, '\"\"', 'g')"
    words_gone = f"regexp_replace({blanked}, 'true|false|null', '', 'g')"
    return (
        f"(json_valid({expr}) and not (regexp_matches({expr}, {literal(_LENIENT_HINT)}) "
        f"and regexp_matches({words_gone}, {literal(_LENIENT_FOUND)})))"
    )


def json_key_sets() -> str:
    """The distinct key lists of the file's JSON lines, first seen first.

    json_keys() gives [] for valid JSON that is not an object. (Invalid lines are
    filtered out with strict_json_valid() rather than caught with try(), which
    turns slow, row by row, on every batch holding one.)
    """
    return f"""
        with keyed as (
            select line_no, json_keys(line) as keys from {LINES}
            where {strict_json_valid("line")}
        )
        select keys from keyed where len(keys) > 0 group by keys order by min(line_no)
    """


# --- Parquet ----------------------------------------------------------------------


def parquet_schema(path: str) -> str:
    return f"describe select * from read_parquet({file_path(path)})"


# --- committing -------------------------------------------------------------------


def insert_loaded(
    table: str, targets: Sequence[str], metadata: Sequence[str], loaded_at: str, source_file: str
) -> str:
    """Insert the good staged rows into raw.<table> with their load metadata.

    The staging table is in file order and DuckDB preserves insertion order, so
    rows land in file order without a sort.
    """
    names = ", ".join(ident(n) for n in [*targets, *metadata])
    typed = "".join(f"t_{i}, " for i in range(1, len(targets) + 1))
    return f"""
        insert into raw.{ident(table)} ({names})
        select {typed}timestamp {literal(loaded_at)}, {literal(source_file)}, line_no
        from {STAGED} where reason is null
    """


def insert_rejects(table: str, rejects_table: str, loaded_at: str, source_file: str) -> str:
    return f"""
        insert into raw.{ident(rejects_table)}
        select {literal(table)}, {literal(source_file)}, line_no, reason, raw_record,
               timestamp {literal(loaded_at)}
        from {STAGED} where reason is not null
    """


def staged_good() -> str:
    """Rows that land (no reject reason)."""
    return f"select count(*) from {STAGED} where reason is null"


def staged_counts() -> str:
    """Rows in and rows rejected."""
    return f"select count(*), count(reason) from {STAGED}"
