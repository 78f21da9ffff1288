"""The SQL of `costlab analyze`: column aliases, row validation (bad-row reasons) and per-row cost, on DuckDB.

Every source (JSONL lines, CSV/SQLite/Parquet columns) is first mapped to the same VARCHAR columns (``FIELDS``),
then validated by one CASE expression that names the first thing wrong with a row (same reasons as before:
"missing model", "negative input tokens", "unparseable ts", ...). Rows with a reason are counted, never dropped.
"""

from __future__ import annotations

from typing import Iterable

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    # costlab gateway ledger / generic logs first, then LiteLLM spend logs (startTime, spend, user, cache_hit),
    # OpenAI's usage export (start_time, input_cached_tokens, num_model_requests, project_id) and Langfuse
    # observations (startTime, usageDetails.*, usage.*, costDetails.total, calculatedTotalCost, latency in s).
    "ts": ("ts", "timestamp", "time", "created_at", "created", "startTime", "start_time", "start_time_iso"),
    "model": ("model", "model_name", "served_model", "upstream_model", "model_group"),
    "tenant": (
        "tenant",
        "user",
        "team",
        "api_key_name",
        "customer",
        "user_id",
        "userId",
        "team_id",
        "project_id",
        "end_user",
    ),
    "input_tokens": (
        "prompt_tokens",
        "input_tokens",
        "tokens_in",
        "promptTokens",
        "usage.prompt_tokens",
        "usage.input_tokens",
        "usageDetails.input",
        "usage.input",
    ),
    "output_tokens": (
        "completion_tokens",
        "output_tokens",
        "tokens_out",
        "completionTokens",
        "usage.completion_tokens",
        "usage.output_tokens",
        "usageDetails.output",
        "usage.output",
    ),
    "cached_tokens": (
        "cached_tokens",
        "cache_read_tokens",
        "cached_input_tokens",
        "input_cached_tokens",
        "cache_read_input_tokens",
        "usage.prompt_tokens_details.cached_tokens",
        "usage.cached_tokens",
        "usageDetails.input_cached_tokens",
    ),
    "cached": ("cached", "cache_hit"),
    "cost_usd": ("cost_usd", "cost", "spend", "costDetails.total", "calculatedTotalCost", "totalPrice"),
    "latency_ms": ("latency_ms",),
    "latency": ("latency",),  # ms, except in Langfuse observations (a traceId is present): seconds
    "trace_id": ("traceId",),
    "prompt": ("prompt", "messages", "input"),
    "batch": ("batch",),
    "task_class": ("task_class", "route", "task"),
    "status": ("status",),
    "n_requests": ("num_model_requests", "n_requests"),  # an export row that sums several requests
}
FIELDS = tuple(FIELD_ALIASES)
MAX_TOKENS_PER_ROW = 10_000_000  # more than any context window: a corrupt number
MAX_TOKENS_PER_EXPORT_ROW = 10**13  # an export row sums many requests
MAX_COST_PER_ROW = 10_000.0  # USD for one request: a unit mistake
MAX_LATENCY_MS = 86_400_000.0
TRUE = ("1", "true", "yes", "y", "t", "hit", "exact", "semantic")
FALSE = ("0", "false", "no", "n", "f", "miss", "none", "")


EMPTY = "''"


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


UNREADABLE = "unreadable line"  # not JSON / not an object / not UTF-8 / no known column: the detail says which


def json_select() -> str:
    """SELECT over a batch (_line, line) of JSON text → _line, _pre (parse reason), FIELDS as VARCHAR."""
    paths, slots = [], {}
    for f, aliases in FIELD_ALIASES.items():
        slots[f] = []
        for a in aliases:
            paths.append("$." + ".".join(f'"{p}"' for p in a.split(".")))
            slots[f].append(len(paths))
    cols = ", ".join(f"coalesce({', '.join(f'nullif(x[{i}], {EMPTY})' for i in ix)}) AS {f}" for f, ix in slots.items())
    plist = "[" + ", ".join(_q(p) for p in paths) + "]"
    return (
        f"SELECT _line, CASE WHEN _why IS NOT NULL THEN '{UNREADABLE}' END AS _pre, "
        f"_why || ': ' || left(rtrim(line, chr(10) || chr(13)), 40) AS _pre_detail, {cols} "
        f"FROM (SELECT _line, line, CASE WHEN NOT json_valid(line) THEN 'malformed JSON' "
        f"WHEN ltrim(line)[1] <> '{{' THEN 'not a JSON object' END AS _why, "
        f"CASE WHEN _why IS NULL THEN json_extract_string(line, {plist}) END AS x FROM b "
        f"WHERE trim(line, ' \t\r\n') <> '')"
    )


def native_select(path: str) -> str:
    """SELECT straight over a JSONL file with DuckDB's parallel reader (no line numbers: ``_line`` is NULL).

    Same field rule as ``json_select`` (first non-empty alias, no trimming). A line that is not JSON, not an object
    or not UTF-8 reads as all-NULL, so CHECKS counts it as UNREADABLE ("no known column"); the ordered examples
    pass (block reader) then names the exact cause. Nothing here is computed for every alias of every row: each
    field is one lazy ``coalesce`` (a per-alias ``trim`` was hoisted by DuckDB's common-subexpression pass and
    ran on all 60 columns: 3.5 s of a 6.7 s query at 1M rows)."""
    top = dict.fromkeys(a.split(".")[0] for aliases in FIELD_ALIASES.values() for a in aliases)
    spec = "{" + ", ".join(f"{_q(k)}: 'VARCHAR'" for k in top) + "}"
    out = []
    for f, aliases in FIELD_ALIASES.items():
        parts = []
        for a in aliases:
            head, _, rest = a.partition(".")
            parts.append(
                f"nullif(json_extract_string({_ident(head)}, {_q('$.' + rest)}), {EMPTY})"
                if rest
                else f"nullif({_ident(head)}, {EMPTY})"
            )
        out.append(f"{parts[0] if len(parts) == 1 else f'coalesce({chr(44).join(parts)})'} AS {f}")
    return (
        f"SELECT NULL::BIGINT AS _line, NULL::VARCHAR AS _pre, NULL::VARCHAR AS _pre_detail, {', '.join(out)} "
        f"FROM read_json({_q(path)}, format = 'newline_delimited', columns = {spec}, ignore_errors = true, "
        f"maximum_object_size = 16777216)"
    )


def table_select(columns: Iterable[str], source: str = "b") -> str:
    """SELECT over a table with these column names → _line, _pre, FIELDS (first non-empty alias per field)."""
    have = set(columns)
    out = []
    for f, aliases in FIELD_ALIASES.items():
        present = [a for a in aliases if a in have]
        if present:
            out.append(
                f"coalesce({', '.join(f'nullif(trim(CAST({_ident(a)} AS VARCHAR)), {EMPTY})' for a in present)}) AS {f}"
            )
        else:
            out.append(f"NULL::VARCHAR AS {f}")
    return f"SELECT _line, NULL::VARCHAR AS _pre, NULL::VARCHAR AS _pre_detail, {', '.join(out)} FROM {source}"


def _int_checks(col: str, name: str, required: bool, hi: str) -> list[tuple[str, str, str]]:
    d = f"d_{col}"
    checks = [(f"{col} IS NULL", f"missing {name}", "NULL")] if required else []
    return checks + [
        (
            f"{col} IS NOT NULL AND ({d} IS NULL OR NOT isfinite({d}) OR {d} <> floor({d}))",
            f"bad {name}",
            f"left({col}, 40)",
        ),
        (f"{d} < 0", f"negative {name}", col),
        (f"{d} > {hi}", f"absurd {name}", col),
    ]


def _float_checks(col: str, name: str, hi: float) -> list[tuple[str, str, str]]:
    d = f"d_{col}"
    return [
        (f"{col} IS NOT NULL AND ({d} IS NULL OR NOT isfinite({d}))", f"bad {name}", f"left({col}, 40)"),
        (f"{d} < 0", f"negative {name}", col),
        (f"{d} > {hi}", f"absurd {name}", col),
    ]


def _bool_checks(col: str, name: str) -> list[tuple[str, str, str]]:
    ok = ", ".join(_q(v) for v in TRUE + FALSE)
    return [(f"{col} IS NOT NULL AND lower(trim({col})) NOT IN ({ok})", f"bad {name}", f"left({col}, 40)")]


CHECKS: list[tuple[str, str, str]] = (
    [
        (" AND ".join(f"{f} IS NULL" for f in FIELDS), UNREADABLE, "'valid JSON object with no known column'"),
        ("model IS NULL", "missing model", "NULL"),
    ]
    + [
        (
            "d_n_requests IS NOT NULL AND (d_n_requests < 1 OR d_n_requests <> floor(d_n_requests))",
            "bad num_model_requests",
            "n_requests",
        ),
        ("n_requests IS NOT NULL AND d_n_requests IS NULL", "bad num_model_requests", "left(n_requests, 40)"),
    ]
    + _int_checks("input_tokens", "input tokens", True, "tok_hi")
    + _int_checks("output_tokens", "output tokens", True, "tok_hi")
    + _int_checks("cached_tokens", "cached tokens", False, "tok_hi")
    + [("d_cached_tokens > d_input_tokens", "cached tokens > input tokens", "cached_tokens || ' > ' || input_tokens")]
    + _bool_checks("cached", "cached")
    + _bool_checks("batch", "batch")
    + _float_checks("cost_usd", "cost_usd", MAX_COST_PER_ROW)
    + _float_checks("latency_ms", "latency_ms", MAX_LATENCY_MS)
    + _float_checks("latency", "latency_ms", MAX_LATENCY_MS)
    + [("ts IS NOT NULL AND ts_utc IS NULL", "unparseable ts", "left(ts, 40)")]
)


def _good_sql() -> str:
    """A cheap predicate that implies "no CHECKS reason" (it never lets a bad row through: a row it rejects goes on
    to the full CASE, which may still find nothing wrong). Most rows are good, so most rows never see the ~30 CHECKS.
    Comparisons reject NaN (DuckDB orders NaN above +inf) and the casts' NULLs."""
    tok = MAX_TOKENS_PER_ROW
    ints = " AND ".join(
        f"d_{c} BETWEEN 0 AND {tok} AND d_{c} = floor(d_{c})" for c in ("input_tokens", "output_tokens")
    )
    flags = "('true', 'false')"  # a JSON boolean read as VARCHAR
    return (
        f"_pre IS NULL AND model IS NOT NULL AND n_requests IS NULL AND {ints} "
        f"AND (cached_tokens IS NULL OR (d_cached_tokens BETWEEN 0 AND d_input_tokens "
        f"AND d_cached_tokens = floor(d_cached_tokens))) "
        f"AND (cached IS NULL OR cached IN {flags}) AND (batch IS NULL OR batch IN {flags}) "
        f"AND (cost_usd IS NULL OR d_cost_usd BETWEEN 0 AND {MAX_COST_PER_ROW}) "
        f"AND (latency_ms IS NULL OR d_latency_ms BETWEEN 0 AND {MAX_LATENCY_MS}) "
        f"AND (latency IS NULL OR d_latency BETWEEN 0 AND {MAX_LATENCY_MS}) "
        f"AND (ts IS NULL OR ts_utc IS NOT NULL)"
    )


# ISO-8601 UTC with a Z, the commonest log timestamp: one strptime instead of the general CASE below
TS_FAST = "try_strptime(ts, '%Y-%m-%dT%H:%M:%SZ')"
TS_GENERAL = """CASE WHEN ts IS NULL THEN NULL
         WHEN TRY_CAST(ts AS DOUBLE) IS NOT NULL THEN
           CASE WHEN TRY_CAST(ts AS DOUBLE) >= 0 AND TRY_CAST(ts AS DOUBLE) < 1e14 THEN
             to_timestamp(CASE WHEN TRY_CAST(ts AS DOUBLE) > 1e11 THEN TRY_CAST(ts AS DOUBLE) / 1000
                          ELSE TRY_CAST(ts AS DOUBLE) END)::TIMESTAMP END
         WHEN ts[-1] = 'Z' OR length(ts) < 22 OR ts[-6] NOT IN ('+', '-') OR ts[-3] <> ':'
           THEN TRY_CAST(rtrim(ts, 'Z') AS TIMESTAMP)
         ELSE TRY_CAST(ts[:-7] AS TIMESTAMP)
              - to_minutes((CASE WHEN ts[-6] = '-' THEN -1 ELSE 1 END)
                           * (TRY_CAST(ts[-5:-4] AS INTEGER) * 60 + TRY_CAST(ts[-2:] AS INTEGER)))
    END"""


def validate_sql(source: str = "c") -> str:
    """Typed columns + ``_reason``/``_detail`` (NULL for a good row) over a relation with FIELDS as VARCHAR.

    One vectorised pass: TRY_CAST each number once; ``_good_sql()`` clears the typical row with a dozen
    comparisons; only the rows it rejects run the CASE chain of CHECKS that names the first failing reason (and
    its detail). ``hour`` is an hour-truncated TIMESTAMP (formatted after aggregation, not per row)."""
    nums = ["input_tokens", "output_tokens", "cached_tokens", "cost_usd", "latency_ms", "latency", "n_requests"]
    casts = ", ".join(f"TRY_CAST({c} AS DOUBLE) AS d_{c}" for c in nums)
    reason = " ".join(f"WHEN {cond} THEN {_q(r)}" for cond, r, _ in CHECKS)
    detail = " ".join(f"WHEN {cond} THEN CAST({d} AS VARCHAR)" for cond, _, d in CHECKS)
    truthy = ", ".join(_q(v) for v in TRUE)
    return f"""
SELECT _line, _reason,
  CASE WHEN _pre IS NOT NULL THEN _pre_detail WHEN _reason IS NOT NULL THEN CASE {detail} END END AS _detail,
  model, coalesce(tenant, '(none)') AS tenant, task_class, status,
  CASE WHEN strlen(prompt) <= 200 THEN prompt ELSE left(prompt, 200) END AS prompt,
  CASE WHEN prompt IS NOT NULL THEN hash(prompt) END AS ph, CASE WHEN strlen(ts) <= 40 THEN ts ELSE left(ts, 40) END AS ts_raw,
  date_trunc('hour', ts_utc) AS hour,
  CAST(coalesce(d_n_requests, 1) AS BIGINT) AS n,
  d_input_tokens AS tin, d_output_tokens AS tout, coalesce(d_cached_tokens, 0) AS ctok,
  CASE WHEN cached IS NULL OR cached = 'false' THEN false WHEN cached = 'true' THEN true
       ELSE coalesce(lower(trim(cached)) IN ({truthy}), false) END AS hit,
  CASE WHEN cached IS NULL OR cached IN ('true', 'false') THEN 'hit'
       WHEN lower(trim(cached)) IN ('exact', 'semantic') THEN lower(trim(cached)) ELSE 'hit' END AS cache_kind,
  CASE WHEN batch IS NULL OR batch = 'false' THEN false WHEN batch = 'true' THEN true
       ELSE coalesce(lower(trim(batch)) IN ({truthy}), false) END AS is_batch,
  d_cost_usd AS logged,
  coalesce(d_latency_ms, CASE WHEN trace_id IS NOT NULL THEN d_latency * 1000 ELSE d_latency END) AS lat
FROM (SELECT *, CASE WHEN {_good_sql()} THEN NULL ELSE coalesce(_pre, CASE {reason} END) END AS _reason FROM (
  SELECT *, {casts},
    CASE WHEN n_requests IS NULL THEN {MAX_TOKENS_PER_ROW} ELSE {MAX_TOKENS_PER_EXPORT_ROW} END AS tok_hi,
    coalesce({TS_FAST}, {TS_GENERAL}) AS ts_utc
  FROM {source}))
"""


def cost_sql(source: str = "t", line: str | None = None) -> str:
    """Join the validated rows with the ``prices`` table (one row per model name seen) → cost, savings, and the
    price-dependent bad-row reasons. ``line``: the fast path's table, which has no ``_line`` and no ``_detail``
    (two columns that were all NULL there: writing them cost ~0.4 CPU s at 1M rows); this expression (its rowid)
    is ``_line``, and its examples' details come from re-reading their lines."""
    list_cost = (
        "(((tin - CASE WHEN p.cached_input IS NULL THEN 0 ELSE least(ctok, tin) END) * p.input"
        " + CASE WHEN p.cached_input IS NULL THEN 0 ELSE least(ctok, tin) * p.cached_input END"
        " + tout * p.output) / 1e6 * CASE WHEN is_batch THEN 1 - coalesce(p.batch_discount, 0) ELSE 1 END)"
    )
    return f"""
SELECT t.*{f", {line} AS _line, NULL::VARCHAR AS _detail" if line else ""},
  coalesce(_reason, CASE
    WHEN p.input IS NOT NULL AND is_batch AND p.batch_discount IS NULL THEN 'batch row on a model without Batch API price'
    WHEN logged IS NULL AND p.input IS NULL AND p.kind IS NOT NULL THEN 'self-hosted model without cost_usd'
    WHEN logged IS NULL AND p.input IS NULL THEN 'unknown model without cost_usd' END) AS reason,
  coalesce(_detail, CASE
    WHEN p.input IS NOT NULL AND is_batch AND p.batch_discount IS NULL THEN t.model
    WHEN logged IS NULL AND p.input IS NULL AND p.kind IS NOT NULL THEN t.model
    WHEN logged IS NULL AND p.input IS NULL THEN t.model || '; ' || p.near END) AS detail,
  p.input IS NOT NULL AS priced,
  coalesce(logged, CASE WHEN hit THEN 0.0 ELSE {list_cost} END) AS cost,
  CASE WHEN logged IS NOT NULL THEN 'logged' ELSE 'repriced' END AS cost_source,
  CASE WHEN hit THEN coalesce({list_cost}, 0.0)
       WHEN ctok > 0 AND p.cached_input IS NOT NULL THEN ctok * (p.input - p.cached_input) / 1e6
            * (1 - coalesce(p.batch_discount, 0) * is_batch::INTEGER)
       ELSE 0.0 END AS saved
FROM {source} t LEFT JOIN prices p ON p.model = t.model
"""


# the NB bucket sums (see costlab.cost.analyze), per distinct combination of the report's dimensions
BUCKET_AGGS = (
    "count(*) AS rows_, sum(n) AS b0, sum(tin) AS b1, sum(tout) AS b2, sum(ctok) AS b3, sum(cost) AS b4, "
    "sum(lat) AS b5, count(lat) AS b6, sum(CASE WHEN hit THEN n ELSE 0 END) AS b7, sum(saved) AS b8, "
    "sum(tin) FILTER (WHERE NOT hit) AS b9, sum(tout) FILTER (WHERE NOT hit) AS b10, "
    "sum(ctok) FILTER (WHERE NOT hit) AS b11, sum(cost) FILTER (WHERE NOT hit) AS b12"
)
# costlab.cost.analyze sums validated rows before pricing them: PRE_AGGS per group of rows, PRE_AGGS_AS_ROW names
# those sums as the row columns cost_sql reads (a group is priced like one row), BUCKET_AGGS_OF_GROUPS is BUCKET_AGGS
# over such priced groups (a group's row count and latency count are summed, not counted)
PRE_AGGS = (
    "count(*) AS g_rows, sum(n) AS g_n, sum(tin) AS g_tin, sum(tout) AS g_tout, sum(ctok) AS g_ctok, "
    "sum(logged) AS g_logged, sum(lat) AS g_lat, count(lat) AS g_nlat"
)
PRE_AGGS_AS_ROW = (
    "g_n AS n, g_tin AS tin, g_tout AS tout, g_ctok AS ctok, g_logged AS logged, g_lat AS lat, "
    "NULL::VARCHAR AS _reason, NULL::VARCHAR AS _detail"
)
BUCKET_AGGS_OF_GROUPS = BUCKET_AGGS.replace("count(*) AS rows_", "sum(g_rows) AS rows_").replace(
    "count(lat) AS b6", "sum(g_nlat) AS b6"
)  # tests/cost/test_cost_analyze.py checks that both replacements matched
